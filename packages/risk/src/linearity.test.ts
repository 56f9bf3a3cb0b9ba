import { defaultScorer } from './score';

/** Mixed input: English, leetspeak, emoji, Arabic, Cyrillic, Polish, CJK, split letters, a concern. */
const UNIT =
  'so tired of school 😩😩 k i l l the vibe lol, мой друг, انا بخير شكرا, zażółć gęślą jaźń 漢字テスト ' +
  'h3llo w0rld!!! see u 2moro at 8 🙂 kiiiiill the process $tuff, i want to die lol, nothing to see here. ';

/** CPU time of this process in ms: time the process was not scheduled (a busy machine) is not counted. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * A peer whose cost is linear by construction and which, like the scorer, reads and allocates
 * in proportion to its input: its growth from the small input to the large one says how much of
 * the growth is the machine (caches, allocation, GC) rather than the algorithm.
 */
function linearPeer(text: string): number {
  let n = 0;
  for (const word of text.normalize('NFKC').toLowerCase().split(/\s+/)) n += word.length;
  return n;
}

/**
 * Growth in cost from `small` to `large` for the scorer and for the peer, each as the least of
 * several runs interleaved with the other three, so all four see the same machine load.
 */
function growth(small: string, large: string, runs: number): { scorer: number; peer: number } {
  const scorer = defaultScorer();
  const least = [Infinity, Infinity, Infinity, Infinity];
  const jobs = [() => scorer.score(small, { source: 'screen' }), () => scorer.score(large, { source: 'screen' }), () => linearPeer(small), () => linearPeer(large)];
  for (let r = 0; r < runs; r++) {
    jobs.forEach((job, i) => {
      const t0 = cpuMs();
      job();
      least[i] = Math.min(least[i]!, cpuMs() - t0);
    });
  }
  const [s, l, ps, pl] = least.map((t) => Math.max(t, 0.01)) as [number, number, number, number];
  return { scorer: l / s, peer: pl / ps };
}

describe('matcher cost', () => {
  it('grows linearly: ten times the input costs about ten times as much, allowing for the machine as a linear peer sees it', () => {
    const small = UNIT.repeat(400); // ~75 KB
    const large = UNIT.repeat(4000); // ~750 KB
    expect(defaultScorer().score(large, { source: 'screen' }).severity).toBeGreaterThan(0);
    growth(small, large, 2); // warm up the JIT and the normaliser's cache
    // A quadratic matcher grows about 100 times here, and fails every attempt; a linear one
    // grows about 10 times. A busy machine can spoil one attempt, so a few are allowed.
    const attempts: Array<{ scorer: number; peer: number; bound: number }> = [];
    for (let i = 0; i < 4; i++) {
      const g = growth(small, large, 8);
      const bound = 12 * Math.max(1, g.peer / 10);
      attempts.push({ ...g, bound });
      if (g.scorer <= bound) break;
    }
    expect(attempts.some((a) => a.scorer <= a.bound)).toBe(true);
    // However noisy the machine, a tenfold input never costs fifty times as much on a linear matcher.
    expect(Math.min(...attempts.map((a) => a.scorer))).toBeLessThan(50);
  });
});
