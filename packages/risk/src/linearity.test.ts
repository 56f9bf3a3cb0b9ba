import { performance } from 'node:perf_hooks';
import { defaultScorer } from './score';

/** Mixed input: English, leetspeak, emoji, Arabic, Cyrillic, Polish, CJK, split letters. */
const UNIT =
  'so tired of school 😩😩 k i l l the vibe lol, мой друг, انا بخير شكرا, zażółć gęślą jaźń 漢字テスト ' +
  'h3llo w0rld!!! see u 2moro at 8 🙂 kiiiiill the process $tuff and things, nothing to see here. ';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeScore(text: string, runs: number): number {
  const scorer = defaultScorer();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    scorer.score(text, { source: 'screen' });
    times.push(performance.now() - t0);
  }
  return median(times);
}

describe('matcher cost', () => {
  it('grows linearly: ten times the input costs at most twelve times the time', () => {
    const small = UNIT.repeat(100); // ~18 KB
    const large = UNIT.repeat(1000); // ~180 KB
    timeScore(small, 5); // warm up the JIT and the normaliser's cache
    timeScore(large, 2);
    const tSmall = timeScore(small, 15);
    const tLarge = timeScore(large, 7);
    expect(tLarge / tSmall).toBeLessThanOrEqual(12);
  });
});
