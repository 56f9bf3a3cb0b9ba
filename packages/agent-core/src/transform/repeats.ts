import { createHash } from 'node:crypto';
import type { AgentEvent } from '@haven/protocol';

/** How long a title or keys report makes the same words on screen a repeat. */
export const REPEAT_WINDOW_MS = 2 * 60 * 1000;
/** Most reports remembered at once; the oldest is forgotten first. */
export const REPEAT_MEMORY = 256;

/**
 * Screen text that repeats what another source has just reported for the same window: OCR
 * re-reading a search box or page heading that the title source already sent, or the words a
 * pupil has just typed. Such a screen event adds nothing for the DSL but a second, noisier copy.
 *
 * Only a digest is remembered (SHA-256 of the window title, the top rule and the matched words
 * normalised), in memory, for at most REPEAT_WINDOW_MS and at most REPEAT_MEMORY of them: no
 * captured text is kept here, and nothing is written to disk.
 */
export class RecentReports {
  /** digest → when it was last reported (ms). Map order is insertion order: oldest first. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = REPEAT_WINDOW_MS,
    private readonly capacity = REPEAT_MEMORY,
  ) {}

  /**
   * Decides for an event about to be sent: true when it is a screen event repeating a title or
   * keys report for the same window within the time window (it should not be sent). A title or
   * keys event is remembered and never itself a repeat.
   */
  isRepeat(event: Pick<AgentEvent, 'source' | 'windowTitle' | 'ruleIds' | 'evidence'>, now: number): boolean {
    this.prune(now);
    const key = digest(event);
    if (event.source === 'screen') {
      const at = this.seen.get(key);
      return at !== undefined && now - at <= this.windowMs;
    }
    this.seen.delete(key); // re-insert at the end: the newest report
    this.seen.set(key, now);
    while (this.seen.size > this.capacity) this.seen.delete(this.seen.keys().next().value!);
    return false;
  }

  /** Reports remembered now (for tests: the memory stays bounded). */
  get size(): number {
    return this.seen.size;
  }

  private prune(now: number): void {
    for (const [key, at] of this.seen) {
      if (now - at <= this.windowMs) break; // the rest are newer
      this.seen.delete(key);
    }
  }
}

/** Letters and digits only, lower case, single spaces: OCR and typing differ in case and punctuation. */
export function normaliseWords(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function digest(event: Pick<AgentEvent, 'windowTitle' | 'ruleIds' | 'evidence'>): string {
  const parts = [event.windowTitle ?? '', event.ruleIds[0] ?? '', normaliseWords(event.evidence.match)];
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}
