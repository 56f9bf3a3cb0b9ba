import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Change notifications from the X server, so the window source does not have to start
 * processes every second: `xprop -spy` on the root window's _NET_ACTIVE_WINDOW, and on the
 * active window's title (_NET_WM_NAME, WM_NAME), prints a line whenever either changes. The
 * window itself is still read with get-windows when told to.
 */
export type X11Watch = { stop(): void };

export function watchX11(onChange: () => void, onError: (err: Error) => void): X11Watch {
  let titleSpy: ChildProcess | null = null;
  let activeId = '';
  let stopped = false;

  const spy = (args: string[], onLine: (line: string) => void): ChildProcess => {
    const child = spawn('xprop', ['-spy', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    createInterface({ input: child.stdout! }).on('line', onLine);
    child.on('error', (err) => onError(err));
    return child;
  };

  const root = spy(['-root', '_NET_ACTIVE_WINDOW'], (line) => {
    const id = /window id # (0x[0-9a-f]+)/i.exec(line)?.[1] ?? '';
    if (id !== activeId) {
      activeId = id;
      titleSpy?.kill();
      titleSpy = id && id !== '0x0' ? spy(['-id', id, '_NET_WM_NAME', 'WM_NAME'], () => onChange()) : null;
    }
    onChange();
  });
  root.on('exit', (code) => {
    if (!stopped) onError(new Error(`xprop -spy stopped (${code ?? 'signal'})`));
  });

  return {
    stop() {
      stopped = true;
      root.kill();
      titleSpy?.kill();
    },
  };
}
