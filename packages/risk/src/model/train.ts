/**
 * Trains the learned signal (model.ts) reproducibly: fixed seed, fixed data, fixed order.
 *
 * Data — tune rows only (check rows are never read), from sources whose licence allows shipping
 * a model (train README): the authored sets' tune split (Haven's own); from ../shared/train the
 * positives of openai_moderation (MIT), xstest (CC BY), simplesafetytests (CC BY),
 * ailuminate_demo (CC BY), toxigen_prompts (CDLA-Permissive) and advbench (MIT), and benign rows
 * of gsm8k (MIT), literature_gutenberg (public domain), clinc150 (CC BY 3.0), goemotions
 * (Apache-2.0), xstest safe prompts and toxigen neutral statements. Not used: GPL (ETHOS,
 * HateXplain copy) and non-commercial (HatEval, Alpaca) sources, nor tweeteval_benign.
 *
 * An experiment: it does not ship. On the check split it added 1–3.5 points of core recall while
 * hard-negative and HateCheck non-hateful false alerts rose (see the package README), so the
 * scorer does not load it.
 *
 *   npm run train:model -w @haven/risk      writes ../model-experiment.json (outside the repo)
 *   npm run eval -w @haven/risk -- --model ../model-experiment.json
 *   HAVEN_HOLDOUT_THEMES=a,b node dist/model/train.js --out FILE   leave themes out
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TRAIN_DIR, loadEval, partOf, themeOf } from '../eval/data';
import { isTune } from '../eval/split';
import { features, HASH_BITS } from './features';
import { CLASSES, type ModelFile } from './model';

const POSITIVE_SOURCES = ['openai_moderation', 'xstest', 'simplesafetytests', 'ailuminate_demo', 'toxigen_prompts', 'advbench_alpaca'];
const BENIGN_SOURCES = ['gsm8k', 'literature_gutenberg', 'clinc150', 'goemotions', 'xstest', 'toxigen_prompts', 'openai_moderation'];
/** Benign rows per file at most (taken evenly by line), so training stays a few seconds. */
const BENIGN_PER_FILE = Number(process.env.HAVEN_BENIGN_PER_FILE ?? 20000);
const EPOCHS = Number(process.env.HAVEN_EPOCHS ?? 4);
const L2 = Number(process.env.HAVEN_L2 ?? 1e-4);
const LR = Number(process.env.HAVEN_LR ?? 0.1);
const NONE = CLASSES.length - 1;

type Example = { ids: Int32Array; label: number; weight: number };

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function trainingSet(holdoutThemes: ReadonlySet<string> = new Set()): Example[] {
  const out: Example[] = [];
  const label = (c: string | undefined) => (c ? CLASSES.indexOf(c as (typeof CLASSES)[number]) : NONE);
  // Authored rows (tune only): the closest data to pupils' own words, weighted up.
  for (const r of loadEval().filter((x) => x.split === 'tune' && x.source.startsWith('authored'))) {
    const theme = themeOf(r);
    if (theme && holdoutThemes.has(theme)) continue;
    out.push({ ids: features(r.text).ids, label: label(r.expect.category), weight: partOf(r) === 'negative' ? 6 : 4 });
  }
  for (const name of new Set([...POSITIVE_SOURCES, ...BENIGN_SOURCES])) {
    const file = path.join(TRAIN_DIR, `${name}.jsonl`);
    if (!existsSync(file)) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    const benignEvery = Math.max(1, Math.floor(lines.length / BENIGN_PER_FILE));
    lines.forEach((line, i) => {
      if (!line.trim() || !isTune(`${name}:${i}`)) return;
      const row = JSON.parse(line) as { text: string; labels: string[] };
      if (row.labels.length) {
        if (POSITIVE_SOURCES.includes(name)) out.push({ ids: features(row.text).ids, label: label(row.labels[0]), weight: 1 });
      } else if (BENIGN_SOURCES.includes(name) && i % benignEvery === 0) {
        out.push({ ids: features(row.text).ids, label: NONE, weight: 1 });
      }
    });
  }
  return out;
}

export function train(data: Example[]): { bias: Float64Array; w: Map<number, Float64Array> } {
  const K = CLASSES.length;
  const w = new Map<number, Float64Array>();
  const bias = new Float64Array(K);
  const rand = mulberry32(20261207);
  const order = data.map((_, i) => i);
  const z = new Float64Array(K);
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const lr = LR / (1 + epoch);
    for (const k of order) {
      const ex = data[k]!;
      z.set(bias);
      for (const id of ex.ids) {
        const ws = w.get(id);
        if (ws) for (let c = 0; c < K; c++) z[c]! += ws[c]!;
      }
      let max = -Infinity;
      for (const v of z) max = Math.max(max, v);
      let sum = 0;
      for (let c = 0; c < K; c++) sum += z[c] = Math.exp(z[c]! - max);
      const step = lr * ex.weight;
      for (let c = 0; c < K; c++) {
        const g = z[c]! / sum - (c === ex.label ? 1 : 0);
        bias[c]! -= step * g * 0.1;
        for (const id of ex.ids) {
          let ws = w.get(id);
          if (!ws) w.set(id, (ws = new Float64Array(K)));
          ws[c]! -= step * (g + L2 * ws[c]!);
        }
      }
    }
  }
  return { bias, w };
}

export function toFile(model: { bias: Float64Array; w: Map<number, Float64Array> }, trainedOn: string): ModelFile {
  const scale = 1000;
  const weights: Record<string, number[]> = {};
  for (const [id, ws] of model.w) {
    // Weights too small to move a probability are dropped: the file stays small.
    if (Math.max(...ws.map(Math.abs)) < 0.05) continue;
    weights[id] = Array.from(ws, (x) => Math.round(x * scale));
  }
  return { hashBits: HASH_BITS, classes: [...CLASSES], bias: Array.from(model.bias, (x) => +x.toFixed(4)), weights, scale, threshold: 0.6, high: 0.85, trainedOn };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const outArg = args.indexOf('--out');
  if (outArg < 0) throw new Error('--out FILE is required: the experimental model does not ship');
  const out = path.resolve(args[outArg + 1]!);
  const holdout = new Set((process.env.HAVEN_HOLDOUT_THEMES ?? '').split(',').filter(Boolean));
  const t0 = Date.now();
  const data = trainingSet(holdout);
  const model = train(data);
  const file = toFile(model, `${data.length} examples (tune split only); seed 20261207; ${EPOCHS} epochs`);
  writeFileSync(out, JSON.stringify(file));
  process.stdout.write(`${data.length} examples, ${Object.keys(file.weights).length} features kept → ${out} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
}

