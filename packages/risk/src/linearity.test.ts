import { performance } from 'node:perf_hooks';
import { defaultScorer } from './score';

/** Mixed input: English, leetspeak, emoji, Arabic, Cyrillic, Polish, CJK, split letters, a concern. */
const UNIT =
  'so tired of school 😩😩 k i l l the vibe lol, мой друг, انا بخير شكرا, zażółć gęślą jaźń 漢字テスト ' +
  'h3llo w0rld!!! see u 2moro at 8 🙂 kiiiiill the process $tuff, i want to die lol, nothing to see here. ';

/**
 * Cost of scoring `text` once, as the least of several runs interleaved with the other size,
 * so both sizes see the same machine load and a stray pause does not count.
 */
function leastTimes(a: string, b: string, runs: number): [number, number] {
  const scorer = defaultScorer();
  let ta = Infinity;
  let tb = Infinity;
  for (let r = 0; r < runs; r++) {
    let t0 = performance.now();
    scorer.score(a, { source: 'screen' });
    ta = Math.min(ta, performance.now() - t0);
    t0 = performance.now();
    scorer.score(b, { source: 'screen' });
    tb = Math.min(tb, performance.now() - t0);
  }
  return [ta, tb];
}

describe('matcher cost', () => {
  it('grows linearly: ten times the input costs at most twelve times the time', () => {
    const small = UNIT.repeat(400); // ~75 KB
    const large = UNIT.repeat(4000); // ~750 KB
    expect(defaultScorer().score(large, { source: 'screen' }).severity).toBeGreaterThan(0);
    leastTimes(small, large, 3); // warm up the JIT and the normaliser's cache
    const [tSmall, tLarge] = leastTimes(small, large, 12);
    expect(tLarge / tSmall).toBeLessThanOrEqual(12);
  });
});
