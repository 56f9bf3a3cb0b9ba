import { describeDatabaseError, isTransientDatabaseError, type HavenDatabase } from '@haven/db';
import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { queryRows } from '../db-rows';
import { groupPending, pendingEventIds, retrySetAside, setAside, type GroupingOptions, type IncidentChange } from './grouping';

const PASS_LIMIT = 2000;
const RETRY_MS = 5000;

type Pass = { grouped: number; changes: IncidentChange[] };

/**
 * Groups stored events into incidents right after each stored batch, one pass per school at a
 * time. Batches that arrive during a pass are grouped by the next one, so under load a pass
 * takes many batches at once and ingest never waits for grouping (docs/adr/0006).
 *
 *   schedule(school) ──► idle ──► running ──► (more arrived while running?) ──yes──► running
 *                                    │                                       no ──► idle
 *                                    ├─ outage (database down, conflict) ──► retry the pass in 5 s
 *                                    └─ any other failure ──► isolate: halve the events until
 *                                         the one that fails alone is found; set it aside
 *                                         (grouping_failed_at), group the rest
 *
 * One event that cannot be grouped (a time the code cannot handle, a value a statement
 * refuses) must never stop a school's safeguarding: it is set aside, logged at error with its
 * id and school, counted in /metrics, and tried again once when the collector next starts (a
 * newer version may handle it). A real outage still retries the whole pass later.
 *
 * Events a crash or outage left ungrouped are found at start (recover) and by the periodic
 * sweep, so none is lost.
 */
export class TriageWorker {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly retries = new Set<NodeJS.Timeout>();
  private closed = false;
  private recovered = false;
  /** Events set aside by this process since it started (counter for /metrics). */
  setAsideTotal = 0;

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

  /**
   * Schedules every school that has ungrouped events (at start, and every sweep). The first
   * call of a process also puts set-aside events back in line once.
   */
  async recover(): Promise<void> {
    if (!this.recovered) {
      const again = await retrySetAside(this.db);
      this.recovered = true;
      if (again > 0) this.log.info({ events: again }, 'Events set aside by grouping are being tried again after the start.');
    }
    const schools = await queryRows<{ school_id: string }>(
      this.db,
      sql`select distinct school_id from events where incident_id is null and grouping_failed_at is null`,
    );
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
        let pass: Pass;
        try {
          pass = await groupPending(this.db, schoolId, this.options, PASS_LIMIT);
        } catch (err) {
          if (this.closed || isTransientDatabaseError(err)) throw err;
          this.log.warn({ schoolId, databaseError: describeDatabaseError(err) }, 'A grouping pass failed; finding the event that cannot be grouped.');
          pass = await this.isolate(schoolId);
        }
        await this.report(pass.changes);
        if (pass.grouped < PASS_LIMIT) return;
      }
    } catch (err) {
      if (this.closed) return;
      this.log.warn({ schoolId, databaseError: describeDatabaseError(err) }, 'Grouping events into incidents failed: the database is unavailable; retrying in 5 s.');
      const timer = setTimeout(() => {
        this.retries.delete(timer);
        this.schedule(schoolId);
      }, RETRY_MS);
      timer.unref();
      this.retries.add(timer);
    }
  }

  private async report(changes: IncidentChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.onChanges(changes).catch((err: unknown) => this.log.error({ err }, 'Live update or alert failed after grouping.'));
  }

  /**
   * Groups the pass's events in halves, recursively, oldest first: every part that groups is
   * committed (and its alerts sent) at once, and an event that fails on its own, twice, is set
   * aside. One bad event among n costs about 2·log2(n) transactions. Throws on an outage, so
   * the whole pass is retried later and nothing good is set aside.
   */
  private async isolate(schoolId: string): Promise<Pass> {
    const ids = await pendingEventIds(this.db, schoolId, PASS_LIMIT);
    const group = async (part: string[]) => this.report((await groupPending(this.db, schoolId, this.options, part.length, part)).changes);
    const single = async (eventId: string): Promise<void> => {
      // Fail twice before setting it aside, so that a fault of the moment (one without a
      // SQLSTATE that says so) does not cost a good event its incident.
      let last: unknown;
      for (let i = 0; i < 2; i++) {
        try {
          return await group([eventId]);
        } catch (err) {
          if (isTransientDatabaseError(err)) throw err;
          last = err;
        }
      }
      const error = describeDatabaseError(last);
      await setAside(this.db, eventId, error.sqlstate ?? error.code ?? error.type ?? 'error');
      this.setAsideTotal++;
      this.log.error(
        { eventId, schoolId, databaseError: error },
        'An event could not be grouped into an incident and was set aside; the rest of the school is grouped. It is tried again when the collector next starts.',
      );
    };
    const halves = async (part: string[]): Promise<void> => {
      const mid = Math.ceil(part.length / 2);
      await attempt(part.slice(0, mid));
      await attempt(part.slice(mid));
    };
    const attempt = async (part: string[]): Promise<void> => {
      if (this.closed || part.length === 0) return;
      if (part.length === 1) return single(part[0]!);
      try {
        await group(part);
      } catch (err) {
        if (isTransientDatabaseError(err)) throw err;
        await halves(part);
      }
    };
    // The whole pass has just failed: start with its halves.
    if (ids.length === 1) await single(ids[0]!);
    else await halves(ids);
    return { grouped: ids.length, changes: [] };
  }
}
