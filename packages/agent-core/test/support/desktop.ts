import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A real X desktop for the agent's tests: Xvfb (an X server in memory), openbox (a window
 * manager, which is what sets the active window), xterm windows with titles, and xdotool to
 * type real key events. Install with `apt-get install xvfb openbox x11-utils xdotool xterm`.
 */
export class Desktop {
  private readonly children: ChildProcess[] = [];

  private constructor(readonly display: string) {}

  static async start(): Promise<Desktop> {
    for (const tool of ['Xvfb', 'openbox', 'xdotool', 'xterm', 'xprop']) {
      if (!['/usr/bin', '/bin', '/usr/local/bin'].some((d) => existsSync(`${d}/${tool}`))) {
        throw new Error(`${tool} is not installed: apt-get install xvfb openbox x11-utils xdotool xterm`);
      }
    }
    let n = 90 + (process.pid % 50);
    while (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) n++;
    const desktop = new Desktop(`:${n}`);
    desktop.spawn('Xvfb', [desktop.display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp']);
    await waitFor(() => existsSync(`/tmp/.X11-unix/X${n}`), 10_000, 'Xvfb did not start');
    desktop.spawn('openbox', []);
    await waitFor(async () => (await desktop.x('xprop', ['-root', '_NET_SUPPORTING_WM_CHECK'])).includes('window id'), 10_000, 'openbox did not start');
    return desktop;
  }

  /**
   * Opens an xterm with this title and waits until it is the active window. With `show`, the
   * window displays that text in a readable font (DejaVu Sans Mono 16) instead of a shell.
   */
  async openWindow(title: string, show?: string): Promise<void> {
    const args = ['-T', title];
    if (show !== undefined) args.push('-fa', 'DejaVu Sans Mono', '-fs', '16', '-e', 'sh', '-c', 'printf "%s\\n" "$0"; sleep 600', show);
    this.spawn('xterm', args);
    await waitFor(async () => (await this.x('xdotool', ['getactivewindow', 'getwindowname']).catch(() => '')).trim() === title, 10_000, `window "${title}" did not become active`);
  }

  /** Types text as real key events into the active window. */
  async type(text: string, delayMs = 20): Promise<void> {
    await this.x('xdotool', ['type', '--delay', String(delayMs), text]);
  }

  async key(name: string): Promise<void> {
    await this.x('xdotool', ['key', name]);
  }

  async x(cmd: string, args: string[]): Promise<string> {
    const { stdout } = await run(cmd, args, { env: { ...process.env, DISPLAY: this.display } });
    return stdout;
  }

  private spawn(cmd: string, args: string[]): void {
    const child = spawn(cmd, args, { env: { ...process.env, DISPLAY: this.display }, stdio: 'ignore' });
    child.on('error', () => undefined);
    this.children.push(child);
  }

  async stop(): Promise<void> {
    for (const c of this.children.reverse()) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(message);
    await new Promise((r) => setTimeout(r, 100));
  }
}
