/**
 * Scorer benchmark, one core: throughput (MB/s, phrases/s), p99 latency for a 200-character
 * phrase, lexicon compile time and heap — and, on the same corpus in the same run, two peers:
 * the `obscenity` package (its English dataset and recommended transformers) and one naive
 * alternation regex of Haven's own lexicon terms.
 *
 *   npm run bench -w @haven/risk
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { englishDataset, englishRecommendedTransformers, RegExpMatcher } from 'obscenity';
import { compileLexicon } from '../lexicon/compile';
import { readLexicon } from '../lexicon/source';
import { Model } from '../model/model';
import { Scorer } from '../score';

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const evalDir = process.env.HAVEN_EVAL_DIR ?? path.resolve(repoRoot, '..', 'shared', 'eval');

/** The corpus: every text of the evaluation files if present, else generated school-day text. */
function corpus(): string[] {
  if (existsSync(evalDir)) {
    const texts: string[] = [];
    for (const f of readdirSync(evalDir).filter((n) => n.endsWith('.jsonl'))) {
      for (const line of readFileSync(path.join(evalDir, f), 'utf8').split('\n')) if (line.trim()) texts.push((JSON.parse(line) as { text: string }).text);
    }
    return texts;
  }
  const words = 'the homework is due on thursday and i want to go to the park after school with my friends we can play football or watch a film'.split(' ');
  return Array.from({ length: 5000 }, (_, i) => Array.from({ length: 12 + (i % 20) }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' '));
}

function timeIt(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** Best of three passes over the corpus, each cut short after `budgetMs` (slow peers). */
function throughput(label: string, texts: string[], fn: (t: string) => unknown, budgetMs = 4000): { mbps: number; phrasesPerSecond: number } {
  for (const t of texts.slice(0, 200)) fn(t); // warm up
  const sizes = texts.map((t) => Buffer.byteLength(t));
  let best = { mbps: 0, phrasesPerSecond: 0 };
  for (let r = 0; r < 3; r++) {
    let bytes = 0;
    let n = 0;
    const t0 = performance.now();
    for (let i = 0; i < texts.length; i++) {
      fn(texts[i]!);
      bytes += sizes[i]!;
      n++;
      if ((n & 63) === 0 && performance.now() - t0 > budgetMs) break;
    }
    const s = (performance.now() - t0) / 1000;
    if (bytes / 1e6 / s > best.mbps) best = { mbps: bytes / 1e6 / s, phrasesPerSecond: n / s };
    if (n < texts.length) break; // a peer too slow for the whole corpus: one partial pass is enough
  }
  process.stdout.write(`  ${label.padEnd(34)} ${best.mbps.toFixed(2).padStart(8)} MB/s ${Math.round(best.phrasesPerSecond).toString().padStart(10)} phrases/s\n`);
  return best;
}

function main(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const buffers0 = process.memoryUsage().arrayBuffers;
  // The source is dropped once compiled, so the heap figure is what the compiled scorer alone
  // keeps (as defaultScorer() does): the session part's memory budget. The learned model's
  // weights live in one typed array (array-buffer memory, counted beside the heap).
  const { scorer, compileMs, modelMs } = (() => {
    const src = readLexicon();
    let built!: Scorer;
    let model: Model | null = null;
    const ms = timeIt(() => {
      built = new Scorer(compileLexicon(src));
    });
    const mms = timeIt(() => {
      model = Model.shipped();
    });
    return { scorer: new Scorer(built.lexicon, model), compileMs: ms, modelMs: mms };
  })();
  gc?.();
  const retainedMB = (process.memoryUsage().heapUsed - heap0) / 1e6;
  const buffersMB = (process.memoryUsage().arrayBuffers - buffers0) / 1e6;
  const rssMiB = process.memoryUsage().rss / 1024 / 1024;
  const source = readLexicon();
  const ruleCount = scorer.lexicon.rules.length;

  const texts = corpus();
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  process.stdout.write(
    `Haven risk scorer — ${ruleCount} rules, ${scorer.lexicon.vocab.size} words, ${scorer.lexicon.stateCount} automaton states\n` +
      `  lexicon compile (first, cold)    ${compileMs.toFixed(1)} ms (warm, best of 3, below)\n` +
      `  learned model load               ${scorer.model ? `${modelMs.toFixed(1)} ms` : 'none shipped'}\n` +
      `  retained heap after compile      ${retainedMB.toFixed(1)} MB${gc ? '' : ' (run with --expose-gc for a settled figure)'} + ${buffersMB.toFixed(1)} MB typed arrays, RSS ${rssMiB.toFixed(0)} MiB\n` +
      `corpus: ${texts.length} texts, ${(bytes / 1e6).toFixed(2)} MB\n`,
  );
  const compileOnly = Math.min(...[0, 1, 2].map(() => timeIt(() => compileLexicon(source))));
  process.stdout.write(`  compile alone (best of 3)        ${compileOnly.toFixed(1)} ms\n`);

  const haven = throughput(scorer.model ? 'haven score() (lexicon + learned)' : 'haven score()', texts, (t) => scorer.score(t, { source: 'keys' }));
  const lexiconOnly = new Scorer(scorer.lexicon);
  const lexAlone = scorer.model ? throughput('haven score(), lexicon alone', texts, (t) => lexiconOnly.score(t, { source: 'keys' })) : haven;

  const obscenity = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });
  const peer1 = throughput('obscenity (English dataset)', texts, (t) => obscenity.getAllMatches(t));

  // The same terms as one alternation, braces written as regex groups (not expanded).
  const toRegex = (t: string) =>
    t
      .trim()
      .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
      .replace(/\{([^{}]*)\}/g, (_m, alts: string) => `(?:${alts.split(',').join('|')})`);
  const terms = new Set<string>();
  for (const f of source.categories) {
    for (const t of f.terms) terms.add(toRegex(t.text));
    for (const p of f.pairs) for (const w of [...p.a, ...p.b]) terms.add(toRegex(w));
  }
  const naive = new RegExp(`(?<![\\p{L}\\p{N}])(?:${[...terms].filter(Boolean).join('|')})(?![\\p{L}\\p{N}])`, 'giu');
  const peer2 = throughput(`naive alternation regex (${terms.size} terms)`, texts, (t) => t.toLowerCase().match(naive));

  // Latency of a single 200-character phrase.
  const phrase = 'honestly cant be bothered with this maths homework, going to the park after school then maybe minecraft with josh. mum says tea is at six so see you after. k1ll the vibe lol 😂 see u tmrw';
  const p200 = phrase.slice(0, 200);
  const lat: number[] = [];
  for (let i = 0; i < 2000; i++) scorer.score(p200, { source: 'keys' });
  for (let i = 0; i < 20_000; i++) {
    const t0 = performance.now();
    scorer.score(p200, { source: 'keys' });
    lat.push(performance.now() - t0);
  }
  lat.sort((a, b) => a - b);
  const p50 = lat[Math.floor(lat.length * 0.5)]!;
  const p99 = lat[Math.floor(lat.length * 0.99)]!;
  process.stdout.write(`  200-character phrase latency     p50 ${(p50 * 1000).toFixed(1)} µs, p99 ${(p99 * 1000).toFixed(1)} µs\n`);
  process.stdout.write(
    `ratios (haven ÷ peer, MB/s): obscenity ${(haven.mbps / peer1.mbps).toFixed(2)}, naive regex ${(haven.mbps / peer2.mbps).toFixed(2)}\n`,
  );
  process.stdout.write(
    JSON.stringify({
      rules: ruleCount,
      compileMs: +compileOnly.toFixed(1),
      retainedHeapMB: +retainedMB.toFixed(1),
      typedArraysMB: +buffersMB.toFixed(1),
      modelLoadMs: +modelMs.toFixed(1),
      lexiconAloneMbps: +lexAlone.mbps.toFixed(2),
      mbps: +haven.mbps.toFixed(2),
      phrasesPerSecond: Math.round(haven.phrasesPerSecond),
      p99Micros: +(p99 * 1000).toFixed(1),
      peers: { obscenityMbps: +peer1.mbps.toFixed(2), naiveRegexMbps: +peer2.mbps.toFixed(2) },
    }) + '\n',
  );
}

main();
