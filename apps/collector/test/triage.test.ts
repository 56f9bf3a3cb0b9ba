import { availableDrivers } from '@haven/db/testing';
import { sql } from 'drizzle-orm';
import WebSocket from 'ws';
import { buildApp } from '../src/app';
import { queryRows } from '../src/db-rows';
import { createLogger } from '../src/logger';
import { totpAt } from '../src/auth/totp';
import { EVIDENCE_MARKER, TestAgent, TITLE_MARKER } from './support/agent-client';
import { sendGrouped, startCollector, TEST_SECRET_KEY, type Harness } from './support/harness';
import { addPerson, addStaff, StaffClient, type StaffMember } from './support/staff';

const minutes = (n: number) => n * 60_000;

describe.each(availableDrivers())(`incidents, workflow and access over the staff API (%s)`, (driver) => {
  let h: Harness;
  let agent: TestAgent;
  let members: Record<'dsl' | 'deputy' | 'head' | 'tech' | 'trust', StaffMember>;
  let dsl: StaffClient;
  let head: StaffClient;
  let tech: StaffClient;
  let trust: StaffClient;

  beforeAll(async () => {
    h = await startCollector(driver);
    const db = h.database.db;
    members = {
      dsl: await addStaff(db, h.schoolId, ['dsl'], 'Dana DSL'),
      deputy: await addStaff(db, h.schoolId, ['deputy_dsl'], 'Dev Deputy'),
      head: await addStaff(db, h.schoolId, ['head'], 'Harriet Head'),
      tech: await addStaff(db, h.schoolId, ['technician'], 'Terry Tech'),
      trust: await addStaff(db, h.schoolId, ['trust_admin'], 'Tara Trust'),
    };
    await addPerson(db, h.schoolId, 'pupil.one', 'pupil', 'Alex Pupil', '9');
    await addPerson(db, h.schoolId, 'teacher.one', 'staff', 'Sam Teacher');
    [dsl, head, tech, trust] = await Promise.all([
      StaffClient.login(h.baseUrl, members.dsl),
      StaffClient.login(h.baseUrl, members.head),
      StaffClient.login(h.baseUrl, members.tech),
      StaffClient.login(h.baseUrl, members.trust),
    ]);
    agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
  });

  const send = (over: Parameters<TestAgent['event']>[0]) => sendGrouped(h, agent, over);

  async function historyCount(id: string): Promise<number> {
    const [row] = await queryRows<{ n: number }>(h.database.db, sql`select count(*)::int as n from incident_history where incident_id = ${id}`);
    return Number(row!.n);
  }

  /** Version, status and history length: what a refused request must leave as it was. */
  async function snapshot(id: string) {
    const detail = (await dsl.get(`/api/incidents/${id}`)).body.incident;
    return { version: detail.version, status: detail.status, actions: detail.actions, outcome: detail.outcome, notes: detail.notes.length, history: await historyCount(id) };
  }

  it('groups one pupil’s events of one category within 30 minutes into one incident with the highest severity', async () => {
    const t0 = Date.now() - minutes(50);
    const user = 'grouping.pupil';
    const a = await send({ osUser: user, category: 'self_harm', severity: 2, occurredAt: new Date(t0).toISOString() });
    const b = await send({ osUser: user, category: 'self_harm', severity: 4, occurredAt: new Date(t0 + minutes(10)).toISOString() });
    const c = await send({ osUser: user.toUpperCase(), category: 'self_harm', severity: 3, occurredAt: new Date(t0 + minutes(25)).toISOString() });
    const other = await send({ osUser: user, category: 'violence', severity: 2, occurredAt: new Date(t0 + minutes(26)).toISOString() });
    const later = await send({ osUser: user, category: 'self_harm', severity: 2, occurredAt: new Date(t0 + minutes(25 + 31)).toISOString() });
    expect(new Set([a, b, c])).toEqual(new Set([a]));
    expect(other).not.toBe(a);
    expect(later).not.toBe(a);

    const { body } = await dsl.get(`/api/incidents/${a}`);
    const incident = body.incident;
    expect(incident).toMatchObject({ severity: 4, eventCount: 3, deviceCount: 1, status: 'new', routedTo: 'dsl', kind: 'person', category: 'self_harm' });
    expect(incident.subject).toMatchObject({ key: user, kind: 'unknown' });
    expect(new Date(incident.firstSeenAt).getTime()).toBe(t0);
    expect(new Date(incident.lastSeenAt).getTime()).toBe(t0 + minutes(25));
    expect(incident.events).toHaveLength(3);
    expect(incident.events[0].why).toMatch(/typed text/);
    // Severity 4 also sends the urgent alert (after the commit, so it may not be recorded yet).
    expect(incident.history.map((e: { field: string }) => e.field).filter((f: string) => f !== 'alert')).toEqual(['created', 'severity']);
    expect(incident.history[1]).toMatchObject({ actor: null, from: 2, to: 4 });
  });

  it('sorts the queue by severity, then the longest waiting, and filters it', async () => {
    const low = await send({ osUser: 'sort.low', category: 'gambling', severity: 1 });
    const high = await send({ osUser: 'sort.high', category: 'gambling', severity: 5 });
    const { body } = await dsl.get('/api/incidents?category=gambling');
    expect(body.incidents.map((i: { id: string }) => i.id)).toEqual([high, low]);
    const severities = (await dsl.get('/api/incidents?status=all')).body.incidents.map((i: { severity: number }) => i.severity);
    expect(severities).toEqual([...severities].sort((x, y) => y - x));
    const year9 = await send({ osUser: 'pupil.one', category: 'drugs', severity: 2 });
    const filtered = (await dsl.get('/api/incidents?yearGroup=9')).body.incidents;
    expect(filtered.map((i: { id: string }) => i.id)).toContain(year9);
    expect(filtered.every((i: { subject: { yearGroup: string } }) => i.subject.yearGroup === '9')).toBe(true);
    expect((await dsl.get('/api/incidents?status=nonsense')).status).toBe(400);
    expect((await dsl.get('/api/incidents?from=yesterday')).status).toBe(400);
  });

  it('follows the workflow: every allowed move works, every other is refused with 422 and changes nothing', async () => {
    const id = await send({ osUser: 'workflow.pupil', category: 'bullying', severity: 3 });
    const patch = async (body: Record<string, unknown>) => {
      const { version } = (await dsl.get(`/api/incidents/${id}`)).body.incident;
      return dsl.patch(`/api/incidents/${id}`, { version, ...body });
    };
    const refused = async (body: Record<string, unknown>, status = 422) => {
      const before = await snapshot(id);
      const reply = await patch(body);
      expect(reply.status).toBe(status);
      expect(reply.body.error).toBe(status === 422 ? 'HAVEN_ERR_ILLEGAL_TRANSITION' : 'HAVEN_ERR_VALIDATION');
      expect(await snapshot(id)).toEqual(before);
    };

    expect((await dsl.get(`/api/incidents/${id}`)).body.incident.allowedStatuses).toEqual(['in_review', 'escalated', 'closed']);
    await refused({ status: 'escalated', actions: ['pastoral_support'] }); // escalation needs a referral, from New too
    await refused({ status: 'closed' }); // closing needs an outcome, from New too
    expect((await patch({ status: 'in_review' })).body.incident).toMatchObject({ status: 'in_review', allowedStatuses: ['escalated', 'closed'] });
    await refused({ status: 'escalated', actions: ['pastoral_support'] });
    await refused({ status: 'closed' });
    await refused({ status: 'new' });
    const escalated = await patch({ status: 'escalated', actions: ['pastoral_support', 'referral_mash'], involvement: ['child_victim'], activityType: 'inappropriate', concernLevel: 'high' });
    expect(escalated.status).toBe(200);
    expect(escalated.body.incident).toMatchObject({ status: 'escalated', actions: ['pastoral_support', 'referral_mash'], involvement: ['child_victim'], concernLevel: 'high' });
    expect((await patch({ status: 'in_review' })).body.incident.status).toBe('in_review');
    expect((await patch({ status: 'escalated' })).body.incident.status).toBe('escalated');
    const closed = await patch({ status: 'closed', outcome: 'resolved', note: 'Spoke to the pupil and parents.' });
    expect(closed.body.incident).toMatchObject({ status: 'closed', outcome: 'resolved', allowedStatuses: ['in_review'] });
    expect(closed.body.incident.notes).toEqual([expect.objectContaining({ text: 'Spoke to the pupil and parents.', author: { id: members.dsl.id, displayName: 'Dana DSL' } })]);
    await refused({ status: 'escalated' });
    const reopened = await patch({ status: 'in_review' });
    expect(reopened.body.incident).toMatchObject({ status: 'in_review', outcome: null });
    expect(reopened.body.incident.history.at(-1)).toMatchObject({ field: 'outcome', from: 'resolved', to: null, actor: { id: members.dsl.id } });
    expect((await patch({ status: 'closed', outcome: 'no_further_action' })).body.incident.status).toBe('closed');

    const history = (await dsl.get(`/api/incidents/${id}`)).body.incident.history as Array<{ field: string; from: unknown; to: unknown; actor: { id: string } | null }>;
    const moves = history.filter((e) => e.field === 'status').map((e) => `${e.from}->${e.to}`);
    expect(moves).toEqual(['new->in_review', 'in_review->escalated', 'escalated->in_review', 'in_review->escalated', 'escalated->closed', 'closed->in_review', 'in_review->closed']);
    expect(history.filter((e) => e.field !== 'created' && e.field !== 'severity').every((e) => e.actor?.id === members.dsl.id)).toBe(true);
    expect(history.some((e) => e.field === 'note')).toBe(true);
  });

  it('closes a false positive from New in one save, with its outcome', async () => {
    const id = await send({ osUser: 'false.positive', category: 'violence', severity: 3 });
    const { version } = (await dsl.get(`/api/incidents/${id}`)).body.incident;
    const closed = await dsl.patch(`/api/incidents/${id}`, { version, status: 'closed', outcome: 'false_positive' });
    expect(closed.status).toBe(200);
    expect(closed.body.incident).toMatchObject({ status: 'closed', outcome: 'false_positive', allowedStatuses: ['in_review'] });
    const moves = (closed.body.incident.history as Array<{ field: string; from: unknown; to: unknown }>).filter((e) => e.field === 'status');
    expect(moves.map((e) => `${e.from}->${e.to}`)).toEqual(['new->closed']);
  });

  it('refuses bad input with a clear 4xx and changes nothing', async () => {
    const id = await send({ osUser: 'bad.input', category: 'violence', severity: 3 });
    const before = await snapshot(id);
    const { version } = (await dsl.get(`/api/incidents/${id}`)).body.incident;
    const audits = async () => Number((await queryRows<{ n: number }>(h.database.db, sql`select count(*)::int as n from audit_log`))[0]!.n);
    const auditBefore = await audits();

    const cases: Array<[string, Promise<{ status: number; body: { error: string } }>, number, string]> = [
      ['unknown id', dsl.get('/api/incidents/00000000-0000-4000-8000-000000000000'), 404, 'HAVEN_ERR_NOT_FOUND'],
      ['not an id', dsl.get('/api/incidents/..%2F..%2Fetc'), 404, 'HAVEN_ERR_NOT_FOUND'],
      ['patch of an unknown id', dsl.patch('/api/incidents/00000000-0000-4000-8000-000000000000', { version: 1, status: 'in_review' }), 404, 'HAVEN_ERR_NOT_FOUND'],
      ['stale version', dsl.patch(`/api/incidents/${id}`, { version: version - 1 || 999, status: 'in_review' }), 409, 'HAVEN_ERR_CONFLICT'],
      ['oversized note', dsl.patch(`/api/incidents/${id}`, { version, note: 'x'.repeat(4001) }), 400, 'HAVEN_ERR_VALIDATION'],
      ['unknown field', dsl.patch(`/api/incidents/${id}`, { version, severity: 0 }), 400, 'HAVEN_ERR_VALIDATION'],
      ['unknown action', dsl.patch(`/api/incidents/${id}`, { version, actions: ['tell_everyone'] }), 400, 'HAVEN_ERR_VALIDATION'],
      ['unknown status', dsl.patch(`/api/incidents/${id}`, { version, status: 'done' }), 400, 'HAVEN_ERR_VALIDATION'],
      ['no version', dsl.patch(`/api/incidents/${id}`, { status: 'in_review' }), 400, 'HAVEN_ERR_VALIDATION'],
      ['assignee who may not handle it', dsl.patch(`/api/incidents/${id}`, { version, assigneeId: members.tech.id }), 400, 'HAVEN_ERR_VALIDATION'],
      ['reveal without a reason', dsl.post(`/api/incidents/${id}/evidence`, {}), 400, 'HAVEN_ERR_VALIDATION'],
      ['reveal with a token reason', dsl.post(`/api/incidents/${id}/evidence`, { reason: 'because' }), 400, 'HAVEN_ERR_VALIDATION'],
      ['export without a reason', dsl.post(`/api/incidents/${id}/export`, { reason: '' }), 400, 'HAVEN_ERR_VALIDATION'],
      ['a form post (not JSON)', dsl.request('PATCH', `/api/incidents/${id}`, `version=${version}&status=in_review`, 'application/x-www-form-urlencoded'), 415, 'HAVEN_ERR_CONTENT_TYPE'],
      ['text/plain', dsl.request('POST', `/api/incidents/${id}/evidence`, JSON.stringify({ reason: 'a perfectly good reason' }), 'text/plain'), 415, 'HAVEN_ERR_CONTENT_TYPE'],
      ['malformed JSON', dsl.request('PATCH', `/api/incidents/${id}`, '{"version":', 'application/json'), 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
      ['technician reads the queue', tech.get('/api/incidents'), 403, 'HAVEN_ERR_FORBIDDEN'],
      ['technician reads an incident', tech.get(`/api/incidents/${id}`), 403, 'HAVEN_ERR_FORBIDDEN'],
      ['technician changes an incident', tech.patch(`/api/incidents/${id}`, { version, status: 'in_review' }), 403, 'HAVEN_ERR_FORBIDDEN'],
      ['technician reveals evidence', tech.post(`/api/incidents/${id}/evidence`, { reason: 'checking the agent works' }), 403, 'HAVEN_ERR_FORBIDDEN'],
      ['trust admin reads an incident', trust.get(`/api/incidents/${id}`), 403, 'HAVEN_ERR_FORBIDDEN'],
      ['DSL reads the audit log', dsl.get('/api/audit'), 403, 'HAVEN_ERR_FORBIDDEN'],
    ];
    for (const [name, pending, status, error] of cases) {
      const reply = await pending;
      expect({ name, status: reply.status, error: reply.body?.error }).toEqual({ name, status, error });
    }
    const anonymous = await fetch(`${h.baseUrl}/api/incidents/${id}`);
    expect(anonymous.status).toBe(401);
    expect(await snapshot(id)).toEqual(before);
    expect(await audits()).toBe(auditBefore);
  });

  it('withholds evidence until it is revealed with a reason, and audits every reveal and export', async () => {
    const id = await send({ osUser: 'pupil.one', category: 'suicide', severity: 5 });
    const detail = await dsl.get(`/api/incidents/${id}`);
    expect(JSON.stringify(detail.body)).not.toContain(EVIDENCE_MARKER);
    expect(JSON.stringify(detail.body)).not.toContain(TITLE_MARKER);
    expect(JSON.stringify(await dsl.get('/api/incidents'))).not.toContain(EVIDENCE_MARKER);

    const reason = 'Reviewing the alert before speaking to the pupil';
    const revealed = await dsl.post(`/api/incidents/${id}/evidence`, { reason });
    expect(revealed.status).toBe(200);
    expect(revealed.body.evidence[0].match).toContain(EVIDENCE_MARKER);
    expect(revealed.body.evidence[0].windowTitle).toContain(TITLE_MARKER);
    const exported = await dsl.post(`/api/incidents/${id}/export`, { reason: 'Referral to MASH needs the evidence' });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toMatch(/attachment/);
    expect(JSON.stringify(exported.body)).toContain(EVIDENCE_MARKER);

    const rows = await queryRows<{ action: string; actor_id: string; reason: string }>(
      h.database.db,
      sql`select action, actor_id, reason from audit_log where incident_id = ${id} order by id`,
    );
    expect(rows).toEqual([
      { action: 'evidence.reveal', actor_id: members.dsl.id, reason },
      { action: 'evidence.export', actor_id: members.dsl.id, reason: 'Referral to MASH needs the evidence' },
    ]);
    for (const reader of [head, trust]) {
      const entries = (await reader.get('/api/audit')).body.entries as Array<{ incidentId: string; action: string; actor: { displayName: string } }>;
      expect(entries.filter((e) => e.incidentId === id).map((e) => [e.action, e.actor.displayName])).toEqual([
        ['evidence.export', 'Dana DSL'],
        ['evidence.reveal', 'Dana DSL'],
      ]);
    }
    // Append-only: PostgreSQL itself refuses to change or remove an audit row.
    const refusal = (query: ReturnType<typeof sql>) =>
      h.database.db.execute(query).then(
        () => 'changed',
        (err: Error & { cause?: Error }) => String(err.cause?.message ?? err.message),
      );
    expect(await refusal(sql`update audit_log set reason = 'nothing to see' where incident_id = ${id}`)).toMatch(/append-only/);
    expect(await refusal(sql`delete from audit_log where incident_id = ${id}`)).toMatch(/append-only/);
    expect(rows).toHaveLength(2);
    expect(h.logs.join('')).not.toContain(EVIDENCE_MARKER);
  });

  it('routes an incident about a member of staff to the head teacher, never to the DSL', async () => {
    const id = await send({ osUser: 'teacher.one', category: 'cse', severity: 4 });
    expect((await head.get(`/api/incidents/${id}`)).body.incident).toMatchObject({ routedTo: 'head', subject: { kind: 'staff', displayName: 'Sam Teacher' } });
    expect((await head.get('/api/incidents')).body.incidents.map((i: { id: string }) => i.id)).toContain(id);
    expect((await dsl.get(`/api/incidents/${id}`)).status).toBe(404);
    expect((await dsl.post(`/api/incidents/${id}/evidence`, { reason: 'curious about this one' })).status).toBe(404);
    expect((await dsl.get('/api/incidents?status=all')).body.incidents.map((i: { id: string }) => i.id)).not.toContain(id);
    const chronology = await dsl.get(`/api/people/chronology?schoolId=${h.schoolId}&subject=teacher.one`);
    expect(chronology.body.incidents).toEqual([]);
    expect(chronology.body.events).toEqual([]);
  });

  it('shows a pupil’s chronology across categories, newest first', async () => {
    const { body } = await dsl.get(`/api/people/chronology?schoolId=${h.schoolId}&subject=pupil.one`);
    expect(body.subject).toMatchObject({ displayName: 'Alex Pupil', kind: 'pupil', yearGroup: '9' });
    const categories = body.incidents.map((i: { category: string }) => i.category);
    expect(categories).toEqual(expect.arrayContaining(['drugs', 'suicide']));
    const times = body.events.map((e: { occurredAt: string }) => Date.parse(e.occurredAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
  });

  it('pushes new and changed incidents live to the dashboards allowed to see them', async () => {
    const open = (client: StaffClient) =>
      new Promise<{ socket: WebSocket; frames: any[] }>((resolve, reject) => {
        const socket = new WebSocket(`${h.baseUrl.replace('http', 'ws')}/api/live`, { headers: { cookie: client.cookie } });
        const frames: any[] = [];
        socket.on('message', (data) => {
          frames.push(JSON.parse(String(data)));
          if (frames.length === 1) resolve({ socket, frames });
        });
        socket.on('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
        socket.on('error', reject);
      });
    await expect(open(tech)).rejects.toThrow(/403/);
    const dslLive = await open(dsl);
    const headLive = await open(head);
    expect(dslLive.frames[0]).toEqual({ type: 'ready' });

    const pupilIncident = await send({ osUser: 'live.pupil', category: 'violence', severity: 4 });
    const staffIncident = await send({ osUser: 'teacher.one', category: 'violence', severity: 4 });
    const deadline = Date.now() + 5000;
    const seen = (frames: any[], id: string) => frames.some((f) => f.type === 'incident' && f.incident.id === id);
    while (Date.now() < deadline && !(seen(dslLive.frames, pupilIncident) && seen(headLive.frames, staffIncident))) await new Promise((r) => setTimeout(r, 50));
    expect(seen(dslLive.frames, pupilIncident)).toBe(true);
    expect(seen(headLive.frames, staffIncident)).toBe(true);
    expect(seen(headLive.frames, pupilIncident)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen(dslLive.frames, staffIncident)).toBe(false);
    expect(JSON.stringify(dslLive.frames)).not.toContain(EVIDENCE_MARKER);
    dslLive.socket.close();
    headLive.socket.close();
  });

  it('makes one cluster, likely lesson content, of one trigger on many devices at once', async () => {
    const agents = await Promise.all(Array.from({ length: 8 }, async () => TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token))));
    try {
      const base = Date.now();
      for (const [n, a] of agents.entries()) {
        const reply = await a.sendBatch([
          a.event({ osUser: `lesson.${n}`, category: 'extremism', severity: 4, evidence: { match: 'Prevent  Duty', before: '', after: '' }, occurredAt: new Date(base + n * 5000).toISOString() }),
        ]);
        expect(reply.type).toBe('ack');
        await h.app.triage.idle(); // each device's event grouped before the next arrives
      }
      const queue = (await dsl.get('/api/incidents?category=extremism')).body.incidents as Array<{ kind: string; eventCount: number; deviceCount: number; likelyLessonContent: boolean; subject: { key: string } }>;
      expect(queue).toHaveLength(1);
      expect(queue[0]).toMatchObject({ kind: 'cluster', likelyLessonContent: true, eventCount: 8, deviceCount: 8 });
      const merged = await queryRows<{ n: number }>(h.database.db, sql`select count(*)::int as n from incidents where merged_into_id is not null and category = 'extremism'`);
      expect(Number(merged[0]!.n)).toBe(4); // the first four, before the fifth device made it a cluster
    } finally {
      await Promise.all(agents.map((a) => a.close()));
    }
  });

  it('signs in with argon2id passwords, limits failed attempts, supports TOTP and signs out', async () => {
    const login = (body: Record<string, unknown>) =>
      fetch(`${h.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const member = await addStaff(h.database.db, h.schoolId, ['deputy_dsl'], 'Totp Tester');
    const [stored] = await queryRows<{ password_hash: string }>(h.database.db, sql`select password_hash from staff where id = ${member.id}`);
    expect(stored!.password_hash).toMatch(/^\$argon2id\$/);

    const ok = await login({ email: member.email.toUpperCase(), password: member.password });
    expect(ok.status).toBe(200);
    const cookie = ok.headers.getSetCookie().find((c) => c.startsWith('haven_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const client = await StaffClient.login(h.baseUrl, member);

    // TOTP on: the password alone is no longer enough.
    const setup = await client.post('/api/me/totp', {});
    expect(setup.body.otpauthUrl).toMatch(/^otpauth:\/\/totp\//);
    expect((await client.post('/api/me/totp/enable', { code: '000000' })).status).toBe(400);
    expect((await client.post('/api/me/totp/enable', { code: totpAt(setup.body.secret) })).status).toBe(204);
    const noCode = await login({ email: member.email, password: member.password });
    expect(noCode.status).toBe(401);
    expect(((await noCode.json()) as { error: string }).error).toBe('HAVEN_ERR_TOTP_REQUIRED');
    // The enabling code was used once; the next step's code signs in (a drifting clock's is accepted).
    expect((await login({ email: member.email, password: member.password, totp: totpAt(setup.body.secret, Date.now() + 30_000) })).status).toBe(200);

    const unknown = await login({ email: 'nobody@school.example', password: 'whatever it is' });
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { error: string }).error).toBe('HAVEN_ERR_BAD_LOGIN');
    const victim = members.deputy;
    for (let i = 0; i < 5; i++) expect((await login({ email: victim.email, password: `guess ${i}` })).status).toBe(401);
    const limited = await login({ email: victim.email, password: victim.password });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    // Behind the school's TLS proxy (an https:// public address) the cookie is Secure.
    const behindProxy = await buildApp({ database: h.database, logger: createLogger('silent'), alertSweepMs: 0, secureCookies: true, secretKey: TEST_SECRET_KEY });
    try {
      const reply = await behindProxy.inject({ method: 'POST', url: '/api/auth/login', payload: { email: members.head.email, password: members.head.password } });
      expect(reply.statusCode).toBe(200);
      expect(String(reply.headers['set-cookie'])).toMatch(/; Secure/);
    } finally {
      await behindProxy.close();
    }

    expect((await client.post('/api/auth/logout', {})).status).toBe(204);
    expect((await client.get('/api/me')).status).toBe(401);
  });
});
