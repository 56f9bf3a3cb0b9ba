import { activeWindow as defaultActiveWindow, type ActiveWindow } from './active-window';
import { watchX11, type X11Watch } from './x11-watch';

export type WindowSourceOptions = {
  /** Called when the foreground window's title or application changes (null: no window). */
  onChange: (window: ActiveWindow | null) => void;
  /** Called when reading the window fails; the source keeps polling. */
  onError?: (err: Error) => void;
  /** Poll interval; with X change notifications it is only a safety net (default 10 s, else 1 s). */
  intervalMs?: number;
  read?: () => Promise<ActiveWindow | null>;
  /** On Linux, read the window when the X server says it changed (default true when DISPLAY is set). */
  watchX11?: boolean;
};

/**
 * The window source: reads the foreground window (get-windows) and reports changes. On X11 it
 * reads when the X server announces a change of active window or title, with a slow poll as a
 * safety net; elsewhere it polls about once a second. Runner: start() / stop().
 */
export class WindowSource {
  private timer: NodeJS.Timeout | null = null;
  private last: string | null = null;
  private busy = false;
  private failures = 0;
  private x11: X11Watch | null = null;
  private again = false;

  constructor(private readonly options: WindowSourceOptions) {}

  /** Consecutive failed reads; 0 when the last read worked. */
  get failing(): number {
    return this.failures;
  }

  start(): void {
    if (this.timer) return;
    const read = this.options.read ?? defaultActiveWindow;
    const poll = async () => {
      if (this.busy) {
        this.again = true; // read once more when this read is done: a change may have come in between
        return;
      }
      this.busy = true;
      try {
        const w = await read();
        this.failures = 0;
        const key = w ? `${w.app}\u0000${w.title}` : '';
        if (key !== this.last) {
          this.last = key;
          this.options.onChange(w);
        }
      } catch (err) {
        this.failures++;
        this.options.onError?.(err as Error);
      } finally {
        this.busy = false;
        if (this.again) {
          this.again = false;
          void poll();
        }
      }
    };
    const watching = this.options.watchX11 ?? (process.platform === 'linux' && !!process.env.DISPLAY);
    if (watching) {
      this.x11 = watchX11(
        () => void poll(),
        (err) => this.options.onError?.(err),
      );
    }
    void poll();
    this.timer = setInterval(() => void poll(), this.options.intervalMs ?? (watching ? 10_000 : 1000));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.x11?.stop();
    this.x11 = null;
  }
}
