/**
 * The learned signal: multinomial logistic regression over hashed word and character features
 * (features.ts), trained by `npm run train -w @haven/risk` (src/model/train.ts) on Haven's own
 * training data. Weights are quantised to one byte per class (a scale per class) and held in one
 * dense array of 2^17 × columns bytes, read once; scoring is synchronous and pure.
 *
 * Files (packages/risk/model): `model.json` (classes, bias, scales, thresholds, provenance) and
 * `weights.bin` (sparse: per kept bucket a little-endian uint32 id then one int8 per column).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stem, tokenize, type Token } from '../normalise';
import { CATEGORY_PRIORITY, type Category } from '../taxonomy';
import { bigramId, charGramIds, GROUP, groupKind, HASH_BITS, MAX_WORDS, peopleNext, stemHash, tokenWord, unigramId } from './features';

/** Classes: the categories in priority order, then "none". */
export const CLASSES: readonly (Category | 'none')[] = [...CATEGORY_PRIORITY, 'none'];
const K = CLASSES.length;
const NONE = K - 1;
/** Weight columns: one per class, then one for "severe" (a concern a DSL would rate 4 or 5). */
export const COLS = K + 1;
const SEVERE = K;

export const MODEL_DIR = path.resolve(__dirname, '..', '..', 'model');

export type ModelMeta = {
  hashBits: number;
  classes: string[];
  bias: number[];
  /** Weight of class c = int8 × scales[c]. */
  scales: number[];
  /** Probability at or above which the signal reports its class at 2, and at 3. */
  threshold: number;
  high: number;
  /** Probability from which the model's agreement raises a lexicon match of 2 in its category to 3. */
  raise: number;
  /** With the class at `high` or more and P(severe) at this or more, the model reports 4. */
  severe: number;
  /** The most the model may report on its own, with no lexicon rule of its category. */
  aloneMax: number;
  /** What the model alone reports between `threshold` and `high` (1: logged, weekly digest). */
  lowSeverity: number;
  trainedOn: string;
};

/** The model's concern, its probability, and the probability that a DSL would rate it severe (4–5). */
export type Guess = { category: Category; probability: number; severe: number };

export type Prediction = Guess & {
  /** The word features that carried the prediction most (stemmed words and word pairs). */
  features: string[];
  /** UTF-16 offsets of the words those features came from: [start, end). */
  start: number;
  end: number;
};

/** Long texts count for less per feature, so a screen does not outweigh a phrase. */
export const lengthScale = (n: number): number => 1 / Math.sqrt(Math.max(1, n / 20));

/** Words whose summed weights are kept (most text is the same few thousand words); cleared when full. */
const CACHE_WORDS = 32768;

export class Model {
  readonly threshold: number;
  readonly high: number;
  readonly raise: number;
  readonly severe: number;
  readonly aloneMax: number;
  readonly lowSeverity: number;
  private readonly bias: Float64Array;
  private readonly scales: Float64Array;

  constructor(
    readonly meta: ModelMeta,
    /** Dense weights, bucket-major: weights[bucket × COLS + column]. */
    private readonly weights: Int8Array,
  ) {
    if (meta.hashBits !== HASH_BITS || meta.classes.join() !== CLASSES.join()) throw new Error('the learned model does not match this scorer (retrain with npm run train -w @haven/risk)');
    if (weights.length !== (1 << HASH_BITS) * COLS) throw new Error('the learned model has the wrong number of weights');
    this.bias = Float64Array.from(meta.bias);
    this.scales = Float64Array.from(meta.scales);
    this.threshold = meta.threshold;
    this.high = meta.high;
    this.raise = meta.raise;
    this.severe = meta.severe;
    this.aloneMax = meta.aloneMax;
    this.lowSeverity = meta.lowSeverity ?? 2;
  }

  // Per word: its stem, the weights of its unigram and character grams summed, and how many
  // features that was — so a text costs one lookup per word plus its word pairs.
  private readonly wordIndex = new Map<string, number>();
  private readonly wordSums = new Int32Array(CACHE_WORDS * COLS);
  private readonly wordCounts = new Int32Array(CACHE_WORDS);
  private readonly wordHashes = new Int32Array(CACHE_WORDS);
  private readonly wordKinds = new Uint8Array(CACHE_WORDS);
  private readonly scratch = new Int32Array(1024);
  private readonly sums = new Int32Array(COLS);
  private readonly z = new Float64Array(COLS);

  /** The cache slot of token i's word, as `modelWord` reads it (a group's name is the group class). */
  private slotOf(tokens: readonly Token[], i: number): number {
    const slot = this.word(tokenWord(tokens[i]!));
    const kind = this.wordKinds[slot]!;
    return kind === 0 || (kind === 2 && !peopleNext(tokens, i)) ? slot : this.word(GROUP);
  }

  private word(raw: string): number {
    const hit = this.wordIndex.get(raw);
    if (hit !== undefined) return hit;
    if (this.wordIndex.size >= CACHE_WORDS) {
      this.wordIndex.clear();
    }
    const slot = this.wordIndex.size;
    const h = stemHash(stem(raw));
    const ids = raw.length < 500 ? this.scratch : new Int32Array(2 * raw.length + 8);
    // A group's name has no features of its own, only its pairs (features.ts).
    let n = 0;
    if (raw !== GROUP) {
      ids[0] = unigramId(h);
      n = charGramIds(raw, ids, 1);
    }
    const base = slot * COLS;
    for (let c = 0; c < COLS; c++) this.wordSums[base + c] = 0;
    for (let i = 0; i < n; i++) {
      const w = ids[i]! * COLS;
      for (let c = 0; c < COLS; c++) this.wordSums[base + c]! += this.weights[w + c]!;
    }
    this.wordCounts[slot] = n;
    this.wordHashes[slot] = h;
    this.wordKinds[slot] = groupKind(raw);
    this.wordIndex.set(raw, slot);
    return slot;
  }

  /** Class probabilities (softmax over the classes), then P(severe) in the last place. */
  private softmax(sums: Int32Array, n: number, z: Float64Array = new Float64Array(COLS)): Float64Array {
    const scale = lengthScale(n);
    let max = -Infinity;
    for (let c = 0; c < K; c++) {
      z[c] = this.bias[c]! + sums[c]! * this.scales[c]! * scale;
      if (z[c]! > max) max = z[c]!;
    }
    let sum = 0;
    for (let c = 0; c < K; c++) sum += z[c] = Math.exp(z[c]! - max);
    for (let c = 0; c < K; c++) z[c]! /= sum;
    z[SEVERE] = 1 / (1 + Math.exp(-(this.bias[SEVERE]! + sums[SEVERE]! * this.scales[SEVERE]! * scale)));
    return z;
  }

  /** Class probabilities for a list of feature buckets (as `features()` gives them). */
  probabilitiesOf(ids: Int32Array): Float64Array {
    const sums = new Int32Array(COLS);
    for (let i = 0; i < ids.length; i++) {
      const base = ids[i]! * COLS;
      for (let c = 0; c < COLS; c++) sums[c]! += this.weights[base + c]!;
    }
    return this.softmax(sums, ids.length);
  }

  /** Class probabilities for a text (or its tokens, when the scorer has them already). */
  probabilities(input: string | readonly Token[], into?: Float64Array): Float64Array {
    const tokens = typeof input === 'string' ? tokenize(input) : input;
    const sums = this.sums;
    sums.fill(0);
    let n = 0;
    let prev = 0;
    const words = Math.min(tokens.length, MAX_WORDS);
    for (let i = 0; i < words; i++) {
      const slot = this.slotOf(tokens, i);
      const h = this.wordHashes[slot]!;
      const base = slot * COLS;
      for (let c = 0; c < COLS; c++) sums[c]! += this.wordSums[base + c]!;
      n += this.wordCounts[slot]!;
      if (i > 0) {
        const w = bigramId(prev, h) * COLS;
        for (let c = 0; c < COLS; c++) sums[c]! += this.weights[w + c]!;
        n++;
      }
      prev = h;
    }
    return this.softmax(sums, n, into);
  }

  /** The most likely concern if its probability reaches `min` (default: the model's threshold). */
  predict(input: string | readonly Token[], min = this.threshold): Guess | null {
    const p = this.probabilities(input, this.z);
    let best = 0;
    for (let c = 1; c < NONE; c++) if (p[c]! > p[best]!) best = c;
    return p[best]! < min ? null : { category: CLASSES[best] as Category, probability: p[best]!, severe: p[SEVERE]! };
  }

  /** A guess with the words that carried it (for the explanation and the evidence's marks). */
  explain(input: string | readonly Token[], guess: Guess): Prediction | null {
    const tokens = typeof input === 'string' ? tokenize(input) : input;
    const best = CLASSES.indexOf(guess.category);
    // What each word (its unigram and character grams, summed in the cache) and each word pair
    // added for this class over "none": the explanation names words and pairs, not fragments.
    const lift = (sums: Int32Array | Int8Array, at: number) => sums[at + best]! * this.scales[best]! - sums[at + NONE]! * this.scales[NONE]!;
    const byWord = new Map<string, { w: number; span: [number, number] }>();
    const add = (name: string, w: number, span: [number, number]) => {
      const e = byWord.get(name);
      if (e) e.w += w;
      else byWord.set(name, { w, span });
    };
    const words = Math.min(tokens.length, MAX_WORDS);
    let prevStem = '';
    let prevHash = 0;
    let prevStart = 0;
    for (let i = 0; i < words; i++) {
      const t = tokens[i]!;
      const slot = this.slotOf(tokens, i);
      const h = this.wordHashes[slot]!;
      const isGroup = this.wordCounts[slot] === 0;
      const stemmed = isGroup ? GROUP : stem(tokenWord(t));
      if (!isGroup) add(stemmed, lift(this.wordSums, slot * COLS), [t.start, t.end]);
      if (i > 0) add(`${prevStem} ${stemmed}`, lift(this.weights, bigramId(prevHash, h) * COLS), [prevStart, t.end]);
      prevStem = stemmed;
      prevHash = h;
      prevStart = t.start;
    }
    const carried = [...byWord]
      .map(([name, v]) => ({ name, ...v }))
      .filter((x) => x.w > 0)
      .sort((a, b) => b.w - a.w);
    const top: string[] = [];
    let start = Infinity;
    let end = 0;
    // The words that carried it: at most five, each at least a quarter of the strongest.
    for (const x of carried) {
      if (top.length >= 5 || x.w < carried[0]!.w / 4) break;
      if (top.includes(x.name)) continue;
      top.push(x.name);
      start = Math.min(start, x.span[0]);
      end = Math.max(end, x.span[1]);
    }
    if (!top.length) return null;
    return { ...guess, features: top, start, end };
  }

  /** Reads model.json and weights.bin from a directory. */
  static read(dir = MODEL_DIR): Model {
    const meta = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as ModelMeta;
    const bin = readFileSync(path.join(dir, 'weights.bin'));
    const weights = new Int8Array((1 << HASH_BITS) * COLS);
    const rec = 4 + COLS;
    if (bin.length % rec !== 0) throw new Error('weights.bin is corrupt (length is not a whole number of records)');
    for (let o = 0; o < bin.length; o += rec) {
      const id = bin.readUInt32LE(o);
      if (id >= 1 << HASH_BITS) throw new Error('weights.bin is corrupt (bucket out of range)');
      for (let c = 0; c < COLS; c++) weights[id * COLS + c] = bin.readInt8(o + 4 + c);
    }
    return new Model(meta, weights);
  }

  /** The shipped model, or null when the package has none. */
  static shipped(): Model | null {
    return existsSync(path.join(MODEL_DIR, 'model.json')) ? Model.read(MODEL_DIR) : null;
  }
}

/** Quantises float weights (bucket → per-class) into a Model; buckets whose weights all round to 0 are dropped. */
export function quantise(bias: Float64Array, w: Map<number, Float64Array>, meta: Omit<ModelMeta, 'hashBits' | 'classes' | 'bias' | 'scales'>): Model {
  const scales = new Float64Array(COLS);
  for (const ws of w.values()) for (let c = 0; c < COLS; c++) scales[c] = Math.max(scales[c]!, Math.abs(ws[c]!));
  for (let c = 0; c < COLS; c++) scales[c] = scales[c]! / 127 || 1;
  const weights = new Int8Array((1 << HASH_BITS) * COLS);
  for (const [id, ws] of w) for (let c = 0; c < COLS; c++) weights[id * COLS + c] = Math.round(ws[c]! / scales[c]!);
  return new Model({ ...meta, hashBits: HASH_BITS, classes: [...CLASSES], bias: Array.from(bias, (x) => +x.toFixed(5)), scales: Array.from(scales) }, weights);
}

/** Writes model.json and weights.bin (kept buckets only, ascending). */
export function writeModel(model: Model, dir = MODEL_DIR): { buckets: number; bytes: number } {
  const w = (model as unknown as { weights: Int8Array }).weights;
  const records: Buffer[] = [];
  for (let id = 0; id < 1 << HASH_BITS; id++) {
    let any = false;
    for (let c = 0; c < COLS; c++) if (w[id * COLS + c] !== 0) any = true;
    if (!any) continue;
    const b = Buffer.alloc(4 + COLS);
    b.writeUInt32LE(id, 0);
    for (let c = 0; c < COLS; c++) b.writeInt8(w[id * COLS + c]!, 4 + c);
    records.push(b);
  }
  const bin = Buffer.concat(records);
  writeFileSync(path.join(dir, 'weights.bin'), bin);
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(model.meta, null, 1) + '\n');
  return { buckets: records.length, bytes: bin.length };
}
