import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { OcrLanguage } from '@haven/protocol';
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

/** The language data the agent reads: the `4.0.0_best_int` (LSTM only, integer) models. */
export const OCR_DATA_FOLDER = '4.0.0_best_int';

/** Where a language's packaged data is (`<code>.traineddata.gz` in @tesseract.js-data/<code>). */
export function languageDataFile(lang: OcrLanguage): string {
  const pkg = path.dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`));
  return path.join(pkg, OCR_DATA_FOLDER, `${lang}.traineddata.gz`);
}

/**
 * Tesseract.js takes one `langPath` for all its languages, and each language's data sits in
 * its own package. So a worker starts from a fresh private directory holding a link (or, where
 * links are not allowed, a copy) of each chosen language's file; once the worker has loaded
 * them into its own memory the directory is removed.
 */
async function startWorker(languages: readonly OcrLanguage[]): Promise<Worker> {
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-ocr-'));
  try {
    for (const lang of languages) {
      const from = languageDataFile(lang);
      const to = path.join(dir, `${lang}.traineddata.gz`);
      try {
        symlinkSync(from, to);
      } catch {
        copyFileSync(from, to); // Windows without the right to make symbolic links
      }
    }
    return await createWorker([...languages], OEM.LSTM_ONLY, { langPath: dir, gzip: true, cacheMethod: 'none' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Tesseract (WASM) in a worker thread, with language data from the @tesseract.js-data
 * packages: nothing is downloaded at run time. English unless told otherwise; `setLanguages`
 * replaces the worker when the school's policy chooses others. The WASM heap only grows, so
 * the worker is also replaced after `recycleAfter` jobs.
 */
export class Ocr {
  private worker: Promise<Worker> | null = null;
  private jobs = 0;
  private langs: OcrLanguage[];

  constructor(
    private readonly recycleAfter = 200,
    languages: readonly OcrLanguage[] = ['eng'],
  ) {
    this.langs = [...languages];
  }

  /** The languages the next read uses. */
  get languages(): readonly OcrLanguage[] {
    return this.langs;
  }

  /** Reads in these languages from now on (the worker is restarted if they differ). */
  async setLanguages(languages: readonly OcrLanguage[]): Promise<void> {
    const next = languages.length ? [...languages] : (['eng'] as OcrLanguage[]);
    if (next.join('+') === this.langs.join('+')) return;
    this.langs = next;
    await this.close();
  }

  async read(image: Buffer): Promise<string> {
    const { data } = await (await this.take()).recognize(image);
    return data.text;
  }

  /** The text with per-word confidence (see OcrText). */
  async readWords(image: Buffer, minConfidence = MIN_WORD_CONFIDENCE): Promise<OcrText> {
    const { data } = await (await this.take()).recognize(image, {}, { blocks: true, text: true });
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
    if (w) await (await w.catch(() => null))?.terminate();
  }

  private async take(): Promise<Worker> {
    if (this.jobs >= this.recycleAfter) await this.close();
    if (!this.worker) {
      const starting = startWorker(this.langs);
      // A worker that failed to start is not kept: the next read tries again.
      starting.catch(() => {
        if (this.worker === starting) this.worker = null;
      });
      this.worker = starting;
    }
    this.jobs++;
    return this.worker;
  }
}
