import { availableDrivers } from '@haven/db/testing';
import type { Role } from '@haven/db';
import { sql } from 'drizzle-orm';
import WebSocket from 'ws';
import { queryRows } from '../src/db-rows';
import { createEnrollmentToken, createSchool } from '../src/enrollment/repository';
import { TestAgent } from './support/agent-client';
import { sendGrouped, startCollector, type Harness } from './support/harness';
import { addPerson, addStaff, StaffClient } from './support/staff';

const ROLES: Role[] = ['dsl', 'deputy_dsl', 'head', 'technician', 'trust_admin'];

/** What school B holds that no one at school A may ever read. */
const B = {
  school: 'Beta Academy',
  pupil: 'Bryony Betapupil',
  username: 'bryony.b',
  staffName: 'Bertram Betastaff',
  evidence: 'BETA-EVIDENCE-5d1e',
  title: 'BETA-TITLE-77aa',
  hostname: 'beta-laptop-01',
  room: 'Beta Room 9',
  reason: 'BETA-AUDIT-REASON and more words',
  note: 'BETA-NOTE-3c3c',
};

type Target = { schoolId: string; incidentId: string; personId: string };
/**
 * Every staff API route, with the request that tries hardest to reach school B. A route added
 * to the collector without an entry here fails the first test: each must be considered.
 * `null`: the route acts only on the signed-in user (or signs in), never on a school's data.
 */
const REQUESTS: Record<string, ((b: Target) => { path: string; body?: unknown }) | null> = {
  'GET /api/me': () => ({ path: '/api/me' }),
  'GET /api/meta': () => ({ path: '/api/meta' }),
  'POST /api/auth/login': null,
  'POST /api/auth/logout': null,
  'POST /api/me/totp': null,
  'POST /api/me/totp/enable': null,
  'GET /api/incidents': (b) => ({ path: `/api/incidents?status=all&schoolId=${b.schoolId}` }),
  'GET /api/incidents/:id': (b) => ({ path: `/api/incidents/${b.incidentId}` }),
  'POST /api/incidents/:id/evidence': (b) => ({ path: `/api/incidents/${b.incidentId}/evidence`, body: { reason: 'Trying to read another school' } }),
  'POST /api/incidents/:id/export': (b) => ({ path: `/api/incidents/${b.incidentId}/export`, body: { reason: 'Trying to read another school' } }),
  'POST /api/incidents/:id/acknowledge': (b) => ({ path: `/api/incidents/${b.incidentId}/acknowledge`, body: {} }),
  'PATCH /api/incidents/:id': (b) => ({ path: `/api/incidents/${b.incidentId}`, body: { version: 1, status: 'in_review', note: 'From another school' } }),
  'POST /api/incidents/:id/attribute': (b) => ({ path: `/api/incidents/${b.incidentId}/attribute`, body: { personId: b.personId } }),
  'GET /api/people/chronology': (b) => ({ path: `/api/people/chronology?schoolId=${b.schoolId}&subject=${B.username}` }),
  'GET /api/people': (b) => ({ path: `/api/people?schoolId=${b.schoolId}&q=b` }),
  'POST /api/people/:personId/flag': (b) => ({ path: `/api/people/${b.personId}/flag`, body: { vulnerable: true, reason: 'Trying to change another school' } }),
  'POST /api/people/:personId/subject-access': (b) => ({ path: `/api/people/${b.personId}/subject-access`, body: { reason: 'Trying to read another school' } }),
  'POST /api/people/:personId/erase': (b) => ({ path: `/api/people/${b.personId}/erase`, body: { reason: 'Trying to erase another school' } }),
  'GET /api/audit': () => ({ path: '/api/audit?limit=1000' }),
  'GET /api/devices': () => ({ path: '/api/devices' }),
  'GET /api/trust/overview': () => ({ path: '/api/trust/overview' }),
  'POST /api/schools/:schoolId/directory/import': (b) => ({
    path: `/api/schools/${b.schoolId}/directory/import`,
    body: { csv: 'upn,forename,surname,year group,class,os username,role\nA123456789012,Eve,Intruder,7,7A,eve.i,pupil\n' },
  }),
  'GET /api/schools/:schoolId/directory/unmatched': (b) => ({ path: `/api/schools/${b.schoolId}/directory/unmatched` }),
};

describe.each(availableDrivers())(`every route and the live feed keep each school's data to itself (%s)`, (driver) => {
  let h: Harness;
  let target: Target;
  const clients = new Map<Role, StaffClient>();
  let agentA: TestAgent;
  let agentB: TestAgent;

  const send = (agent: TestAgent, over: Parameters<TestAgent['event']>[0]) => sendGrouped(h, agent, over);

  /** Everything about school B that a change could touch. */
  async function snapshotB(): Promise<unknown> {
    const db = h.database.db;
    return queryRows(
      db,
      sql`select
            (select coalesce(sum(version), 0)::int from incidents where school_id = ${target.schoolId}) as versions,
            (select count(*)::int from incidents where school_id = ${target.schoolId}) as incidents,
            (select count(*)::int from events where school_id = ${target.schoolId}) as events,
            (select count(*)::int from incident_history h join incidents i on i.id = h.incident_id where i.school_id = ${target.schoolId}) as history,
            (select count(*)::int from incident_notes n join incidents i on i.id = n.incident_id where i.school_id = ${target.schoolId}) as notes,
            (select count(*)::int from audit_log where school_id = ${target.schoolId}) as audits,
            (select count(*)::int from people where school_id = ${target.schoolId}) as people,
            (select string_agg(p.id::text || p.vulnerable_manual::text, ',' order by p.id) from people p where school_id = ${target.schoolId}) as flags`,
    );
  }

  beforeAll(async () => {
    h = await startCollector(driver);
    const db = h.database.db;
    // School A: the harness's school, with one member of staff per role and an incident.
    for (const role of ROLES) clients.set(role, await StaffClient.login(h.baseUrl, await addStaff(db, h.schoolId, [role], `Alpha ${role}`)));
    await addPerson(db, h.schoolId, 'alpha.pupil', 'pupil', 'Alfie Alphapupil', '8');
    agentA = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    await send(agentA, { osUser: 'alpha.pupil', category: 'bullying', severity: 3 });

    // School B: the same kinds of data, each carrying a marker string.
    const schoolB = await createSchool(db, B.school);
    const { token } = await createEnrollmentToken(db, { schoolId: schoolB.id });
    const personId = await addPerson(db, schoolB.id, B.username, 'pupil', B.pupil, '10');
    await addPerson(db, schoolB.id, 'bertram.s', 'staff', B.staffName);
    await db.execute(sql`insert into shared_logons (school_id, os_username, label) values (${schoolB.id}, 'betaclass', 'Beta class')`);
    const bStaff = await StaffClient.login(h.baseUrl, await addStaff(db, schoolB.id, ['head'], 'Beta Head'));
    agentB = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, token));
    await db.execute(sql`update devices set hostname = ${B.hostname}, room = ${B.room} where id = ${agentB.credential.deviceId}`);
    const evidence = { match: B.evidence, before: B.pupil, after: '' };
    const incidentId = await send(agentB, { osUser: B.username, category: 'self_harm', severity: 4, evidence, windowTitle: B.title });
    await send(agentB, { osUser: 'bertram.s', category: 'cse', severity: 4, evidence, windowTitle: B.title });
    await send(agentB, { osUser: 'betaclass', category: 'violence', severity: 3, evidence, windowTitle: B.title });
    await send(agentB, { osUser: 'unknown.beta.user', category: 'drugs', severity: 2, evidence, windowTitle: B.title });
    expect((await bStaff.post(`/api/incidents/${incidentId}/evidence`, { reason: B.reason })).status).toBe(200);
    const { version } = (await bStaff.get(`/api/incidents/${incidentId}`)).body.incident;
    expect((await bStaff.patch(`/api/incidents/${incidentId}`, { version, note: B.note })).status).toBe(200);
    target = { schoolId: schoolB.id, incidentId, personId };
  });
  afterAll(async () => {
    await agentA?.close();
    await agentB?.close();
    await h?.close();
  });

  it('has a request for every staff route the collector serves', () => {
    const served = h.app.routeList
      .filter((r) => r.url.startsWith('/api/') && !r.url.startsWith('/api/v1/') && r.url !== '/api/live' && r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.url}`);
    expect(new Set(served)).toEqual(new Set(Object.keys(REQUESTS)));
  });

  it.each(ROLES)('gives a %s of school A nothing of school B, on any route, and changes nothing there', async (role) => {
    const client = clients.get(role)!;
    const before = await snapshotB();
    const leaks: string[] = [];
    for (const [route, make] of Object.entries(REQUESTS)) {
      if (!make) continue;
      const method = route.split(' ')[0]!;
      const { path, body } = make(target);
      const reply = await client.request(method, path, body);
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      for (const secret of [B.school, B.pupil, B.username, B.staffName, B.evidence, B.title, B.hostname, B.room, B.reason, B.note, target.incidentId, target.personId, 'betaclass', 'unknown.beta.user']) {
        if (text.includes(secret)) leaks.push(`${route} (${reply.status}) shows ${secret}`);
      }
      // A request aimed at one of B's resources must be refused outright.
      if (path.includes(target.incidentId) || path.includes(target.personId) || path.includes(`/schools/${target.schoolId}`)) {
        if (reply.status < 400) leaks.push(`${route} answered ${reply.status} for school B's resource`);
      }
    }
    expect(leaks).toEqual([]);
    expect(await snapshotB()).toEqual(before);
  });

  it('sends no live update about school B to any dashboard of school A', async () => {
    const sockets: Array<{ role: Role; socket: WebSocket; frames: string[] }> = [];
    for (const role of ROLES) {
      const socket = new WebSocket(`${h.baseUrl.replace('http', 'ws')}/api/live`, { headers: { cookie: clients.get(role)!.cookie } });
      const frames: string[] = [];
      const opened = await new Promise<boolean>((resolve) => {
        socket.on('message', (data) => {
          frames.push(String(data));
          resolve(true);
        });
        socket.on('unexpected-response', () => resolve(false));
        socket.on('error', () => resolve(false));
      });
      if (opened) sockets.push({ role, socket, frames });
    }
    // Roles that read incidents are subscribed; the others are refused at the door.
    expect(sockets.map((s) => s.role).sort()).toEqual(['deputy_dsl', 'dsl', 'head']);

    const bIncident = await send(agentB, { osUser: B.username, category: 'suicide', severity: 5, evidence: { match: B.evidence, before: '', after: '' } });
    const aIncident = await send(agentA, { osUser: 'alpha.pupil', category: 'suicide', severity: 5 });
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !sockets.every((s) => s.frames.some((f) => f.includes(aIncident)))) await new Promise((r) => setTimeout(r, 25));
    for (const s of sockets) {
      expect(s.frames.some((f) => f.includes(aIncident))).toBe(true); // the channel works…
      expect(s.frames.join('\n')).not.toContain(bIncident); // …and carries nothing of B
      expect(s.frames.join('\n')).not.toContain(B.school);
      s.socket.close();
    }
  });

  it('lets a trust admin see both schools of the trust in aggregate, and open neither school’s incidents', async () => {
    const db = h.database.db;
    const [trust] = await queryRows<{ id: string }>(db, sql`insert into trusts (name) values ('Alpha Beta Trust') returning id`);
    await db.execute(sql`update schools set trust_id = ${trust!.id} where id in (${h.schoolId}, ${target.schoolId})`);
    try {
      const admin = clients.get('trust_admin')!;
      const overview = await admin.get('/api/trust/overview');
      expect(overview.status).toBe(200);
      const schools = overview.body.schools as Array<{ name: string; openIncidents: number; trust: string }>;
      expect(schools.map((s) => s.name).sort()).toEqual(['Beta Academy', 'Test Academy']);
      expect(schools.find((s) => s.name === B.school)!.openIncidents).toBeGreaterThan(0);
      const text = JSON.stringify(overview.body);
      for (const secret of [B.pupil, B.username, B.evidence, B.title, target.incidentId]) expect(text).not.toContain(secret);
      expect((await admin.get(`/api/incidents/${target.incidentId}`)).status).toBe(403);
      expect((await admin.get('/api/incidents')).status).toBe(403);
    } finally {
      await db.execute(sql`update schools set trust_id = null`);
    }
  });
});
