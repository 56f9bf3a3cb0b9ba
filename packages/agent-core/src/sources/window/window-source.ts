import { activeWindow as defaultActiveWindow, type ActiveWindow } from './active-window';

export type WindowSourceOptions = {
  /** Called when the foreground window's title or application changes (null: no window). */
  onChange: (window: ActiveWindow | null) => void;
  /** Called when reading the window fails; the source keeps polling. */
  onError?: (err: Error) => void;
  intervalMs?: number;
  read?: () => Promise<ActiveWindow | null>;
};

/** The window source: polls the foreground window about once a second and reports changes. Runner: start() / stop(). */
export class WindowSource {
  private timer: NodeJS.Timeout | null = null;
  private last: string | null = null;
  private busy = false;
  private failures = 0;

  constructor(private readonly options: WindowSourceOptions) {}

  /** Consecutive failed reads; 0 when the last read worked. */
  get failing(): number {
    return this.failures;
  }

  start(): void {
    if (this.timer) return;
    const read = this.options.read ?? defaultActiveWindow;
    const poll = async () => {
      if (this.busy) return; // a slow read is not stacked up behind itself
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
      }
    };
    void poll();
    this.timer = setInterval(() => void poll(), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
