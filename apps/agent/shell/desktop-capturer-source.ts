/**
 * The 'screen' source on Windows and macOS: the primary screen through Electron's
 * desktopCapturer, read by agent-core's OCR. Only the calls into Electron are here; the size,
 * the choice of screen, the macOS permission check, the schedule and the change detection are
 * in src/shell/desktop-screen.ts (plain Node, tested). The screenshot is never written to disk.
 *
 * Must be used in the Electron main process after `app` is ready (the `screen` module needs it).
 */
import { desktopCapturer, screen, systemPreferences } from 'electron';
import { capturedScreenSource, checkThumbnail, desktopScreenAvailable, primaryScreen, thumbnailSize } from '../src/shell/desktop-screen';
import type { Source } from '@haven/agent-core';

/** PNG bytes of the primary screen now. */
export async function capturePrimaryScreen(): Promise<Buffer> {
  const display = screen.getPrimaryDisplay();
  const sources = await desktopCapturer.getSources({ types: ['screen'], thumbnailSize: thumbnailSize(display), fetchWindowIcons: false });
  const chosen = primaryScreen(sources, display.id);
  if (!chosen) throw new Error('no screen to capture');
  const size = chosen.thumbnail.getSize();
  const problem = checkThumbnail({ empty: chosen.thumbnail.isEmpty(), width: size.width, height: size.height });
  if (problem) throw problem;
  return chosen.thumbnail.toPNG();
}

export function desktopCapturerSource(options: { intervalSeconds?: number } = {}): Source {
  return capturedScreenSource({
    capture: capturePrimaryScreen,
    available: () => desktopScreenAvailable(process.platform, process.platform === 'darwin' ? systemPreferences.getMediaAccessStatus('screen') : null),
    intervalSeconds: options.intervalSeconds,
  });
}
