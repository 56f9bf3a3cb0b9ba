import type { HavenDatabase } from '@haven/db';
import { sql } from 'drizzle-orm';
import { queryRows, toDate, ts } from '../db-rows';
import type { StoredEvent } from '../ingest/repository';

export type GroupingOptions = {
  /** Events of one person and category this close together are one incident (default 30 min). */
  incidentWindowMs: number;
  /** The same trigger on this many devices of a school … (default 5) */
  clusterMinDevices: number;
  /** … within this time is one cluster, likely lesson content (default 10 min). */
  clusterWindowMs: number;
};

export const DEFAULT_GROUPING: GroupingOptions = {
  incidentWindowMs: 30 * 60_000,
  clusterMinDevices: 5,
  clusterWindowMs: 10 * 60_000,
};

/** What grouping did to one incident, for the live feed and alerts once committed. */
export type IncidentChange = { incidentId: string; schoolId: string; created: boolean; severity: number; kind: 'person' | 'cluster' };

/**
 * Groups up to `limit` of a school's stored but ungrouped events (oldest first; only those in
 * `only` when given) into incidents, in one transaction, and returns what changed. Events set
 * aside by an earlier failure (grouping_failed_at) are left alone. The TriageWorker calls it right
 * after each stored batch; events left ungrouped by a crash or an outage are picked up the
 * same way later, so none is ever lost.
 *
 * Grouping of one school is serialised with a transaction-scoped advisory lock, so two
 * collectors (or two passes) never open two incidents for the same pupil or lesson.
 *
 *   event ─► staff? ──yes──────────────────────────────► person incident (routed to the head)
 *              │no
 *              ▼
 *   open cluster for its trigger? ──yes──► join the cluster
 *              │no
 *              ▼
 *   trigger on ≥ N devices within the window? ──yes──► new cluster; absorb the untouched
 *              │no                                     person incidents made only of it
 *              ▼
 *   person incident: same user and category, last event within the window, not closed
 *   (or a new one)
 */
export async function groupPending(
  db: HavenDatabase,
  schoolId: string,
  options: GroupingOptions = DEFAULT_GROUPING,
  limit = 2000,
  only?: readonly string[],
): Promise<{ grouped: number; changes: IncidentChange[] }> {
  return db.transaction(async (tx) => {
    const t = tx as unknown as HavenDatabase;
    await t.execute(sql`select pg_advisory_xact_lock(1213, hashtext(${schoolId}))`);
    const rows = await queryRows<{ id: string; device_id: string; occurred_at: unknown; category: string; severity: number; os_user: string; trigger_key: string }>(
      t,
      sql`select id, device_id, occurred_at, category, severity, os_user, trigger_key from events
          where school_id = ${schoolId} and incident_id is null and grouping_failed_at is null
            ${only ? sql`and id in ${only}` : sql``}
          order by occurred_at, id limit ${limit}`,
    );
    if (rows.length === 0) return { grouped: 0, changes: [] };
    const events: StoredEvent[] = rows.map((r) => ({
      id: r.id,
      deviceId: r.device_id,
      occurredAt: toDate(r.occurred_at),
      category: r.category,
      severity: Number(r.severity),
      osUser: r.os_user,
      triggerKey: r.trigger_key,
    }));
    return { grouped: events.length, changes: await groupEvents(t, schoolId, events, options) };
  });
}

/** Ids of a school's events waiting to be grouped, oldest first (what groupPending would take). */
export async function pendingEventIds(db: HavenDatabase, schoolId: string, limit: number): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`select id from events where school_id = ${schoolId} and incident_id is null and grouping_failed_at is null
        order by occurred_at, id limit ${limit}`,
  );
  return rows.map((r) => r.id);
}

/** Sets one event aside: grouping it failed for a reason of its own. `reason` is a code, never content. */
export async function setAside(db: HavenDatabase, eventId: string, reason: string): Promise<void> {
  await db.execute(
    sql`update events set grouping_failed_at = now(), grouping_error = ${reason.slice(0, 64)} where id = ${eventId} and incident_id is null`,
  );
}

/** Puts every set-aside event back in line, so a failure a newer version no longer has is grouped. */
export async function retrySetAside(db: HavenDatabase): Promise<number> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`update events set grouping_failed_at = null where grouping_failed_at is not null and incident_id is null returning id`,
  );
  return rows.length;
}

/** How many events grouping has set aside, per the whole collector (for /metrics). */
export async function countSetAside(db: HavenDatabase): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from events where grouping_failed_at is not null`);
  return Number(row?.n ?? 0);
}

type Person = { id: string; kind: 'pupil' | 'staff'; vulnerable: boolean };

/** How much a vulnerable pupil's incidents are raised when the school has not said. */
export const DEFAULT_VULNERABLE_STEP = 1;

/** How much this school raises a vulnerable pupil's incidents. */
export async function vulnerableStepOf(db: HavenDatabase, schoolId: string): Promise<number> {
  const [settings] = await queryRows<{ step: number }>(db, sql`select vulnerable_severity_step as step from school_settings where school_id = ${schoolId}`);
  return Number(settings?.step ?? DEFAULT_VULNERABLE_STEP);
}

async function groupEvents(db: HavenDatabase, schoolId: string, events: StoredEvent[], options: GroupingOptions): Promise<IncidentChange[]> {
  const users = [...new Set(events.map((e) => e.osUser.toLowerCase()))];
  const known = await queryRows<{ id: string; os_username: string; kind: 'pupil' | 'staff'; vulnerable: boolean }>(
    db,
    sql`select id, os_username, kind, (send or looked_after or vulnerable_manual) as vulnerable
        from people where school_id = ${schoolId} and os_username in ${users}`,
  );
  const shared = new Set(
    (await queryRows<{ os_username: string }>(db, sql`select os_username from shared_logons where school_id = ${schoolId} and os_username in ${users}`)).map(
      (r) => r.os_username,
    ),
  );
  const vulnerableStep = await vulnerableStepOf(db, schoolId);
  const people = new Map<string, Person>(known.map((p) => [p.os_username, { id: p.id, kind: p.kind, vulnerable: p.vulnerable === true }]));
  const changes = new Map<string, IncidentChange>();
  const note = (change: IncidentChange) => {
    const seen = changes.get(change.incidentId);
    changes.set(change.incidentId, seen ? { ...change, created: seen.created || change.created } : change);
  };
  /** Events to put in each incident, and whether grouping opened it. */
  const pending = new Map<string, { events: StoredEvent[]; created: boolean }>();
  const add = (incidentId: string, event: StoredEvent, created = false) => {
    const entry = pending.get(incidentId) ?? { events: [], created };
    entry.events.push(event);
    pending.set(incidentId, entry);
  };
  const ordered = [...events].sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());

  // A batch is grouped in a few statements per trigger and per person, not per event.
  const byTrigger = groupBy(
    ordered.filter((e) => people.get(e.osUser.toLowerCase())?.kind !== 'staff'),
    (e) => e.triggerKey,
  );
  const inCluster = new Set<string>();
  for (const group of byTrigger.values()) {
    const cluster = await findOrOpenCluster(db, schoolId, group[group.length - 1]!, options, note);
    if (!cluster) continue;
    for (const e of group) {
      add(cluster, e);
      inCluster.add(e.id);
    }
  }

  // A shared logon (a class account) is one "person" per device: attribution is by device,
  // room and time until the DSL names the pupil.
  const byPerson = groupBy(
    ordered.filter((e) => !inCluster.has(e.id)),
    (e) => `${e.osUser.toLowerCase()}\u0000${e.category}${shared.has(e.osUser.toLowerCase()) ? `\u0000${e.deviceId}` : ''}`,
  );
  for (const group of byPerson.values()) {
    const first = group[0]!;
    const user = first.osUser.toLowerCase();
    const isShared = shared.has(user);
    const person = isShared ? undefined : people.get(user);
    const step = person?.kind === 'pupil' && person.vulnerable ? vulnerableStep : 0;
    const [open] = await queryRows<{ id: string; first_seen_at: unknown; last_seen_at: unknown }>(
      db,
      sql`select id, first_seen_at, last_seen_at from incidents
          where school_id = ${schoolId} and kind = 'person' and subject_key = ${user} and category = ${first.category}
            ${isShared ? sql`and device_id = ${first.deviceId}` : sql``}
            and merged_into_id is null and status <> 'closed'
            and last_seen_at >= ${ts(new Date(first.occurredAt.getTime() - options.incidentWindowMs))}
            and first_seen_at <= ${ts(new Date(first.occurredAt.getTime() + options.incidentWindowMs))}
          order by last_seen_at desc limit 1`,
    );
    let current: { id: string; last: number } | null = open ? { id: open.id, last: toDate(open.last_seen_at).getTime() } : null;
    for (const event of group) {
      const at = event.occurredAt.getTime();
      if (current && at - current.last <= options.incidentWindowMs) {
        add(current.id, event);
        current.last = Math.max(current.last, at);
        continue;
      }
      const kind = isShared ? 'shared' : (person?.kind ?? 'unknown');
      const routedTo = kind === 'staff' ? 'head' : 'dsl';
      const severity = Math.min(5, event.severity + step);
      const [created] = await queryRows<{ id: string }>(
        db,
        sql`insert into incidents (school_id, kind, subject_key, person_id, subject_kind, device_id, vulnerability_step, category, severity, routed_to, first_seen_at, last_seen_at)
            values (${schoolId}, 'person', ${user}, ${person?.id ?? null}, ${kind}, ${isShared ? event.deviceId : null}, ${step}, ${event.category}, ${severity},
                    ${routedTo}, ${ts(event.occurredAt)}, ${ts(event.occurredAt)})
            returning id`,
      );
      await history(db, created!.id, 'created', null, { severity, category: event.category, routedTo, ...(step > 0 ? { raisedForVulnerability: step } : {}) });
      add(created!.id, event, true);
      current = { id: created!.id, last: at };
    }
  }

  for (const [incidentId, { events: list, created }] of pending) note(await attach(db, incidentId, list, created));
  return [...changes.values()];
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

async function findOrOpenCluster(
  db: HavenDatabase,
  schoolId: string,
  event: StoredEvent,
  options: GroupingOptions,
  note: (change: IncidentChange) => void,
): Promise<string | null> {
  const since = new Date(event.occurredAt.getTime() - options.clusterWindowMs);
  const until = new Date(event.occurredAt.getTime() + options.clusterWindowMs);
  const [existing] = await queryRows<{ id: string }>(
    db,
    sql`select id from incidents
        where school_id = ${schoolId} and kind = 'cluster' and trigger_key = ${event.triggerKey}
          and status <> 'closed' and last_seen_at >= ${ts(since)}
        order by last_seen_at desc limit 1`,
  );
  if (existing) return existing.id;

  const [spread] = await queryRows<{ devices: number }>(
    db,
    sql`select count(distinct device_id)::int as devices from events
        where school_id = ${schoolId} and trigger_key = ${event.triggerKey} and occurred_at between ${ts(since)} and ${ts(until)}`,
  );
  if (Number(spread?.devices ?? 0) < options.clusterMinDevices) return null;

  const [cluster] = await queryRows<{ id: string }>(
    db,
    sql`insert into incidents (school_id, kind, subject_key, subject_kind, trigger_key, category, severity, routed_to, first_seen_at, last_seen_at)
        values (${schoolId}, 'cluster', 'cluster', 'unknown', ${event.triggerKey}, ${event.category}, ${event.severity}, 'dsl', ${ts(event.occurredAt)}, ${ts(event.occurredAt)})
        returning id`,
  );
  const clusterId = cluster!.id;
  await history(db, clusterId, 'created', null, { kind: 'cluster', severity: event.severity, category: event.category });

  // Person incidents made only of this trigger, that nobody has touched yet, join the cluster.
  const absorbed = await queryRows<{ id: string }>(
    db,
    sql`select distinct i.id from incidents i join events e on e.incident_id = i.id
        where e.school_id = ${schoolId} and e.trigger_key = ${event.triggerKey} and e.occurred_at >= ${ts(since)}
          and i.kind = 'person' and i.status = 'new' and i.merged_into_id is null and i.subject_kind <> 'staff'
          and i.assignee_id is null and i.acknowledged_at is null
          and not exists (select 1 from events o where o.incident_id = i.id and o.trigger_key <> ${event.triggerKey})`,
  );
  for (const { id } of absorbed) {
    await db.execute(sql`update events set incident_id = ${clusterId} where incident_id = ${id}`);
    await db.execute(sql`update incidents set merged_into_id = ${clusterId}, version = version + 1, updated_at = now() where id = ${id}`);
    await history(db, id, 'merged', null, { into: clusterId });
    // Dashboards showing it must drop it from their queues.
    note({ incidentId: id, schoolId, created: false, severity: 0, kind: 'person' });
  }
  if (absorbed.length > 0) {
    const [totals] = await queryRows<{ severity: number; first: unknown; last: unknown; events: number; devices: number }>(
      db,
      sql`update incidents set
            event_count = s.events, device_count = s.devices, severity = greatest(incidents.severity, s.severity),
            first_seen_at = least(incidents.first_seen_at, s.first), last_seen_at = greatest(incidents.last_seen_at, s.last)
          from (select count(*)::int as events, count(distinct device_id)::int as devices, max(severity) as severity,
                       min(occurred_at) as first, max(occurred_at) as last
                from events where incident_id = ${clusterId}) s
          where incidents.id = ${clusterId}
          returning incidents.severity, s.first, s.last, s.events, s.devices`,
    );
    await history(db, clusterId, 'absorbed', null, { incidents: absorbed.length, events: totals?.events ?? 0 });
    note({ incidentId: clusterId, schoolId, created: true, severity: Number(totals?.severity ?? event.severity), kind: 'cluster' });
  }
  return clusterId;
}

/** Puts events in an incident and updates its counts, severity and times. */
async function attach(db: HavenDatabase, incidentId: string, list: StoredEvent[], created: boolean): Promise<IncidentChange> {
  const ids = list.map((e) => e.id);
  const raw = Math.max(...list.map((e) => e.severity));
  const first = new Date(Math.min(...list.map((e) => e.occurredAt.getTime())));
  const last = new Date(Math.max(...list.map((e) => e.occurredAt.getTime())));
  await db.execute(sql`update events set incident_id = ${incidentId} where id in ${ids}`);
  const [row] = await queryRows<{ school_id: string; severity: number; old_severity: number; kind: 'person' | 'cluster' }>(
    db,
    sql`update incidents i set
          event_count = i.event_count + ${ids.length},
          -- Counted incrementally: a cluster can hold many thousands of events.
          device_count = i.device_count + (
            select count(*)::int from jsonb_array_elements_text(${JSON.stringify([...new Set(list.map((e) => e.deviceId))])}::jsonb) as d(id)
            where not exists (select 1 from events o where o.incident_id = i.id and o.device_id = d.id::uuid and not (o.id in ${ids}))),
          -- A vulnerable pupil's incident is raised by the school's step (capped at 5).
          severity = greatest(i.severity, least(5, ${raw} + i.vulnerability_step)),
          first_seen_at = least(i.first_seen_at, ${ts(first)}),
          last_seen_at = greatest(i.last_seen_at, ${ts(last)}),
          updated_at = now(),
          version = i.version + ${created ? 0 : 1}
        from (select severity as old_severity from incidents where id = ${incidentId}) o
        where i.id = ${incidentId}
        returning i.school_id, i.severity, o.old_severity, i.kind`,
  );
  if (!row) throw new Error('incident vanished while grouping');
  if (!created && Number(row.severity) > Number(row.old_severity)) {
    await history(db, incidentId, 'severity', Number(row.old_severity), Number(row.severity));
  }
  return { incidentId, schoolId: row.school_id, created, severity: Number(row.severity), kind: row.kind };
}

export async function history(db: HavenDatabase, incidentId: string, field: string, from: unknown, to: unknown, actorId: string | null = null): Promise<void> {
  await db.execute(
    sql`insert into incident_history (incident_id, actor_id, field, from_value, to_value)
        values (${incidentId}, ${actorId}, ${field}, ${JSON.stringify(from ?? null)}::jsonb, ${JSON.stringify(to ?? null)}::jsonb)`,
  );
}

