import type { HavenDatabase } from '@haven/db';
import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { queryRows } from '../db-rows';
import { groupPending, type GroupingOptions, type IncidentChange } from './grouping';

const PASS_LIMIT = 2000;
const RETRY_MS = 5000;

/**
 * Groups stored events into incidents right after each stored batch, one pass per school at a
 * time. Batches that arrive during a pass are grouped by the next one, so under load a pass
 * takes many batches at once and ingest never waits for grouping (docs/adr/0006).
 *
 *   schedule(school) ──► idle ──► running ──► (more arrived while running?) ──yes──► running
 *                                    │ database error                         no ──► idle
 *                                    └──► retry in 5 s
 *
 * Events a crash or outage left ungrouped are found at start (recover) and by the periodic
 * sweep, so none is lost.
 */
export class TriageWorker {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly retries = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly db: HavenDatabase,
    private readonly options: GroupingOptions,
    private readonly log: FastifyBaseLogger,
    private readonly onChanges: (changes: IncidentChange[]) => Promise<void>,
  ) {}

  schedule(schoolId: string): void {
    if (this.closed) return;
    if (this.running.has(schoolId)) {
      this.again.add(schoolId);
      return;
    }
    const pass = this.drain(schoolId).finally(() => {
      this.running.delete(schoolId);
      if (this.again.delete(schoolId)) this.schedule(schoolId);
    });
    this.running.set(schoolId, pass);
  }

  /** Schedules every school that has ungrouped events (at start, and every sweep). */
  async recover(): Promise<void> {
    const schools = await queryRows<{ school_id: string }>(this.db, sql`select distinct school_id from events where incident_id is null`);
    for (const { school_id } of schools) this.schedule(school_id);
  }

  /** Resolves once no pass is running or due (tests wait on it after an ack). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.retries) clearTimeout(t);
    await this.idle();
  }

  private async drain(schoolId: string): Promise<void> {
    try {
      for (;;) {
        const { grouped, changes } = await groupPending(this.db, schoolId, this.options, PASS_LIMIT);
        if (changes.length > 0) {
          await this.onChanges(changes).catch((err: unknown) => this.log.error({ err }, 'Live update or alert failed after grouping.'));
        }
        if (grouped < PASS_LIMIT) return;
      }
    } catch (err) {
      if (this.closed) return;
      this.log.warn({ err, schoolId }, 'Grouping events into incidents failed; retrying in 5 s.');
      const timer = setTimeout(() => {
        this.retries.delete(timer);
        this.schedule(schoolId);
      }, RETRY_MS);
      timer.unref();
      this.retries.add(timer);
    }
  }
}
