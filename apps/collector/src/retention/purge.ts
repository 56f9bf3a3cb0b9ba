import { DEFAULT_RETENTION, type HavenDatabase, type RetentionRules } from '@haven/db';
import { sql } from 'drizzle-orm';
import { recordAudit } from '../audit/repository';
import { queryRows, ts } from '../db-rows';
import { REFERRAL_ACTIONS } from '../triage/workflow';

const DAY_MS = 24 * 3600_000;

export type PurgeResult = { schoolId: string; incidents: number; events: number }[];

/**
 * Deletes what a school no longer needs: closed incidents whose retention period (by outcome,
 * or "referred" when a referral was made) has passed since they were closed, with their events
 * (the evidence), notes, history and alert records, and the person incidents a purged cluster
 * absorbed. Each leaves a tombstone (category, severity, outcome, dates, counts — no names,
 * no text), and each school's purge an audit row. Open incidents are never purged.
 */
export async function purgeExpired(db: HavenDatabase, now: Date = new Date()): Promise<PurgeResult> {
  const schools = await queryRows<{ id: string; retention: RetentionRules | null }>(
    db,
    sql`select s.id, ss.retention from schools s left join school_settings ss on ss.school_id = s.id`,
  );
  const result: PurgeResult = [];
  for (const school of schools) {
    const rules: RetentionRules = { ...DEFAULT_RETENTION, ...(school.retention ?? {}) };
    let incidents = 0;
    let events = 0;
    await db.transaction(async (tx) => {
      const t = tx as unknown as HavenDatabase;
      for (const [rule, days] of Object.entries(rules) as Array<[keyof RetentionRules, number | null]>) {
        if (days === null || days === undefined) continue;
        const cutoff = new Date(now.getTime() - days * DAY_MS);
        const referred = sql`i.actions && array(select jsonb_array_elements_text(${JSON.stringify(REFERRAL_ACTIONS)}::jsonb))`;
        const which =
          rule === 'referred' ? referred : sql`i.outcome = ${rule} and not (${referred})`;
        const expired = await queryRows<{ id: string }>(
          t,
          sql`select i.id from incidents i
              where i.school_id = ${school.id} and i.status = 'closed' and i.closed_at is not null
                and i.closed_at < ${ts(cutoff)} and i.merged_into_id is null and ${which}
              for update`,
        );
        for (const { id } of expired) {
          const removed = await removeIncident(t, id, `retention:${rule}`);
          incidents += removed.incidents;
          events += removed.events;
        }
      }
      if (incidents > 0) {
        await recordAudit(t, {
          actorId: null,
          actorName: 'Haven',
          schoolId: school.id,
          action: 'retention.purge',
          incidentId: null,
          reason: `${incidents} incident${incidents === 1 ? '' : 's'} and ${events} event${events === 1 ? '' : 's'} past their retention period`,
        });
      }
    });
    result.push({ schoolId: school.id, incidents, events });
  }
  return result;
}

/**
 * Deletes one incident with everything hanging off it (and the person incidents merged into
 * it), leaving a tombstone for each. Runs inside the caller's transaction.
 */
export async function removeIncident(db: HavenDatabase, incidentId: string, reason: string): Promise<{ incidents: number; events: number }> {
  const ids = [incidentId, ...(await queryRows<{ id: string }>(db, sql`select id from incidents where merged_into_id = ${incidentId}`)).map((r) => r.id)];
  await db.execute(
    sql`insert into tombstones (school_id, incident_id, category, severity, outcome, event_count, first_seen_at, closed_at, reason)
        select school_id, id, category, severity, outcome, least(event_count, 32767), first_seen_at, closed_at, ${reason}
        from incidents where id in ${ids}`,
  );
  const [deleted] = await queryRows<{ n: number }>(
    db,
    sql`with gone as (delete from events where incident_id in ${ids} returning 1) select count(*)::int as n from gone`,
  );
  // Notes, history and alert deliveries go with the incident (on delete cascade).
  await db.execute(sql`delete from incidents where id in ${ids}`);
  return { incidents: ids.length, events: Number(deleted?.n ?? 0) };
}
