/**
 * Small in-memory limits for the agent gateway. Memory is bounded: past `maxKeys` the oldest
 * keys are forgotten first (an attacker with many addresses only loses their own history).
 */

/** Forgets the oldest keys of `map` (insertion order) until it holds `keep`. */
function shrink<V>(map: Map<string, V>, keep: number): void {
  for (const key of map.keys()) {
    if (map.size <= keep) return;
    map.delete(key);
  }
}

/**
 * At most one log line per key (a device, or an address before hello) per interval. A client
 * that sends a stream of bad frames is its own fault, not the operator's: one line a minute
 * says so, with how many were held back.
 */
export class LogLimiter {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    readonly intervalMs = 60_000,
    private readonly maxKeys = 10_000,
  ) {}

  /** null: stay quiet this time. A number: log now, saying how many lines were held back before it. */
  take(key: string, now = Date.now()): number | null {
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.held++;
      return null;
    }
    this.last.delete(key); // re-inserted last: the map stays in order of last use
    this.last.set(key, { at: now, held: 0 });
    if (this.last.size > this.maxKeys) shrink(this.last, this.maxKeys / 2);
    return entry?.held ?? 0;
  }
}

/**
 * Failed attempts per key in a fixed window that starts at the first failure: after `max`
 * failures the key is refused until the window ends. Successes do not reset it, so one valid
 * credential cannot be used to keep guessing others.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    readonly max = 20,
    readonly windowMs = 60_000,
    private readonly maxKeys = 10_000,
  ) {}

  blocked(key: string, now = Date.now()): boolean {
    const w = this.windows.get(key);
    if (!w) return false;
    if (now - w.start >= this.windowMs) {
      this.windows.delete(key);
      return false;
    }
    return w.failures >= this.max;
  }

  fail(key: string, now = Date.now()): void {
    const w = this.windows.get(key);
    if (w && now - w.start < this.windowMs) {
      w.failures++;
      return;
    }
    this.windows.delete(key);
    this.windows.set(key, { start: now, failures: 1 });
    if (this.windows.size > this.maxKeys) shrink(this.windows, this.maxKeys / 2);
  }
}
