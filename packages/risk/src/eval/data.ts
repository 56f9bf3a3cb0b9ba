/**
 * Labelled rows for the evaluation: the authored and public sets in ../shared/eval and the
 * benign files of ../shared/train, each row tagged with its fixed split (see split.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { splitOf, type Split } from './split';

export type Expect = { category?: string; min?: number; accept?: string[]; max?: number };
export type Row = {
  id: string;
  text: string;
  kind: string;
  source: string;
  expect: Expect;
  tags?: string[];
  file: string;
  split: Split;
};

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
export const EVAL_DIR = process.env.HAVEN_EVAL_DIR ?? path.resolve(repoRoot, '..', 'shared', 'eval');
export const TRAIN_DIR = process.env.HAVEN_TRAIN_DIR ?? path.resolve(repoRoot, '..', 'shared', 'train');
/** Sets written in this package (from the coverage map), split the same way. */
export const OWN_DIR = path.resolve(__dirname, '..', '..', 'eval-data');

function readJsonl(file: string): unknown[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown);
}

/** Every labelled evaluation row (authored, own and public sets). */
export function loadEval(dir = EVAL_DIR): Row[] {
  if (!existsSync(dir)) throw new Error(`no evaluation data at ${dir} (set HAVEN_EVAL_DIR)`);
  const rows: Row[] = [];
  for (const d of [dir, OWN_DIR]) {
    if (!existsSync(d)) continue;
    for (const file of readdirSync(d).filter((f) => f.endsWith('.jsonl')).sort()) {
      for (const r of readJsonl(path.join(d, file)) as Array<Omit<Row, 'file' | 'split'>>) rows.push({ ...r, file, split: splitOf(r.id) });
    }
  }
  return rows;
}

/**
 * The train README's benign files (labels: []): everyday chat, tweets, assistant requests and
 * Wikipedia sentences, maths homework, set texts, safe prompts. Each file is read whole (the
 * scorer does ~150k short rows in seconds); ids are file:line so the split is fixed.
 */
export const BENIGN_FILES = ['goemotions', 'tweeteval_benign', 'clinc150', 'gsm8k', 'literature_gutenberg', 'xstest', 'advbench_alpaca', 'openai_moderation', 'toxigen_prompts'];

export function loadBenign(dir = TRAIN_DIR): Row[] {
  const rows: Row[] = [];
  if (!existsSync(dir)) return rows;
  for (const name of BENIGN_FILES) {
    const file = path.join(dir, `${name}.jsonl`);
    if (!existsSync(file)) continue;
    (readJsonl(file) as Array<{ text: string; labels: string[] }>).forEach((r, i) => {
      if (r.labels.length) return;
      const id = `${name}:${i}`;
      rows.push({ id, text: r.text, kind: 'typed', source: name, expect: { max: 1 }, file: `${name}.jsonl`, split: splitOf(id) });
    });
  }
  return rows;
}

/** Language tag of a multilingual row ("pl", "ur-Latn"), or null. */
export function languageOf(r: Row): string | null {
  for (const t of r.tags ?? []) if (/^[a-z]{2}(-Latn)?$/.test(t)) return t;
  return null;
}

/** Theme of an authored row: the tag after its kind tag (`["core", "<theme>"]`). */
export function themeOf(r: Row): string | null {
  const tags = r.tags ?? [];
  return tags.length > 1 ? tags[1]! : null;
}

/** Which part of a set a row belongs to: core, evasion, multilingual, negative (authored) or its public source. */
export function partOf(r: Row): string {
  const m = /-(core|evasion|multilingual|negative)$/.exec(r.source);
  return m ? m[1]! : r.source;
}

export const isHit = (r: Row, category: string | null, severity: number): boolean =>
  severity >= (r.expect.min ?? 1) && category !== null && (category === r.expect.category || (r.expect.accept ?? []).includes(category));
export const isFalseAlert = (r: Row, severity: number): boolean => severity > (r.expect.max ?? 0);
