import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { defaultScorer } from '@haven/risk';

/**
 * Compiles the scorer now, once, rather than on the first thing a pupil types, then collects
 * what compiling left behind. Compiling the lexicon and loading the learned model build about
 * 80 MB of short-lived objects; left to itself V8 frees them whenever its idle heuristics next
 * run, which on a quiet laptop is half a minute or more later: the agent sits at twice its
 * steady memory until then and pays for that collection at a moment nobody chose. One full
 * collection here (tens of milliseconds, once per start) puts it at its steady size at once.
 */
export function warmScorer(): void {
  defaultScorer();
  collectGarbage();
}

function collectGarbage(): void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') (gc as () => void)();
  } catch {
    // Only memory is at stake: without the collection the agent is correct, just larger for a while.
  }
}
