import { availableDrivers } from '@haven/db/testing';
import { sql } from 'drizzle-orm';
import WebSocket from 'ws';
import { queryRows } from '../src/db-rows';
import { purgeExpired } from '../src/retention/purge';
import { TestAgent } from './support/agent-client';
import { sendGrouped, startCollector, type Harness } from './support/harness';
import { addPerson, addStaff, StaffClient, type StaffMember } from './support/staff';

const DAY = 24 * 3600_000;

describe.each(availableDrivers())(`shared logons, vulnerable pupils, retention and subject access (%s)`, (driver) => {
  let h: Harness;
  let room12: TestAgent;
  let library: TestAgent;
  let dsl: StaffClient;
  let head: StaffClient;
  let headMember: StaffMember;
  let alex: string;
  let bea: string;

  beforeAll(async () => {
    h = await startCollector(driver);
    const db = h.database.db;
    const dslMember = await addStaff(db, h.schoolId, ['dsl'], 'Dana DSL');
    headMember = await addStaff(db, h.schoolId, ['head'], 'Harriet Head');
    dsl = await StaffClient.login(h.baseUrl, dslMember);
    head = await StaffClient.login(h.baseUrl, headMember);
    alex = await addPerson(db, h.schoolId, 'alex.p', 'pupil', 'Alex Pupil', '9');
    bea = await addPerson(db, h.schoolId, 'bea.q', 'pupil', 'Bea Quill', '9');
    await db.execute(sql`insert into shared_logons (school_id, os_username, label) values (${h.schoolId}, 'class5b', 'Class 5B')`);
    room12 = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    library = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    await db.execute(sql`update devices set room = 'Room 12' where id = ${room12.credential.deviceId}`);
    await db.execute(sql`update devices set room = 'Library' where id = ${library.credential.deviceId}`);
  });
  afterAll(async () => {
    await room12?.close();
    await library?.close();
    await h?.close();
  });

  const send = (agent: TestAgent, over: Parameters<TestAgent['event']>[0]) => sendGrouped(h, agent, over);

  it('pushes each account’s age band from the directory to the school’s agents when they connect', async () => {
    const db = h.database.db;
    await addPerson(db, h.schoolId, 'year3.pupil', 'pupil', 'Yan Three', '3');
    await addPerson(db, h.schoolId, 'reception.pupil', 'pupil', 'Rae Reception', 'Reception');
    await addPerson(db, h.schoolId, 'mr.jones', 'staff', 'Mr Jones');
    const left = await addPerson(db, h.schoolId, 'gone.pupil', 'pupil', 'Gone Pupil', '3');
    await db.execute(sql`update people set left_at = now() where id = ${left}`);
    // Until the school sets an agent policy, nothing is pushed: devices keep their own files.
    const before = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    await before.sendBatch([before.event({ osUser: 'alex.p', severity: 1, category: 'gambling' })]);
    expect(before.inbox.some((m) => m.type === 'policy')).toBe(false);
    await db.execute(
      sql`insert into school_settings (school_id, agent_policy)
          values (${h.schoolId}, ${JSON.stringify({ threshold: 2, sources: { title: true, keys: true, screen: false }, quietHours: [{ start: '18:00', end: '07:00' }] })}::jsonb)`,
    );
    // An import pushes it to agents already connected; a new connection gets it at hello.
    const imported = await head.post(`/api/schools/${h.schoolId}/directory/import`, {
      csv: 'upn,forename,surname,year group,class,os username,role\nA123456789012,Ivy,Imported,4,4B,ivy.i,pupil\n',
    });
    expect(imported.status).toBe(200);
    const pushed = await before.next((m) => m.type === 'policy', 5000);
    expect(pushed.type === 'policy' && pushed.policy.userAgeBands?.['ivy.i']).toBe('primary');
    await before.close();
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    try {
      const message = await agent.next((m) => m.type === 'policy', 5000);
      if (message.type !== 'policy') throw new Error('not a policy');
      expect(message.policy.userAgeBands).toMatchObject({ 'alex.p': 'secondary', 'year3.pupil': 'primary', 'reception.pupil': 'primary', 'mr.jones': 'staff' });
      expect(message.policy.userAgeBands).not.toHaveProperty('gone.pupil');
      expect(JSON.stringify(message)).not.toContain('Alex Pupil'); // account names and bands only
      expect(message.policy).toMatchObject({ threshold: 2, sources: { screen: false }, quietHours: [{ start: '18:00', end: '07:00' }] });
      expect(message.policy).not.toHaveProperty('ocrLanguages'); // none chosen: the agent reads English
    } finally {
      await agent.close();
    }
  });

  it('pushes the screen text languages the school chose, and leaves out a stored list the protocol refuses', async () => {
    const db = h.database.db;
    const pushedWith = async (ocrLanguages: unknown) => {
      await db.execute(
        sql`update school_settings set agent_policy = ${JSON.stringify({ threshold: 3, sources: { title: true, keys: true, screen: true }, quietHours: [], ocrLanguages })}::jsonb
            where school_id = ${h.schoolId}`,
      );
      const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
      try {
        const message = await agent.next((m) => m.type === 'policy', 5000);
        if (message.type !== 'policy') throw new Error('not a policy');
        return message.policy;
      } finally {
        await agent.close();
      }
    };
    expect((await pushedWith(['eng', 'pol', 'urd'])).ocrLanguages).toEqual(['eng', 'pol', 'urd']);
    // Written by hand into the database: the policy still goes, read in English.
    for (const bad of [['eng', 'som'], [], ['eng', 'pol', 'ron', 'ara', 'urd'], 'eng']) {
      const policy = await pushedWith(bad);
      expect(policy.threshold).toBe(3);
      expect(policy).not.toHaveProperty('ocrLanguages');
    }
  });

  it('shows a class logon’s event as a shared logon on its device and room, and the DSL attributes it (recorded in history)', async () => {
    const id = await send(room12, { osUser: 'class5b', category: 'bullying', severity: 3 });
    const other = await send(library, { osUser: 'CLASS5B', category: 'bullying', severity: 3 });
    expect(other).not.toBe(id); // one class logon, two devices: two different pupils, perhaps

    const before = (await dsl.get(`/api/incidents/${id}`)).body.incident;
    expect(before.subject).toMatchObject({ kind: 'shared', key: 'class5b', displayName: null, personId: null });
    expect(before.sharedLogon).toEqual({ osUser: 'class5b', device: { id: room12.credential.deviceId, hostname: expect.any(String), room: 'Room 12' } });

    const refused = await dsl.post(`/api/incidents/${id}/attribute`, { personId: '00000000-0000-4000-8000-000000000000' });
    expect(refused.status).toBe(400);
    const attributed = await dsl.post(`/api/incidents/${id}/attribute`, { personId: alex, reason: 'Seating plan for period 3 in Room 12' });
    expect(attributed.status).toBe(200);
    expect(attributed.body.incident.subject).toMatchObject({ kind: 'pupil', displayName: 'Alex Pupil', personId: alex });
    expect(attributed.body.incident.sharedLogon.device.room).toBe('Room 12');
    const entry = attributed.body.incident.history.find((e: { field: string }) => e.field === 'attribution');
    expect(entry).toMatchObject({
      actor: { displayName: 'Dana DSL' },
      from: { osUser: 'class5b', room: 'Room 12' },
      to: { personId: alex, displayName: 'Alex Pupil', reason: 'Seating plan for period 3 in Room 12' },
    });
    const [audit] = await queryRows<{ action: string }>(h.database.db, sql`select action from audit_log where incident_id = ${id}`);
    expect(audit).toEqual({ action: 'incident.attribute' });
    // Once attributed, it is no longer a shared logon's incident to attribute again.
    expect((await dsl.post(`/api/incidents/${id}/attribute`, { personId: bea })).status).toBe(422);
    const chronology = await dsl.get(`/api/people/chronology?schoolId=${h.schoolId}&subject=alex.p`);
    expect(chronology.body.incidents.map((i: { id: string }) => i.id)).toContain(id);
  });

  it('moves a shared logon’s incident to the head when the DSL attributes it to a member of staff, and takes it off the DSL’s live queue', async () => {
    const teacher = await addPerson(h.database.db, h.schoolId, 'teacher.k', 'staff', 'Kim Teacher');
    const id = await send(room12, { osUser: 'class5b', category: 'cse', severity: 4 });
    const socket = new WebSocket(`${h.baseUrl.replace('http', 'ws')}/api/live`, { headers: { cookie: dsl.cookie } });
    const frames: Array<{ type: string; id?: string }> = [];
    await new Promise<void>((resolve) => socket.on('message', (data) => (frames.push(JSON.parse(String(data))), resolve())));
    const reply = await dsl.post(`/api/incidents/${id}/attribute`, { personId: teacher, reason: 'Staff login seen on the board' });
    expect(reply.body).toEqual({ incident: null, message: 'Attributed to a member of staff: the incident now goes to the head teacher.' });
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && !frames.some((f) => f.type === 'incident-removed')) await new Promise((r) => setTimeout(r, 20));
    expect(frames.filter((f) => f.type !== 'ready')).toEqual([{ type: 'incident-removed', id }]);
    socket.close();
    expect((await dsl.get(`/api/incidents/${id}`)).status).toBe(404);
    const forHead = (await head.get(`/api/incidents/${id}`)).body.incident;
    expect(forHead).toMatchObject({ routedTo: 'head', subject: { kind: 'staff', displayName: 'Kim Teacher' } });
    expect(forHead.history.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['attribution', 'routedTo']));
  });

  it('raises a vulnerable pupil’s incidents by the school’s step, and shows why', async () => {
    const db = h.database.db;
    const send1 = await addPerson(db, h.schoolId, 'cal.send', 'pupil', 'Cal Send', '8');
    await db.execute(sql`update people set send = true where id = ${send1}`);
    const raised = await send(room12, { osUser: 'cal.send', category: 'self_harm', severity: 2 });
    expect((await dsl.get(`/api/incidents/${raised}`)).body.incident).toMatchObject({
      severity: 3,
      vulnerability: { send: true, lookedAfter: false, flagged: false, severityRaisedBy: 1 },
    });

    await db.execute(sql`update school_settings set vulnerable_severity_step = 2 where school_id = ${h.schoolId}`);
    const flagged = await addPerson(db, h.schoolId, 'dee.flag', 'pupil', 'Dee Flag', '8');
    expect((await dsl.post(`/api/people/${flagged}/flag`, { vulnerable: true, reason: 'Disclosure to form tutor last week' })).status).toBe(200);
    const capped = await send(room12, { osUser: 'dee.flag', category: 'suicide', severity: 4 });
    expect((await dsl.get(`/api/incidents/${capped}`)).body.incident).toMatchObject({ severity: 5, vulnerability: { flagged: true, severityRaisedBy: 2 } });
    const plain = await send(room12, { osUser: 'bea.q', category: 'violence', severity: 2 });
    expect((await dsl.get(`/api/incidents/${plain}`)).body.incident).toMatchObject({ severity: 2, vulnerability: null });
  });

  it('purges expired evidence and events on a clock moved forward, leaving tombstones and everything unexpired', async () => {
    const db = h.database.db;
    const close = async (id: string, body: Record<string, unknown>) => {
      let { version } = (await dsl.get(`/api/incidents/${id}`)).body.incident;
      ({ version } = (await dsl.patch(`/api/incidents/${id}`, { version, status: 'in_review' })).body.incident);
      const closed = await dsl.patch(`/api/incidents/${id}`, { version, status: 'closed', ...body });
      expect(closed.status).toBe(200);
    };
    const falsePositive = await send(library, { osUser: 'purge.fp', category: 'drugs', severity: 2 });
    await close(falsePositive, { outcome: 'false_positive', note: 'A chemistry worksheet.' });
    const nfa = await send(library, { osUser: 'purge.nfa', category: 'drugs', severity: 2 });
    await close(nfa, { outcome: 'no_further_action' });
    const referred = await send(library, { osUser: 'purge.ref', category: 'cse', severity: 4 });
    await close(referred, { outcome: 'resolved', actions: ['referral_ceop'] });
    const open = await send(library, { osUser: 'purge.open', category: 'drugs', severity: 2 });

    const eventsOf = async (id: string) => Number((await queryRows<{ n: number }>(db, sql`select count(*)::int as n from events where incident_id = ${id}`))[0]!.n);
    const exists = async (id: string) => (await queryRows(db, sql`select 1 from incidents where id = ${id}`)).length === 1;
    const rowsAbout = async (id: string) =>
      Number(
        (
          await queryRows<{ n: number }>(
            db,
            sql`select (select count(*) from incident_history where incident_id = ${id}) + (select count(*) from incident_notes where incident_id = ${id}) as n`,
          )
        )[0]!.n,
      );
    expect(await eventsOf(falsePositive)).toBe(1);

    await purgeExpired(db, new Date(Date.now() + 29 * DAY));
    expect(await exists(falsePositive)).toBe(true);

    const month = await purgeExpired(db, new Date(Date.now() + 31 * DAY));
    expect(month.find((p) => p.schoolId === h.schoolId)).toEqual({ schoolId: h.schoolId, incidents: 1, events: 1 });
    expect(await exists(falsePositive)).toBe(false);
    expect(await eventsOf(falsePositive)).toBe(0);
    expect(await rowsAbout(falsePositive)).toBe(0);
    const [tomb] = await queryRows<{ category: string; outcome: string; reason: string; event_count: number }>(
      db,
      sql`select category, outcome, reason, event_count from tombstones where incident_id = ${falsePositive}`,
    );
    expect(tomb).toEqual({ category: 'drugs', outcome: 'false_positive', reason: 'retention:false_positive', event_count: 1 });
    for (const id of [nfa, referred, open]) expect(await eventsOf(id)).toBe(1);

    await purgeExpired(db, new Date(Date.now() + 366 * DAY));
    expect(await exists(nfa)).toBe(false);
    expect(await exists(referred)).toBe(true); // referred cases: kept until the school decides
    expect(await exists(open)).toBe(true); // open incidents are never purged
    expect(await eventsOf(open)).toBe(1);
    const audits = await queryRows<{ actor_name: string; reason: string }>(db, sql`select actor_name, reason from audit_log where action = 'retention.purge' order by id`);
    expect(audits.map((a) => a.actor_name)).toEqual(['Haven', 'Haven']);
    expect(audits[0]!.reason).toMatch(/^1 incident and 1 event/);
  });

  it('exports what is held about one pupil — their incidents and events, nothing of anyone else’s', async () => {
    const db = h.database.db;
    const mine = await send(room12, {
      osUser: 'bea.q',
      category: 'bullying',
      severity: 3,
      evidence: { match: 'BEA-OWN-TEXT', before: '', after: '' },
      url: 'https://chat.example/rooms/bea-own-room',
    });
    await send(room12, { osUser: 'alex.p', category: 'bullying', severity: 3, evidence: { match: 'ALEX-OWN-TEXT', before: '', after: '' } });
    // A cluster holding one event of Bea's and four of other pupils'.
    const cluster: TestAgent[] = [];
    for (let n = 0; n < 4; n++) cluster.push(await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token)));
    const lesson = { category: 'extremism', severity: 3, evidence: { match: 'prevent duty lesson', before: '', after: '' } } as const;
    await send(library, { ...lesson, osUser: 'bea.q' });
    for (const [n, a] of cluster.entries()) await send(a, { ...lesson, osUser: `other.${n}` });
    await Promise.all(cluster.map((a) => a.close()));
    const [clusterRow] = await queryRows<{ id: string; event_count: number }>(db, sql`select id, event_count from incidents where kind = 'cluster' and category = 'extremism'`);
    expect(Number(clusterRow!.event_count)).toBe(5);

    expect((await dsl.post(`/api/people/${bea}/subject-access`, { reason: 'Subject access request from parent' })).status).toBe(403);
    expect((await head.post(`/api/people/${bea}/subject-access`, { reason: 'short' })).status).toBe(400);
    const sar = await head.post(`/api/people/${bea}/subject-access`, { reason: 'Subject access request from parent, 20 Nov' });
    expect(sar.status).toBe(200);
    expect(sar.headers.get('content-disposition')).toMatch(/attachment; filename="haven-subject-access-/);
    const text = JSON.stringify(sar.body);
    expect(sar.body.person).toMatchObject({ name: 'Bea Quill', osUsername: 'bea.q' });
    expect(sar.body.incidents.map((i: { id: string }) => i.id)).toContain(mine);
    expect(text).toContain('BEA-OWN-TEXT');
    expect(sar.body.events.find((e: { evidence: { match: string } }) => e.evidence.match === 'BEA-OWN-TEXT').url).toBe('https://chat.example/rooms/bea-own-room');
    expect(sar.body.events.filter((e: { evidence: { match: string } }) => e.evidence.match === 'prevent duty lesson')).toHaveLength(1);
    for (const other of ['ALEX-OWN-TEXT', 'Alex Pupil', 'alex.p', 'other.0', 'other.3', clusterRow!.id]) expect(text).not.toContain(other);
    const ids = sar.body.incidents.map((i: { id: string }) => i.id);
    const foreign = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from incidents where id in ${ids} and subject_key <> 'bea.q'`);
    expect(Number(foreign[0]!.n)).toBe(0);

    const html = await head.post(`/api/people/${bea}/subject-access`, { reason: 'Readable copy for the parent', format: 'html' });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.body).toContain('<h1>What Haven holds about Bea Quill</h1>');
    expect(html.body).toContain('<mark>BEA-OWN-TEXT</mark>');
    expect(html.body).toContain('<br>https://chat.example/rooms/bea-own-room</td>');
    expect(html.body).not.toContain('ALEX-OWN-TEXT');
    const audits = await queryRows<{ action: string; actor_id: string }>(db, sql`select action, actor_id from audit_log where action = 'subject_access.export'`);
    expect(audits).toEqual([
      { action: 'subject_access.export', actor_id: headMember.id },
      { action: 'subject_access.export', actor_id: headMember.id },
    ]);
  });

  it('erases a pupil’s monitoring data only where lawful (none open or referred), audited, with tombstones', async () => {
    const db = h.database.db;
    const before = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from events`);
    const refused = await head.post(`/api/people/${bea}/erase`, { reason: 'Request under Article 17 from parent' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('HAVEN_ERR_REFUSED');
    expect(await queryRows(db, sql`select count(*)::int as n from events`)).toEqual(before);

    for (const incident of (await head.post(`/api/people/${bea}/subject-access`, { reason: 'Checking before erasure' })).body.incidents) {
      let { version } = (await head.get(`/api/incidents/${incident.id}`)).body.incident;
      if (incident.status === 'new') ({ version } = (await head.patch(`/api/incidents/${incident.id}`, { version, status: 'in_review' })).body.incident);
      if (incident.status !== 'closed') expect((await head.patch(`/api/incidents/${incident.id}`, { version, status: 'closed', outcome: 'no_further_action' })).status).toBe(200);
    }
    const erased = await head.post(`/api/people/${bea}/erase`, { reason: 'Request under Article 17 from parent' });
    expect(erased.status).toBe(200);
    expect(erased.body.erased.events).toBeGreaterThanOrEqual(3);
    const left = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from events where lower(os_user) = 'bea.q'`);
    expect(Number(left[0]!.n)).toBe(0);
    const [clusterRow] = await queryRows<{ event_count: number }>(db, sql`select event_count from incidents where kind = 'cluster' and category = 'extremism'`);
    expect(Number(clusterRow!.event_count)).toBe(4);
    expect((await queryRows(db, sql`select 1 from tombstones where reason = 'erasure'`)).length).toBeGreaterThan(0);
    const [audit] = await queryRows<{ reason: string }>(db, sql`select reason from audit_log where action = 'erasure'`);
    expect(audit!.reason).toMatch(/^Request under Article 17 from parent \(\d+ incidents?, \d+ events?\)$/);
  });
});
