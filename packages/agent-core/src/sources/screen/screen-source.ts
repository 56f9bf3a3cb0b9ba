import { createHash } from 'node:crypto';
import type { OcrLanguage } from '@haven/protocol';
import { platformCapture, type Capture } from './capture';
import { Ocr, type TextSpan } from './ocr';

/** A screen's text; `unsure` marks the words OCR recognised with low confidence. */
export type ScreenText = { text: string; unsure: TextSpan[]; at: Date; ms: number };

export type ScreenSourceOptions = {
  onText: (screen: ScreenText) => void;
  onError?: (err: Error) => void;
  /** Seconds between periodic captures. */
  intervalSeconds?: number;
  /**
   * CPU budget: after an OCR that took d ms, the next one waits at least d × this factor,
   * so OCR stays near 1 / factor of one core however dense the screens are.
   */
  budgetFactor?: number;
  capture?: Capture;
  ocr?: Ocr;
  /** The languages to read in, asked before each OCR (the school's policy); default English. */
  languages?: () => readonly OcrLanguage[] | undefined;
  display?: string;
};

/**
 * The screen source: a screenshot of the active window's contents (not its title bar, which
 * the title source reports) on window change and at most every N seconds, skipped when the
 * image has not changed, read by OCR. Runner: start() / stop(). The text goes to the
 * scorer at once; screenshots are never written to disk.
 */
export class ScreenSource {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private lastHash = '';
  private notBefore = 0;
  private pending = false;
  private running = false;
  private readonly capture: Capture;
  private readonly ocr: Ocr;
  readonly stats = { captures: 0, unchanged: 0, ocrRuns: 0, ocrMs: [] as number[] };

  constructor(private readonly options: ScreenSourceOptions) {
    this.capture = options.capture ?? platformCapture(options.display);
    this.ocr = options.ocr ?? new Ocr();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.timer = setInterval(() => void this.shoot(), (this.options.intervalSeconds ?? 10) * 1000);
    this.timer.unref();
    void this.shoot();
  }

  /** The window changed: capture soon (as soon as the CPU budget allows). */
  windowChanged(): void {
    if (!this.running) return;
    void this.shoot();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ocr.close();
  }

  private async shoot(): Promise<void> {
    if (this.busy) {
      this.pending = true; // one more capture once this one is done
      return;
    }
    const wait = this.notBefore - Date.now();
    if (wait > 0) {
      if (!this.pending) {
        this.pending = true;
        setTimeout(() => {
          this.pending = false;
          void this.shoot();
        }, wait).unref();
      }
      return;
    }
    this.busy = true;
    try {
      const languages = this.options.languages?.();
      if (languages && languages.join('+') !== this.ocr.languages.join('+')) {
        // The policy chose other languages: a new worker, and the screen is read again in them.
        await this.ocr.setLanguages(languages);
        this.lastHash = '';
      }
      const image = await this.capture();
      this.stats.captures++;
      const hash = createHash('sha1').update(image).digest('hex');
      if (hash === this.lastHash) {
        this.stats.unchanged++;
        return;
      }
      this.lastHash = hash;
      const t0 = Date.now();
      const { text, unsure } = await this.ocr.readWords(image);
      const ms = Date.now() - t0;
      this.stats.ocrRuns++;
      this.stats.ocrMs.push(ms);
      if (this.stats.ocrMs.length > 1000) this.stats.ocrMs.shift();
      this.notBefore = Date.now() + ms * (this.options.budgetFactor ?? 10);
      if (this.running && text.trim()) this.options.onText({ text, unsure, at: new Date(), ms });
    } catch (err) {
      this.options.onError?.(err as Error);
    } finally {
      this.busy = false;
      if (this.pending && this.running) {
        this.pending = false;
        void this.shoot();
      }
    }
  }
}
