import type { HavenDatabase } from '@haven/db';
import { sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../auth/access';
import { requirePrincipal } from '../auth/plugin';
import { reason, text, uuid } from '../input/schemas';
import { recordAudit } from '../audit/repository';
import { isoOrNull, queryRows, UUID_PATTERN } from '../db-rows';
import { ForbiddenError, NotFoundError, RefusedError } from '../errors';
import { removeIncident } from '../retention/purge';
import { CATEGORY_LABELS, REFERRAL_ACTIONS, ukTime, whyFlagged } from '../triage/workflow';

const UUID = UUID_PATTERN;
const REASON = reason();
const SearchSchema = z.object({ schoolId: uuid('a school id'), q: text({ max: 100 }).default('') });
const FlagSchema = z.object({ vulnerable: z.boolean(), reason: REASON }).strict();
const SubjectAccessSchema = z.object({ reason: REASON, format: z.enum(['json', 'html']).default('json') }).strict();
const EraseSchema = z.object({ reason: REASON }).strict();
const REFERRALS = new Set(REFERRAL_ACTIONS);

type PersonRow = {
  id: string;
  school_id: string;
  school_name: string;
  external_id: string | null;
  os_username: string;
  display_name: string;
  kind: 'pupil' | 'staff';
  year_group: string | null;
  class_name: string | null;
  send: boolean;
  looked_after: boolean;
  vulnerable_manual: boolean;
  left_at: unknown;
};

/** The person, if the user holds one of `roles` at their school; 404 otherwise (no hint that they exist). */
async function personFor(db: HavenDatabase, request: FastifyRequest, roles: string[]): Promise<{ me: Principal; person: PersonRow }> {
  const me = requirePrincipal(request);
  if (!me.roles.some((r) => roles.includes(r.role))) throw new ForbiddenError();
  const id = (request.params as { personId: string }).personId;
  if (!UUID.test(id)) throw new NotFoundError('person');
  const [person] = await queryRows<PersonRow>(
    db,
    sql`select p.id, p.school_id, s.name as school_name, p.external_id, p.os_username, p.display_name, p.kind, p.year_group, p.class_name,
               p.send, p.looked_after, p.vulnerable_manual, p.left_at
        from people p join schools s on s.id = p.school_id where p.id = ${id}`,
  );
  if (!person || !me.roles.some((r) => r.schoolId === person.school_id && roles.includes(r.role))) throw new NotFoundError('person');
  return { me, person };
}

/**
 * Everything Haven holds about one person: their directory entry, the incidents attributed to
 * them (with notes and history), and their own events with evidence — including their events
 * inside clusters, but never the other pupils' events of a cluster.
 */
export async function subjectAccess(db: HavenDatabase, person: PersonRow) {
  const incidents = await queryRows<{
    id: string;
    category: string;
    severity: number;
    status: string;
    outcome: string | null;
    actions: string[];
    first_seen_at: unknown;
    last_seen_at: unknown;
    closed_at: unknown;
  }>(
    db,
    sql`select id, category, severity, status, outcome, actions, first_seen_at, last_seen_at, closed_at from incidents
        where school_id = ${person.school_id} and kind = 'person' and merged_into_id is null
          and (person_id = ${person.id} or (person_id is null and subject_kind <> 'shared' and subject_key = ${person.os_username}))
        order by first_seen_at`,
  );
  const ids = incidents.map((i) => i.id);
  const events = await queryRows<{
    id: string;
    incident_id: string;
    occurred_at: unknown;
    source: string;
    category: string;
    severity: number;
    rule_ids: string[];
    evidence: { match: string; before: string; after: string };
    app: string | null;
    window_title: string | null;
    url: string | null;
    hostname: string;
  }>(
    db,
    sql`select e.id, e.incident_id, e.occurred_at, e.source, e.category, e.severity, e.rule_ids, e.evidence, e.app, e.window_title, e.url, d.hostname
        from events e join devices d on d.id = e.device_id left join incidents i on i.id = e.incident_id
        where e.school_id = ${person.school_id}
          and (${ids.length > 0 ? sql`e.incident_id in ${ids}` : sql`false`}
               or (lower(e.os_user) = ${person.os_username} and i.kind = 'cluster'))
        order by e.occurred_at`,
  );
  const notes = ids.length
    ? await queryRows<{ incident_id: string; at: unknown; text: string }>(db, sql`select incident_id, at, text from incident_notes where incident_id in ${ids} order by at`)
    : [];
  const history = ids.length
    ? await queryRows<{ incident_id: string; at: unknown; field: string; from_value: unknown; to_value: unknown }>(
        db,
        sql`select incident_id, at, field, from_value, to_value from incident_history where incident_id in ${ids} order by id`,
      )
    : [];
  const iso = isoOrNull;
  return {
    generatedAt: new Date().toISOString(),
    notice:
      'Subject access export from Haven. Before release, review it for information about other people (for example names in typed text or in staff notes) and for exemptions that apply to safeguarding records.',
    person: {
      id: person.id,
      school: person.school_name,
      name: person.display_name,
      osUsername: person.os_username,
      misId: person.external_id,
      role: person.kind,
      yearGroup: person.year_group,
      className: person.class_name,
      send: person.send,
      lookedAfter: person.looked_after,
      flaggedVulnerable: person.vulnerable_manual,
      leftAt: iso(person.left_at),
    },
    incidents: incidents.map((i) => ({
      id: i.id,
      category: i.category,
      severity: Number(i.severity),
      status: i.status,
      outcome: i.outcome,
      actions: i.actions,
      firstSeenAt: iso(i.first_seen_at),
      lastSeenAt: iso(i.last_seen_at),
      closedAt: iso(i.closed_at),
      notes: notes.filter((n) => n.incident_id === i.id).map((n) => ({ at: iso(n.at), text: n.text })),
      history: history.filter((h) => h.incident_id === i.id).map((h) => ({ at: iso(h.at), field: h.field, from: h.from_value, to: h.to_value })),
    })),
    events: events.map((e) => ({
      id: e.id,
      incidentId: ids.includes(e.incident_id) ? e.incident_id : null,
      occurredAt: iso(e.occurred_at),
      source: e.source,
      category: e.category,
      severity: Number(e.severity),
      why: whyFlagged({ source: e.source, category: e.category, severity: Number(e.severity), ruleIds: e.rule_ids }),
      device: e.hostname,
      app: e.app,
      windowTitle: e.window_title,
      url: e.url,
      evidence: e.evidence,
    })),
  };
}

const escapeHtml = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The same export as a page a person can read (and print). */
export function subjectAccessHtml(data: Awaited<ReturnType<typeof subjectAccess>>): string {
  const when = (iso: string | null) => (iso ? ukTime(new Date(iso)) : '—');
  const label = (c: string) => CATEGORY_LABELS[c as keyof typeof CATEGORY_LABELS] ?? c;
  const p = data.person;
  const rows = data.events
    .map(
      (e) =>
        `<tr><td>${escapeHtml(when(e.occurredAt))}</td><td>${escapeHtml(label(e.category))}</td><td>${escapeHtml(e.severity)}</td><td>${escapeHtml(e.device)}</td><td>${escapeHtml(e.windowTitle)}${e.url ? `<br>${escapeHtml(e.url)}` : ''}</td><td>${escapeHtml(e.evidence.before)}<mark>${escapeHtml(e.evidence.match)}</mark>${escapeHtml(e.evidence.after)}</td></tr>`,
    )
    .join('\n');
  const incidents = data.incidents
    .map(
      (i) =>
        `<li><strong>${escapeHtml(label(i.category))}</strong>, severity ${escapeHtml(i.severity)}, ${escapeHtml(i.status.replace('_', ' '))}${i.outcome ? ` (${escapeHtml(i.outcome.replace(/_/g, ' '))})` : ''}, first seen ${escapeHtml(when(i.firstSeenAt))}${
          i.notes.length ? `<ul>${i.notes.map((n) => `<li>${escapeHtml(when(n.at))}: ${escapeHtml(n.text)}</li>`).join('')}</ul>` : ''
        }</li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Subject access export: ${escapeHtml(p.name)}</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.5}table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3rem;text-align:left;vertical-align:top}mark{background:#ffe08a}</style></head>
<body>
<h1>What Haven holds about ${escapeHtml(p.name)}</h1>
<p>${escapeHtml(data.notice)}</p>
<h2>Directory entry</h2>
<dl><dt>School</dt><dd>${escapeHtml(p.school)}</dd><dt>Computer user name</dt><dd>${escapeHtml(p.osUsername)}</dd><dt>Role</dt><dd>${escapeHtml(p.role)}</dd><dt>Year group and class</dt><dd>${escapeHtml(p.yearGroup ?? '—')} ${escapeHtml(p.className ?? '')}</dd><dt>SEND / looked after / flagged vulnerable</dt><dd>${p.send ? 'yes' : 'no'} / ${p.lookedAfter ? 'yes' : 'no'} / ${p.flaggedVulnerable ? 'yes' : 'no'}</dd></dl>
<h2>Concerns recorded (${data.incidents.length})</h2>
<ul>${incidents || '<li>None.</li>'}</ul>
<h2>What was flagged on school devices (${data.events.length})</h2>
<table><thead><tr><th>When</th><th>Category</th><th>Severity</th><th>Device</th><th>Window</th><th>Text flagged</th></tr></thead><tbody>
${rows || '<tr><td colspan="6">Nothing.</td></tr>'}
</tbody></table>
<p>Generated ${escapeHtml(when(data.generatedAt))}.</p>
</body></html>
`;
}

export async function peopleRoutes(app: FastifyInstance): Promise<void> {
  const db = app.database.db;

  /** People of a school, to attribute an incident to (DSL, deputy, head). */
  app.get<{ Querystring: z.infer<typeof SearchSchema> }>('/api/people', { schema: { querystring: SearchSchema } }, async (request) => {
    const me = requirePrincipal(request);
    const q = request.query;
    if (!me.roles.some((r) => r.schoolId === q.schoolId && ['dsl', 'deputy_dsl', 'head'].includes(r.role))) throw new ForbiddenError();
    const like = `%${q.q.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    const rows = await queryRows<{ id: string; display_name: string; os_username: string; kind: string; year_group: string | null; class_name: string | null }>(
      db,
      sql`select id, display_name, os_username, kind, year_group, class_name from people
          where school_id = ${q.schoolId} and left_at is null and (lower(display_name) like ${like} or os_username like ${like})
          order by display_name limit 50`,
    );
    return { people: rows.map((r) => ({ id: r.id, displayName: r.display_name, osUsername: r.os_username, kind: r.kind, yearGroup: r.year_group, className: r.class_name })) };
  });

  app.post<{ Body: z.infer<typeof FlagSchema> }>('/api/people/:personId/flag', { bodyLimit: 4096, schema: { body: FlagSchema } }, async (request) => {
    const { me, person } = await personFor(db, request, ['dsl', 'deputy_dsl', 'head']);
    const body = request.body;
    await db.transaction(async (tx) => {
      const t = tx as unknown as HavenDatabase;
      await t.execute(sql`update people set vulnerable_manual = ${body.vulnerable}, updated_at = now() where id = ${person.id}`);
      await recordAudit(t, { actorId: me.staffId, actorName: me.displayName, schoolId: person.school_id, action: 'person.flag', incidentId: null, reason: `${body.vulnerable ? 'flagged' : 'unflagged'}: ${body.reason}` });
    });
    return { vulnerable: body.vulnerable };
  });

  app.post<{ Body: z.infer<typeof SubjectAccessSchema> }>(
    '/api/people/:personId/subject-access',
    { bodyLimit: 4096, schema: { body: SubjectAccessSchema } },
    async (request, reply) => {
      const { me, person } = await personFor(db, request, ['head']);
      const body = request.body;
      const data = await db.transaction(async (tx) => {
        const t = tx as unknown as HavenDatabase;
        await recordAudit(t, { actorId: me.staffId, actorName: me.displayName, schoolId: person.school_id, action: 'subject_access.export', incidentId: null, reason: body.reason });
        return subjectAccess(t, person);
      });
      request.log.info({ personId: person.id, incidents: data.incidents.length, events: data.events.length }, 'Subject access export made.');
      const name = `haven-subject-access-${person.id}.${body.format}`;
      reply.header('content-disposition', `attachment; filename="${name}"`);
      if (body.format === 'html') return reply.type('text/html; charset=utf-8').send(subjectAccessHtml(data));
      return data;
    },
  );

  /**
   * Erasure of what Haven holds about a person's monitoring, where it is lawful: refused while
   * any of their incidents is open or was referred (safeguarding records must then be kept).
   * Their directory entry stays: the MIS import is its source.
   */
  app.post<{ Body: z.infer<typeof EraseSchema> }>('/api/people/:personId/erase', { bodyLimit: 4096, schema: { body: EraseSchema } }, async (request) => {
    const { me, person } = await personFor(db, request, ['head']);
    const body = request.body;
    return db.transaction(async (tx) => {
      const t = tx as unknown as HavenDatabase;
      const data = await subjectAccess(t, person);
      const blocking = data.incidents.filter((i) => i.status !== 'closed' || i.actions.some((a) => REFERRALS.has(a)));
      if (blocking.length > 0) {
        throw new RefusedError(
          `${blocking.length} of this person's incidents ${blocking.length === 1 ? 'is' : 'are'} open or referred: safeguarding records must be kept, so nothing was erased`,
        );
      }
      let incidents = 0;
      let events = 0;
      for (const incident of data.incidents) {
        const removed = await removeIncident(t, incident.id, 'erasure');
        incidents += removed.incidents;
        events += removed.events;
      }
      // Their own events inside clusters: removed, and each cluster's counts kept true.
      const clusterEvents = data.events.filter((e) => e.incidentId === null).map((e) => e.id);
      if (clusterEvents.length > 0) {
        const touched = await queryRows<{ incident_id: string }>(t, sql`delete from events where id in ${clusterEvents} returning incident_id`);
        events += touched.length;
        for (const clusterId of new Set(touched.map((r) => r.incident_id))) {
          await t.execute(
            sql`update incidents i set event_count = s.n, device_count = s.d, version = version + 1, updated_at = now()
                from (select count(*)::int as n, count(distinct device_id)::int as d from events where incident_id = ${clusterId}) s
                where i.id = ${clusterId}`,
          );
        }
      }
      await recordAudit(t, {
        actorId: me.staffId,
        actorName: me.displayName,
        schoolId: person.school_id,
        action: 'erasure',
        incidentId: null,
        reason: `${body.reason} (${incidents} incident${incidents === 1 ? '' : 's'}, ${events} event${events === 1 ? '' : 's'})`,
      });
      return { erased: { incidents, events } };
    });
  });
}
