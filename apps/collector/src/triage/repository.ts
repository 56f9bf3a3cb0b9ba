import type { HavenDatabase, IncidentStatus } from '@haven/db';
import { sql, type SQL } from 'drizzle-orm';
import type { IncidentScope } from '../auth/access';
import { isoOrNull, queryRows } from '../db-rows';
import { history } from './grouping';
import { explanationView, whyFlagged, type ReasonView, type StoredReason } from './workflow';

export type Subject = { key: string; displayName: string | null; kind: 'pupil' | 'staff' | 'shared' | 'unknown'; yearGroup: string | null; personId: string | null };

export type IncidentSummary = {
  id: string;
  schoolId: string;
  schoolName: string;
  kind: 'person' | 'cluster';
  likelyLessonContent: boolean;
  subject: Subject;
  category: string;
  severity: number;
  status: IncidentStatus;
  routedTo: 'dsl' | 'head';
  eventCount: number;
  deviceCount: number;
  firstSeenAt: string;
  lastSeenAt: string;
  acknowledgedAt: string | null;
  assignee: { id: string; displayName: string } | null;
  /** Set when a cluster absorbed this incident: it has left the queue. */
  mergedInto: string | null;
  /** Events from a class account: where it was used. Kept after the DSL attributes the incident. */
  sharedLogon: { osUser: string; device: { id: string; hostname: string; room: string | null } } | null;
  /** Why the severity was raised: the pupil's SEND, looked-after or manual flag. */
  vulnerability: { send: boolean; lookedAfter: boolean; flagged: boolean; severityRaisedBy: number } | null;
  version: number;
};

export type EventView = {
  id: string;
  occurredAt: string;
  source: 'title' | 'keys' | 'screen';
  category: string;
  severity: number;
  ruleIds: string[];
  /**
   * The scorer's reasons as the agent sent them, each kind and adjustment in words; null for
   * an older agent's event. Rule ids and names only, no captured text: shown without a reveal.
   */
  explanation: ReasonView[] | null;
  why: string;
  device: { id: string; hostname: string };
  osUser: string;
  app: string | null;
};

type SummaryRow = {
  id: string;
  school_id: string;
  school_name: string;
  kind: 'person' | 'cluster';
  subject_key: string;
  subject_kind: 'pupil' | 'staff' | 'shared' | 'unknown';
  person_id: string | null;
  device_id: string | null;
  device_hostname: string | null;
  device_room: string | null;
  shared_os_user: string | null;
  vulnerability_step: number;
  send: boolean | null;
  looked_after: boolean | null;
  vulnerable_manual: boolean | null;
  display_name: string | null;
  year_group: string | null;
  category: string;
  severity: number;
  status: IncidentStatus;
  routed_to: 'dsl' | 'head';
  event_count: number;
  device_count: number;
  first_seen_at: unknown;
  last_seen_at: unknown;
  acknowledged_at: unknown;
  assignee_id: string | null;
  assignee_name: string | null;
  merged_into_id: string | null;
  version: number;
};

const SUMMARY_SELECT = sql`
  select i.id, i.school_id, s.name as school_name, i.kind, i.subject_key, i.subject_kind, i.person_id, p.display_name, p.year_group,
         i.device_id, dv.hostname as device_hostname, dv.room as device_room, i.vulnerability_step, p.send, p.looked_after, p.vulnerable_manual,
         case when i.device_id is null then null else (select os_user from events where incident_id = i.id limit 1) end as shared_os_user,
         i.category, i.severity, i.status, i.routed_to, i.event_count, i.device_count, i.first_seen_at, i.last_seen_at,
         i.acknowledged_at, i.assignee_id, a.display_name as assignee_name, i.merged_into_id, i.version
  from incidents i
  join schools s on s.id = i.school_id
  left join people p on p.id = i.person_id
  left join staff a on a.id = i.assignee_id
  left join devices dv on dv.id = i.device_id`;

const iso = isoOrNull;

function toSummary(r: SummaryRow): IncidentSummary {
  return {
    id: r.id,
    schoolId: r.school_id,
    schoolName: r.school_name,
    kind: r.kind,
    likelyLessonContent: r.kind === 'cluster',
    subject:
      r.kind === 'cluster'
        ? { key: 'cluster', displayName: null, kind: 'unknown', yearGroup: null, personId: null }
        : { key: r.subject_key, displayName: r.display_name, kind: r.subject_kind, yearGroup: r.year_group, personId: r.person_id },
    category: r.category,
    severity: Number(r.severity),
    status: r.status,
    routedTo: r.routed_to,
    eventCount: Number(r.event_count),
    deviceCount: Number(r.device_count),
    firstSeenAt: iso(r.first_seen_at)!,
    lastSeenAt: iso(r.last_seen_at)!,
    acknowledgedAt: iso(r.acknowledged_at),
    assignee: r.assignee_id ? { id: r.assignee_id, displayName: r.assignee_name ?? '' } : null,
    mergedInto: r.merged_into_id,
    sharedLogon: r.device_id
      ? { osUser: (r.shared_os_user ?? r.subject_key).toLowerCase(), device: { id: r.device_id, hostname: r.device_hostname ?? '', room: r.device_room } }
      : null,
    vulnerability:
      r.send || r.looked_after || r.vulnerable_manual || Number(r.vulnerability_step) > 0
        ? { send: r.send === true, lookedAfter: r.looked_after === true, flagged: r.vulnerable_manual === true, severityRaisedBy: Number(r.vulnerability_step) }
        : null,
    version: Number(r.version),
  };
}

/** SQL true for incidents inside the scopes (false when there are none). */
export function scopeCondition(scopes: IncidentScope[]): SQL {
  if (scopes.length === 0) return sql`false`;
  return sql`(${sql.join(
    scopes.map((s) => sql`(i.school_id = ${s.schoolId} and i.routed_to in ${s.routes})`),
    sql` or `,
  )})`;
}

export type QueueFilter = {
  statuses: IncidentStatus[];
  category?: string;
  schoolId?: string;
  yearGroup?: string;
  from?: string;
  to?: string;
  limit: number;
};

export async function listIncidents(db: HavenDatabase, scopes: IncidentScope[], f: QueueFilter): Promise<IncidentSummary[]> {
  const where: SQL[] = [scopeCondition(scopes), sql`i.merged_into_id is null`, sql`i.status in ${f.statuses}`];
  if (f.category) where.push(sql`i.category = ${f.category}`);
  if (f.schoolId) where.push(sql`i.school_id = ${f.schoolId}`);
  if (f.yearGroup) where.push(sql`p.year_group = ${f.yearGroup}`);
  if (f.from) where.push(sql`i.last_seen_at >= ${f.from}::date`);
  if (f.to) where.push(sql`i.last_seen_at < (${f.to}::date + 1)`);
  const rows = await queryRows<SummaryRow>(
    db,
    sql`${SUMMARY_SELECT} where ${sql.join(where, sql` and `)} order by i.severity desc, i.first_seen_at asc limit ${f.limit}`,
  );
  return rows.map(toSummary);
}

export async function getSummary(db: HavenDatabase, id: string): Promise<IncidentSummary | null> {
  const [row] = await queryRows<SummaryRow>(db, sql`${SUMMARY_SELECT} where i.id = ${id}`);
  return row ? toSummary(row) : null;
}

export type WorkflowRow = {
  id: string;
  school_id: string;
  routed_to: 'dsl' | 'head';
  status: IncidentStatus;
  involvement: string[];
  activity_type: string | null;
  concern_level: string | null;
  actions: string[];
  outcome: string | null;
  assignee_id: string | null;
  acknowledged_at: unknown;
  merged_into_id: string | null;
  version: number;
};

export async function getWorkflow(db: HavenDatabase, id: string, forUpdate = false): Promise<WorkflowRow | null> {
  const [row] = await queryRows<WorkflowRow>(
    db,
    sql`select id, school_id, routed_to, status, involvement, activity_type, concern_level, actions, outcome, assignee_id,
               acknowledged_at, merged_into_id, version
        from incidents where id = ${id} ${forUpdate ? sql`for update` : sql``}`,
  );
  return row ? { ...row, version: Number(row.version), involvement: pgArray(row.involvement), actions: pgArray(row.actions) } : null;
}

/** text[] arrives as an array from both drivers, but be safe with the literal form. */
function pgArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return value.replace(/^\{|\}$/g, '').split(',').filter(Boolean);
  return [];
}

type EventRow = {
  id: string;
  occurred_at: unknown;
  source: EventView['source'];
  category: string;
  severity: number;
  rule_ids: string[];
  explanation: unknown;
  device_id: string;
  hostname: string;
  os_user: string;
  app: string | null;
};

function toEventView(r: EventRow): EventView {
  const ruleIds = pgArray(r.rule_ids);
  const severity = Number(r.severity);
  const explanation = storedExplanation(r.explanation);
  return {
    id: r.id,
    occurredAt: iso(r.occurred_at)!,
    source: r.source,
    category: r.category,
    severity,
    ruleIds,
    explanation: explanationView(explanation),
    why: whyFlagged({ source: r.source, category: r.category, severity, ruleIds, explanation }),
    device: { id: r.device_id, hostname: r.hostname },
    osUser: r.os_user,
    app: r.app,
  };
}

/** jsonb arrives parsed from both drivers; a string is read too, to be safe. Validated at ingest. */
function storedExplanation(value: unknown): StoredReason[] | null {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) && parsed.length ? (parsed as StoredReason[]) : null;
}

const EVENT_SELECT = sql`
  select e.id, e.occurred_at, e.source, e.category, e.severity, e.rule_ids, e.explanation, e.device_id, d.hostname, e.os_user, e.app
  from events e join devices d on d.id = e.device_id`;

export async function incidentEvents(db: HavenDatabase, incidentId: string, limit = 500): Promise<EventView[]> {
  const rows = await queryRows<EventRow>(db, sql`${EVENT_SELECT} where e.incident_id = ${incidentId} order by e.occurred_at asc limit ${limit}`);
  return rows.map(toEventView);
}

export async function incidentDetail(db: HavenDatabase, id: string) {
  const summary = await getSummary(db, id);
  const workflow = await getWorkflow(db, id);
  if (!summary || !workflow) return null;
  const events = await incidentEvents(db, id);
  const notes = await queryRows<{ at: unknown; author_id: string | null; author_name: string | null; text: string }>(
    db,
    sql`select n.at, n.author_id, s.display_name as author_name, n.text
        from incident_notes n left join staff s on s.id = n.author_id where n.incident_id = ${id} order by n.at asc, n.id`,
  );
  const hist = await queryRows<{ at: unknown; actor_id: string | null; actor_name: string | null; field: string; from_value: unknown; to_value: unknown }>(
    db,
    sql`select h.at, h.actor_id, s.display_name as actor_name, h.field, h.from_value, h.to_value
        from incident_history h left join staff s on s.id = h.actor_id where h.incident_id = ${id} order by h.id asc`,
  );
  // Whoever may read this incident may be assigned it.
  const roles = summary.routedTo === 'head' ? ['head'] : ['dsl', 'deputy_dsl', 'head'];
  const assignable = await queryRows<{ id: string; display_name: string }>(
    db,
    sql`select distinct s.id, s.display_name from staff s join staff_roles r on r.staff_id = s.id
        where r.school_id = ${summary.schoolId} and r.role in ${roles} and s.disabled_at is null order by s.display_name`,
  );
  return {
    summary,
    workflow,
    detail: {
      ...summary,
      involvement: workflow.involvement,
      activityType: workflow.activity_type,
      concernLevel: workflow.concern_level,
      actions: workflow.actions,
      outcome: workflow.outcome,
      notes: notes.map((n) => ({ at: iso(n.at)!, author: { id: n.author_id ?? '', displayName: n.author_name ?? 'Former member of staff' }, text: n.text })),
      events,
      history: hist.map((h) => ({
        at: iso(h.at)!,
        actor: h.actor_id ? { id: h.actor_id, displayName: h.actor_name ?? '' } : null,
        field: h.field,
        from: h.from_value,
        to: h.to_value,
      })),
      assignable: assignable.map((a) => ({ id: a.id, displayName: a.display_name })),
    },
  };
}

export async function personChronology(db: HavenDatabase, scopes: IncidentScope[], schoolId: string, subjectKey: string) {
  const rows = await queryRows<SummaryRow>(
    db,
    sql`${SUMMARY_SELECT} where ${scopeCondition(scopes)} and i.school_id = ${schoolId} and i.kind = 'person'
        and (i.subject_key = ${subjectKey} or p.os_username = ${subjectKey}) and i.merged_into_id is null order by i.last_seen_at desc limit 500`,
  );
  const incidents = rows.map(toSummary);
  // Events of the person's incidents the user may see, plus those absorbed into clusters.
  const events = await queryRows<EventRow>(
    db,
    sql`${EVENT_SELECT} join incidents i on i.id = e.incident_id
        left join people p on p.id = i.person_id
        where ${scopeCondition(scopes)} and e.school_id = ${schoolId} and (lower(e.os_user) = ${subjectKey} or (p.os_username = ${subjectKey} and i.kind = 'person'))
        order by e.occurred_at desc limit 1000`,
  );
  const [person] = await queryRows<{ id: string; display_name: string; kind: 'pupil' | 'staff'; year_group: string | null }>(
    db,
    sql`select id, display_name, kind, year_group from people where school_id = ${schoolId} and os_username = ${subjectKey}`,
  );
  const subject: Subject = {
    key: subjectKey,
    displayName: person?.display_name ?? null,
    kind: person?.kind ?? 'unknown',
    yearGroup: person?.year_group ?? null,
    personId: person?.id ?? null,
  };
  return { subject, incidents, events: events.map(toEventView) };
}

export { history };
