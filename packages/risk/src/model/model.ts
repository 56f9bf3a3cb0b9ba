/**
 * An experimental learned signal: multinomial logistic regression over hashed word features
 * (features.ts), trained by `npm run train:model` (src/model/train.ts). It does not ship: the
 * check split and the benign files did not say it helps (see the package README). `npm run eval
 * -- --model FILE` measures it; the features that carried a prediction are named.
 */
import { CATEGORY_PRIORITY, type Category } from '../taxonomy';
import { features, HASH_BITS } from './features';

/** Classes: the categories in priority order, then "none". */
export const CLASSES: readonly (Category | 'none')[] = [...CATEGORY_PRIORITY, 'none'];

export type ModelFile = {
  hashBits: number;
  classes: string[];
  bias: number[];
  /** Sparse weights: feature id → weights per class (quantised: value × scale). */
  weights: Record<string, number[]>;
  scale: number;
  /** Probability above which the signal may report its class, and above which it reports 3. */
  threshold: number;
  high: number;
  trainedOn: string;
};

export type Prediction = { category: Category; probability: number; features: string[] };

export class Model {
  private readonly w = new Map<number, Float32Array>();
  private readonly bias: Float32Array;
  readonly threshold: number;
  readonly high: number;

  constructor(file: ModelFile) {
    if (file.hashBits !== HASH_BITS || file.classes.join() !== CLASSES.join()) throw new Error('model/weights.json does not match this scorer (retrain)');
    this.bias = Float32Array.from(file.bias);
    for (const [id, ws] of Object.entries(file.weights)) this.w.set(Number(id), Float32Array.from(ws, (x) => x / file.scale));
    this.threshold = file.threshold;
    this.high = file.high;
  }

  /** Class probabilities for a text. */
  probabilities(text: string): Float64Array {
    const { ids } = features(text);
    const z = Float64Array.from(this.bias);
    for (const id of ids) {
      const ws = this.w.get(id);
      if (ws) for (let c = 0; c < z.length; c++) z[c]! += ws[c]!;
    }
    let max = -Infinity;
    for (const v of z) max = Math.max(max, v);
    let sum = 0;
    for (let c = 0; c < z.length; c++) sum += z[c] = Math.exp(z[c]! - max);
    for (let c = 0; c < z.length; c++) z[c]! /= sum;
    return z;
  }

  /** The most likely concern, if the model is confident enough; with the features that carried it. */
  predict(text: string): Prediction | null {
    const p = this.probabilities(text);
    let best = 0;
    for (let c = 1; c < CLASSES.length - 1; c++) if (p[c]! > p[best]!) best = c;
    if (p[best]! < this.threshold) return null;
    const { ids, names } = features(text, true);
    const carried = names
      .map((name, i) => ({ name, w: (this.w.get(ids[i]!)?.[best] ?? 0) - (this.w.get(ids[i]!)?.[CLASSES.length - 1] ?? 0) }))
      .filter((x) => x.w > 0)
      .sort((a, b) => b.w - a.w)
      .slice(0, 5)
      .map((x) => x.name);
    return { category: CLASSES[best] as Category, probability: p[best]!, features: carried };
  }
}
