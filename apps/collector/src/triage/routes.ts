import type { HavenDatabase, IncidentStatus } from '@haven/db';
import { STATUSES } from '@haven/db';
import { CATEGORIES } from '@haven/protocol';
import { sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { canSeeIncident, incidentScopes, type Principal } from '../auth/access';
import { requirePrincipal } from '../auth/plugin';
import { isoDate, queryInt, reason, text, uuid } from '../input/schemas';
import { recordAudit } from '../audit/repository';
import { queryRows, UUID_PATTERN } from '../db-rows';
import { ConflictError, ForbiddenError, IllegalTransitionError, NotFoundError, ValidationError } from '../errors';
import { vulnerableStepOf } from './grouping';
import { getWorkflow, history, incidentDetail, listIncidents, personChronology } from './repository';
import { ACTIONS, ACTIVITY_TYPES, CONCERN_LEVELS, INVOLVEMENT, MAX_NOTE_CHARS, meta, OUTCOMES, transitionProblem, TRANSITIONS } from './workflow';

const UUID = UUID_PATTERN;
const values = (options: { value: string }[]) => options.map((o) => o.value) as [string, ...string[]];

const QuerySchema = z.object({
  status: z.union([text({ max: 20 }), z.array(text({ max: 20 })).max(10)]).optional(),
  category: z.enum(CATEGORIES).optional(),
  schoolId: uuid('a school id').optional(),
  yearGroup: text({ max: 20 }).optional(),
  from: isoDate().optional(),
  to: isoDate().optional(),
  limit: queryInt(1, 500).default(200),
});
type Query = z.infer<typeof QuerySchema>;

const PatchSchema = z
  .object({
    version: z.number().int().min(1),
    status: z.enum(STATUSES).optional(),
    involvement: z.array(z.enum(values(INVOLVEMENT))).max(INVOLVEMENT.length).optional(),
    activityType: z.enum(values(ACTIVITY_TYPES)).nullable().optional(),
    concernLevel: z.enum(values(CONCERN_LEVELS)).nullable().optional(),
    actions: z.array(z.enum(values(ACTIONS))).max(ACTIONS.length).optional(),
    outcome: z.enum(values(OUTCOMES)).nullable().optional(),
    assigneeId: uuid('a staff id').nullable().optional(),
    note: text({ min: 1, max: MAX_NOTE_CHARS, trim: true }).optional(),
  })
  .strict();
type Patch = z.infer<typeof PatchSchema>;

const ReasonSchema = z.object({ reason: reason() }).strict();
type Reason = z.infer<typeof ReasonSchema>;

const AttributeSchema = z.object({ personId: uuid('a person id'), reason: text({ max: 500, trim: true }).optional() }).strict();
type Attribute = z.infer<typeof AttributeSchema>;

const ChronologySchema = z.object({ schoolId: uuid('a school id'), subject: text({ min: 1, max: 256 }) });
type Chronology = z.infer<typeof ChronologySchema>;

/** Someone who may read incidents at all (else 403), and the incident if it is theirs to see (else 404). */
async function visibleIncident(db: HavenDatabase, request: FastifyRequest): Promise<{ me: Principal; id: string; schoolId: string }> {
  const me = requirePrincipal(request);
  if (incidentScopes(me).length === 0) throw new ForbiddenError();
  const id = (request.params as { id: string }).id;
  if (!UUID.test(id)) throw new NotFoundError('incident');
  const [row] = await queryRows<{ school_id: string; routed_to: 'dsl' | 'head' }>(db, sql`select school_id, routed_to from incidents where id = ${id}`);
  if (!row || !canSeeIncident(me, { schoolId: row.school_id, routedTo: row.routed_to })) throw new NotFoundError('incident');
  return { me, id, schoolId: row.school_id };
}

function uniq<T>(list: T[]): T[] {
  return [...new Set(list)];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export async function triageRoutes(app: FastifyInstance): Promise<void> {
  const db = app.database.db;

  app.get('/api/meta', async (request) => {
    requirePrincipal(request);
    return meta();
  });

  app.get<{ Querystring: Query }>('/api/incidents', { schema: { querystring: QuerySchema } }, async (request) => {
    const me = requirePrincipal(request);
    const scopes = incidentScopes(me);
    if (scopes.length === 0) throw new ForbiddenError();
    const q = request.query;
    const asked = q.status === undefined ? ['open'] : Array.isArray(q.status) ? q.status : [q.status];
    const statuses = new Set<IncidentStatus>();
    for (const s of asked) {
      if (s === 'open') ['new', 'in_review', 'escalated'].forEach((x) => statuses.add(x as IncidentStatus));
      else if (s === 'all') STATUSES.forEach((x) => statuses.add(x));
      else if ((STATUSES as readonly string[]).includes(s)) statuses.add(s as IncidentStatus);
      else throw new ValidationError(`status: unknown status ${JSON.stringify(s).slice(0, 40)}`);
    }
    const incidents = await listIncidents(db, scopes, { ...q, statuses: [...statuses] });
    // The queue warns its readers when urgent alerts reach nobody outside the dashboard.
    const alertDelivery = await app.alerter.deliveryHealth(scopes.map((s) => s.schoolId));
    return { incidents, alertDelivery };
  });

  app.get('/api/incidents/:id', async (request) => {
    const { id } = await visibleIncident(db, request);
    const found = await incidentDetail(db, id);
    if (!found) throw new NotFoundError('incident');
    const status = found.workflow.status;
    return { incident: { ...found.detail, allowedStatuses: TRANSITIONS[status] } };
  });

  const reveal = async (request: FastifyRequest<{ Body: Reason }>, action: 'evidence.reveal' | 'evidence.export') => {
    const { me, id, schoolId } = await visibleIncident(db, request);
    const { reason } = request.body;
    return db.transaction(async (tx) => {
      const t = tx as unknown as HavenDatabase;
      await recordAudit(t, { actorId: me.staffId, actorName: me.displayName, schoolId, action, incidentId: id, reason });
      const evidence = await queryRows<{ id: string; evidence: { match: string; before: string; after: string }; window_title: string | null; url: string | null }>(
        t,
        sql`select id, evidence, window_title, url from events where incident_id = ${id} order by occurred_at asc limit 500`,
      );
      request.log.info({ incidentId: id, action }, 'Evidence revealed.');
      return {
        me,
        id,
        evidence: evidence.map((e) => ({ eventId: e.id, match: e.evidence.match, before: e.evidence.before, after: e.evidence.after, windowTitle: e.window_title, url: e.url })),
      };
    });
  };

  app.post<{ Body: Reason }>('/api/incidents/:id/evidence', { bodyLimit: 4096, schema: { body: ReasonSchema } }, async (request) => {
    const { evidence } = await reveal(request, 'evidence.reveal');
    return { evidence };
  });

  app.post<{ Body: Reason }>('/api/incidents/:id/export', { bodyLimit: 4096, schema: { body: ReasonSchema } }, async (request, reply) => {
    const { evidence, id } = await reveal(request, 'evidence.export');
    const found = await incidentDetail(db, id);
    reply.header('content-disposition', `attachment; filename="haven-incident-${id}.json"`);
    reply.header('cache-control', 'no-store');
    return { exportedAt: new Date().toISOString(), incident: found?.detail, evidence };
  });

  app.post('/api/incidents/:id/acknowledge', { bodyLimit: 1024 }, async (request) => {
    const { me, id } = await visibleIncident(db, request);
    await db.transaction(async (tx) => {
      const t = tx as unknown as HavenDatabase;
      const wf = await getWorkflow(t, id, true);
      if (!wf || wf.acknowledged_at) return;
      await t.execute(
        sql`update incidents set acknowledged_at = now(), acknowledged_by = ${me.staffId},
              status = case when status = 'new' then 'in_review' else status end, version = version + 1, updated_at = now()
            where id = ${id}`,
      );
      await history(t, id, 'acknowledged', null, true, me.staffId);
      if (wf.status === 'new') await history(t, id, 'status', 'new', 'in_review', me.staffId);
    });
    await app.live.incidentChanged(id);
    const found = await incidentDetail(db, id);
    return { incident: { ...found!.detail, allowedStatuses: TRANSITIONS[found!.workflow.status] } };
  });

  app.patch<{ Body: Patch }>('/api/incidents/:id', { bodyLimit: 16 * 1024, schema: { body: PatchSchema } }, async (request) => {
    const { me, id, schoolId } = await visibleIncident(db, request);
    const body = request.body;
    await db.transaction(async (tx) => {
      const t = tx as unknown as HavenDatabase;
      const wf = await getWorkflow(t, id, true);
      if (!wf) throw new NotFoundError('incident');
      if (wf.version !== body.version) throw new ConflictError();
      if (wf.merged_into_id) throw new IllegalTransitionError('This incident was merged into a cluster; change the cluster instead.');

      const next = {
        status: body.status ?? wf.status,
        involvement: body.involvement === undefined ? wf.involvement : uniq(body.involvement),
        activity_type: body.activityType === undefined ? wf.activity_type : body.activityType,
        concern_level: body.concernLevel === undefined ? wf.concern_level : body.concernLevel,
        actions: body.actions === undefined ? wf.actions : uniq(body.actions),
        outcome: body.outcome === undefined ? wf.outcome : body.outcome,
        assignee_id: body.assigneeId === undefined ? wf.assignee_id : body.assigneeId,
      };
      const problem = transitionProblem(wf.status, next.status, { status: next.status, actions: next.actions, outcome: next.outcome });
      if (problem) throw new IllegalTransitionError(problem);
      if (next.assignee_id && next.assignee_id !== wf.assignee_id) {
        const roles = wf.routed_to === 'head' ? ['head'] : ['dsl', 'deputy_dsl', 'head'];
        const [ok] = await queryRows<{ id: string }>(
          t,
          sql`select s.id from staff s join staff_roles r on r.staff_id = s.id
              where s.id = ${next.assignee_id} and r.school_id = ${schoolId} and r.role in ${roles} and s.disabled_at is null limit 1`,
        );
        if (!ok) throw new ValidationError('assigneeId: not a member of staff who may handle this incident');
      }

      const fields: Array<[keyof typeof next, string]> = [
        ['status', 'status'],
        ['involvement', 'involvement'],
        ['activity_type', 'activityType'],
        ['concern_level', 'concernLevel'],
        ['actions', 'actions'],
        ['outcome', 'outcome'],
        ['assignee_id', 'assignee'],
      ];
      const changed = fields.filter(([column]) => !same(wf[column], next[column]));
      if (changed.length === 0 && !body.note) return;
      const reopened = wf.status === 'closed' && next.status !== 'closed';
      await t.execute(
        sql`update incidents set status = ${next.status}, involvement = array(select jsonb_array_elements_text(${JSON.stringify(next.involvement)}::jsonb)), activity_type = ${next.activity_type},
              concern_level = ${next.concern_level}, actions = array(select jsonb_array_elements_text(${JSON.stringify(next.actions)}::jsonb)), outcome = ${reopened && body.outcome === undefined ? null : next.outcome},
              assignee_id = ${next.assignee_id},
              acknowledged_at = coalesce(acknowledged_at, now()), acknowledged_by = coalesce(acknowledged_by, ${me.staffId}::uuid),
              closed_at = case when ${next.status} = 'closed' then coalesce(closed_at, now()) else null end,
              version = version + 1, updated_at = now()
            where id = ${id}`,
      );
      for (const [column, field] of changed) await history(t, id, field, wf[column], next[column], me.staffId);
      if (reopened && body.outcome === undefined && wf.outcome) await history(t, id, 'outcome', wf.outcome, null, me.staffId);
      if (body.note) {
        await t.execute(sql`insert into incident_notes (incident_id, author_id, text) values (${id}, ${me.staffId}, ${body.note})`);
        await history(t, id, 'note', null, 'added', me.staffId);
      }
    });
    await app.live.incidentChanged(id);
    const found = await incidentDetail(db, id);
    return { incident: { ...found!.detail, allowedStatuses: TRANSITIONS[found!.workflow.status] } };
  });

  app.post<{ Body: Attribute }>('/api/incidents/:id/attribute', { bodyLimit: 4096, schema: { body: AttributeSchema } }, async (request) => {
    const { me, id, schoolId } = await visibleIncident(db, request);
    const body = request.body;
    const toHead = await db.transaction(async (tx) => {
      const t = tx as unknown as HavenDatabase;
      const [incident] = await queryRows<{ subject_kind: string; subject_key: string; device_id: string | null; hostname: string | null; room: string | null; severity: number; merged_into_id: string | null }>(
        t,
        sql`select i.subject_kind, i.subject_key, i.device_id, d.hostname, d.room, i.severity, i.merged_into_id
            from incidents i left join devices d on d.id = i.device_id where i.id = ${id} for update of i`,
      );
      if (!incident || incident.merged_into_id) throw new NotFoundError('incident');
      if (incident.subject_kind !== 'shared' && incident.subject_kind !== 'unknown') {
        throw new IllegalTransitionError('Only an incident from a shared logon or an unknown user can be attributed to someone.');
      }
      const [person] = await queryRows<{ id: string; os_username: string; kind: 'pupil' | 'staff'; display_name: string; vulnerable: boolean }>(
        t,
        sql`select id, os_username, kind, display_name, (send or looked_after or vulnerable_manual) as vulnerable
            from people where id = ${body.personId} and school_id = ${schoolId}`,
      );
      if (!person) throw new ValidationError('personId: no such person at this school');
      const step = person.kind === 'pupil' && person.vulnerable ? await vulnerableStepOf(t, schoolId) : 0;
      await t.execute(
        sql`update incidents set person_id = ${person.id}, subject_key = ${person.os_username}, subject_kind = ${person.kind},
              routed_to = ${person.kind === 'staff' ? 'head' : 'dsl'}, vulnerability_step = ${step},
              severity = least(5, severity + ${step}), version = version + 1, updated_at = now()
            where id = ${id}`,
      );
      await history(
        t,
        id,
        'attribution',
        { osUser: incident.subject_key, device: incident.hostname, room: incident.room },
        { personId: person.id, displayName: person.display_name, ...(body.reason ? { reason: body.reason } : {}) },
        me.staffId,
      );
      if (person.kind === 'staff') await history(t, id, 'routedTo', 'dsl', 'head', me.staffId);
      await recordAudit(t, { actorId: me.staffId, actorName: me.displayName, schoolId, action: 'incident.attribute', incidentId: id, reason: body.reason ?? null });
      return person.kind === 'staff';
    });
    await app.live.incidentChanged(id, { leftDslRoute: toHead });
    const found = await incidentDetail(db, id);
    // Attributed to a member of staff: from now on it is the head's, not the DSL's.
    if (!found || !canSeeIncident(me, { schoolId, routedTo: found.summary.routedTo })) {
      return { incident: null, message: 'Attributed to a member of staff: the incident now goes to the head teacher.' };
    }
    return { incident: { ...found!.detail, allowedStatuses: TRANSITIONS[found!.workflow.status] } };
  });

  app.get<{ Querystring: Chronology }>('/api/people/chronology', { schema: { querystring: ChronologySchema } }, async (request) => {
    const me = requirePrincipal(request);
    const scopes = incidentScopes(me);
    if (scopes.length === 0) throw new ForbiddenError();
    const q = request.query;
    // Only a school where the user reads incidents: the directory entry is that school's data too.
    if (!scopes.some((s) => s.schoolId === q.schoolId)) throw new NotFoundError('person');
    return personChronology(db, scopes, q.schoolId, q.subject.toLowerCase());
  });
}
