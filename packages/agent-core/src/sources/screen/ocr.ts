import path from 'node:path';
import { createWorker, OEM, type Worker } from 'tesseract.js';

/**
 * Tesseract (WASM) in a worker thread, with English language data from the
 * @tesseract.js-data/eng package: nothing is downloaded at run time. The WASM heap only grows,
 * so the worker is replaced after `recycleAfter` jobs.
 */
export class Ocr {
  private worker: Promise<Worker> | null = null;
  private jobs = 0;

  constructor(private readonly recycleAfter = 200) {}

  async read(image: Buffer): Promise<string> {
    if (this.jobs >= this.recycleAfter) await this.close();
    this.worker ??= Ocr.start();
    this.jobs++;
    const { data } = await (await this.worker).recognize(image);
    return data.text;
  }

  /** Jobs done by the current worker. */
  get used(): number {
    return this.jobs;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.jobs = 0;
    if (w) await (await w).terminate();
  }

  private static start(): Promise<Worker> {
    const langPath = path.join(path.dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int');
    return createWorker('eng', OEM.LSTM_ONLY, { langPath, gzip: true, cacheMethod: 'none' });
  }
}
