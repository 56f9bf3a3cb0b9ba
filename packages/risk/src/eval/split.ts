/**
 * The one split of every labelled set into *tune* (rows a developer may read while improving
 * the scorer) and *check* (rows reported only as figures). Fixed by a hash of the row's id, so it
 * never moves when a file grows or is reordered, and it cannot be chosen to flatter a change.
 */
import { createHash } from 'node:crypto';

export type Split = 'tune' | 'check';

/** First byte of sha256(id) below 0.7 × 256 → tune (≈ 70 %), else check. */
export const TUNE_BELOW = Math.floor(0.7 * 256);

export function splitOf(id: string): Split {
  return createHash('sha256').update(id).digest()[0]! < TUNE_BELOW ? 'tune' : 'check';
}

export const isTune = (id: string): boolean => splitOf(id) === 'tune';

/** Refuses to hand over any check row: everything printed as text must pass through here. */
export function tuneOnly<T extends { id: string }>(rows: readonly T[]): T[] {
  return rows.filter((r) => isTune(r.id));
}
