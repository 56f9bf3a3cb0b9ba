import path from 'node:path';
import { createWorker, OEM, type Block, type Worker } from 'tesseract.js';

/** Tesseract's word confidence (0–100) below which a word is not trusted as context. */
export const MIN_WORD_CONFIDENCE = 70;

/** A stretch of `text` (UTF-16 offsets, end exclusive). */
export type TextSpan = { start: number; end: number };

/**
 * A screen's text with where OCR was unsure: `unsure` holds the words recognised below the
 * confidence threshold, so evidence can leave them out of the context (they are mostly
 * misread icons, borders and small print: "x Fowi Eo fie & Roose") while the scorer still
 * sees every word.
 */
export type OcrText = { text: string; unsure: TextSpan[] };

/**
 * The recognised words laid out as text (a space between words, a newline between lines, a
 * blank line between paragraphs), with the offsets of the low-confidence ones.
 */
export function layoutWords(blocks: readonly Block[] | null, minConfidence = MIN_WORD_CONFIDENCE): OcrText {
  let text = '';
  const unsure: TextSpan[] = [];
  for (const block of blocks ?? []) {
    for (const paragraph of block.paragraphs) {
      if (text && !text.endsWith('\n\n')) text += text.endsWith('\n') ? '\n' : '\n\n';
      for (const line of paragraph.lines) {
        let first = true;
        for (const word of line.words) {
          const w = word.text.trim();
          if (!w) continue;
          if (!first) text += ' ';
          first = false;
          if (word.confidence < minConfidence) unsure.push({ start: text.length, end: text.length + w.length });
          text += w;
        }
        if (!first) text += '\n';
      }
    }
  }
  return { text, unsure };
}

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

  /** The text with per-word confidence (see OcrText). */
  async readWords(image: Buffer, minConfidence = MIN_WORD_CONFIDENCE): Promise<OcrText> {
    if (this.jobs >= this.recycleAfter) await this.close();
    this.worker ??= Ocr.start();
    this.jobs++;
    const { data } = await (await this.worker).recognize(image, {}, { blocks: true, text: true });
    return layoutWords(data.blocks, minConfidence);
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
