import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const dist = path.join(__dirname, '..', 'dist', 'warm.js');

/** Heap in use just after warming, in a fresh process (so nothing else in the heap). */
async function heapAfterWarm(collect: boolean): Promise<number> {
  const body = collect
    ? `require(${JSON.stringify(dist)}).warmScorer();`
    : `require('@haven/risk').defaultScorer();`;
  const { stdout } = await run(process.execPath, ['-e', `${body} process.stdout.write(String(process.memoryUsage().heapUsed))`], { cwd: __dirname });
  return Number(stdout);
}

describe('warming the scorer at start', () => {
  // Compiling the lexicon and loading the model leave tens of MB of garbage that V8 would
  // otherwise keep until its idle heuristics run, half a minute or more later.
  it('leaves the heap at its steady size, not holding what compiling built', async () => {
    const [warmed, unwarmed] = await Promise.all([heapAfterWarm(true), heapAfterWarm(false)]);
    expect(warmed).toBeGreaterThan(0);
    expect(warmed).toBeLessThan(unwarmed / 2);
  }, 60_000);
});
