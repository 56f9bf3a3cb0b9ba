/**
 * The tray shell's Electron main entry: the per-user session part with a face. It starts a
 * CaptureSession (the sources, scoring on the device, the socket to the machine's service),
 * shows it through the shell, and stops it when the shell quits.
 *
 * On Windows and macOS the screen is read through desktopCapturer; on Linux through X11 (the
 * source agent-core picks). The shell holds no credential and is given no secret: the service
 * tells it the school's name and transparency link over the socket.
 */
import { CaptureSession, defaultSocketPath, defaultSources, type Logger } from '@haven/agent-core';
import { shellSources } from '../src/shell/desktop-screen';
import { sessionCore } from '../src/shell/session-adapter';
import { desktopCapturerSource } from './desktop-capturer-source';
import { startShell } from './main';

/** JSON lines on stderr: what happened, never what was captured. */
const log: Logger = (level, message, fields) => {
  process.stderr.write(JSON.stringify({ level, time: new Date().toISOString(), component: 'session', msg: message, ...fields }) + '\n');
};

startShell(() => {
  // Called once the app is ready and this process holds the single-instance lock.
  const session = new CaptureSession({
    socketPath: defaultSocketPath(),
    log,
    sources: shellSources(process.platform, defaultSources(), () => desktopCapturerSource()),
  });
  session.start();
  return sessionCore(session);
});
