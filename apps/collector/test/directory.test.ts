import { availableDrivers } from '@haven/db/testing';
import { sql } from 'drizzle-orm';
import { queryRows } from '../src/db-rows';
import { createSchool } from '../src/enrollment/repository';
import { EVIDENCE_MARKER, TestAgent, TITLE_MARKER } from './support/agent-client';
import { startCollector, type Harness } from './support/harness';
import { addPerson, addStaff, StaffClient } from './support/staff';

const HEADER = 'UPN,Admission Number,Forename,Surname,Year Group,Class,OS Username,Role,SEND,Looked After';
/** A surname that must never reach the logs. */
const NAME_MARKER = 'Quimbleworth';

type Row = { upn: string; admission: string; forename: string; surname: string; year: string; cls: string; user: string; role: string; send: string; lookedAfter: string };

/** The i-th person of a generated school: mostly pupils in years 7–11 with UPNs, every 20th one staff. */
function person(i: number): Row {
  const staff = i % 20 === 19;
  const year = 7 + (i % 5);
  const yearText = [`Year ${year}`, String(year), `Y${year}`][i % 3]!;
  return {
    upn: staff ? '' : `A${String(100_000_000_000 + i).slice(-12)}`,
    admission: staff ? `S${String(i).padStart(5, '0')}` : String(i),
    forename: `Forename${i}`,
    surname: i === 5 ? NAME_MARKER : `Surname${i}`,
    year: staff ? '' : yearText,
    cls: staff ? '' : `${year}${'ABC'[i % 3]}`,
    user: staff ? `staff${i}` : `p${String(i).padStart(5, '0')}`,
    role: staff ? 'Staff' : 'pupil',
    send: i % 7 === 0 ? 'Y' : i % 7 === 1 ? 'no' : '',
    lookedAfter: i % 11 === 0 ? 'yes' : 'N',
  };
}

const line = (r: Row) => [r.upn, r.admission, r.forename, r.surname, r.year, r.cls, r.user, r.role, r.send, r.lookedAfter].join(',');
const csvOf = (rows: Row[]) => `\uFEFF${HEADER}\r\n${rows.map(line).join('\r\n')}\r\n`;
/** Row index → its line in the file (the header is line 1). */
const lineOf = (index: number) => index + 2;

describe.each(availableDrivers())(`directory import from the MIS (%s)`, (driver) => {
  let h: Harness;
  let tech: StaffClient;
  let head: StaffClient;
  let dsl: StaffClient;
  let otherTech: StaffClient;
  let otherSchoolId: string;
  const school: Row[] = Array.from({ length: 2000 }, (_, i) => person(i));
  const importPath = () => `/api/schools/${h.schoolId}/directory/import`;

  const count = async (where = sql`true`) =>
    Number((await queryRows<{ n: number }>(h.database.db, sql`select count(*)::int as n from people where school_id = ${h.schoolId} and ${where}`))[0]!.n);

  beforeAll(async () => {
    h = await startCollector(driver);
    const db = h.database.db;
    otherSchoolId = (await createSchool(db, 'Other Academy')).id;
    const [t, hd, d, o] = await Promise.all([
      addStaff(db, h.schoolId, ['technician']),
      addStaff(db, h.schoolId, ['head']),
      addStaff(db, h.schoolId, ['dsl']),
      addStaff(db, otherSchoolId, ['technician']),
    ]);
    [tech, head, dsl, otherTech] = await Promise.all([
      StaffClient.login(h.baseUrl, t),
      StaffClient.login(h.baseUrl, hd),
      StaffClient.login(h.baseUrl, d),
      StaffClient.login(h.baseUrl, o),
    ]);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('1. refuses a 2,000-row file with three bad rows, naming exactly the lines involved, and imports nothing', async () => {
    const bad = school.map((r) => ({ ...r }));
    bad[56]!.role = 'teacher'; // line 58
    bad[1201]!.year = ''; // line 1203: a pupil without a year group
    bad[1997]!.user = bad[8]!.user.toUpperCase(); // line 1999 takes line 10's os username
    expect([56, 1201, 1997, 8].map((i) => bad[i]!.role)).toEqual(['teacher', 'pupil', 'pupil', 'pupil']);

    const reply = await tech.post(importPath(), { csv: csvOf(bad) });
    expect(reply.status).toBe(422);
    expect(reply.body).toMatchObject({ error: 'HAVEN_ERR_DIRECTORY_INVALID', message: '4 problems; nothing was imported', statusCode: 422 });
    const problems = reply.body.problems as { line: number; column?: string; message: string }[];
    expect(problems.map((p) => p.line)).toEqual([lineOf(8), 58, 1203, 1999]);
    expect(problems.map((p) => p.column)).toEqual(['os username', 'role', 'year group', 'os username']);
    expect(problems[1]!.message).toBe('Line 58: role must be pupil or staff (found "teacher").');
    expect(problems[2]!.message).toBe('Line 1203: a pupil needs a year group.');
    expect(problems[3]!.message).toBe('Line 1999: the same os username is on more than one line (lines 10, 1999).');
    // A message quotes at most its own row: line 1999's says nothing of line 10's pupil.
    expect(problems[3]!.message).not.toMatch(/Forename8|Surname8|p00008/i);
    expect((await queryRows<{ n: number }>(h.database.db, sql`select count(*)::int as n from people`))[0]!.n).toBe(0);
    expect(h.logs.join('')).not.toContain('teacher');
  });

  it('2. imports the corrected file: 2,000 created, the fields as the file gives them, audited, no names in the logs', async () => {
    const started = performance.now();
    const reply = await tech.post(importPath(), { csv: csvOf(school) });
    const ms = performance.now() - started;
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ created: 2000, updated: 0, unchanged: 0, left: 0, dryRun: false });
    expect(ms).toBeLessThan(20_000);

    expect(await count()).toBe(2000);
    expect(await count(sql`kind = 'pupil'`)).toBe(1900);
    expect(await count(sql`kind = 'staff' and year_group is null and class_name is null`)).toBe(100);
    expect(await count(sql`left_at is null and external_id is not null`)).toBe(2000);
    expect(await count(sql`year_group in ('7', '8', '9', '10', '11')`)).toBe(1900);
    expect(await count(sql`send`)).toBe(school.filter((r) => r.send === 'Y').length);
    expect(await count(sql`looked_after`)).toBe(school.filter((r) => r.lookedAfter === 'yes').length);

    // Row 77: "Y9"-style year group, SEND, looked after.
    const pupil = school[77]!;
    expect([pupil.year, pupil.send, pupil.lookedAfter]).toEqual(['Y9', 'Y', 'yes']);
    const [stored] = await queryRows<Record<string, unknown>>(
      h.database.db,
      sql`select external_id, os_username, forename, surname, display_name, kind, year_group, class_name, send, looked_after, vulnerable_manual, left_at
          from people where school_id = ${h.schoolId} and external_id = ${pupil.upn}`,
    );
    expect(stored).toEqual({
      external_id: pupil.upn,
      os_username: pupil.user,
      forename: 'Forename77',
      surname: 'Surname77',
      display_name: 'Forename77 Surname77',
      kind: 'pupil',
      year_group: '9',
      class_name: '9C',
      send: true,
      looked_after: true,
      vulnerable_manual: false,
      left_at: null,
    });
    const [staffMember] = await queryRows<{ external_id: string; kind: string }>(h.database.db, sql`select external_id, kind from people where os_username = 'staff19'`);
    expect(staffMember).toEqual({ external_id: 'S00019', kind: 'staff' });

    const audit = await queryRows<{ action: string; reason: string; school_id: string }>(h.database.db, sql`select action, reason, school_id from audit_log where action = 'directory.import'`);
    expect(audit).toEqual([{ action: 'directory.import', reason: '2000 created, 0 updated, 0 left', school_id: h.schoolId }]);
    const logs = h.logs.join('');
    expect(logs).toContain('Directory imported.');
    expect(logs).not.toContain(NAME_MARKER);
    expect(logs).not.toContain('Forename77');
  });

  it('3. re-imports with 10 leavers, 10 joiners and one changed class: leavers kept with left_at, nothing deleted', async () => {
    const leavers = school.slice(100, 110);
    const joiners = Array.from({ length: 10 }, (_, k) => person(5000 + k));
    const next = [...school.slice(0, 100), ...school.slice(110), ...joiners].map((r) => ({ ...r }));
    const moved = next.find((r) => r.upn === school[42]!.upn)!;
    moved.cls = '9Z';

    const reply = await head.post(importPath(), { csv: csvOf(next) });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ created: 10, updated: 1, unchanged: 1989, left: 10, dryRun: false });

    expect(await count()).toBe(2010);
    const gone = await queryRows<{ external_id: string; left_at: unknown }>(
      h.database.db,
      sql`select external_id, left_at from people where school_id = ${h.schoolId} and left_at is not null order by external_id`,
    );
    expect(gone.map((g) => g.external_id)).toEqual(leavers.map((r) => r.upn || r.admission).sort());
    expect(await count(sql`external_id in ${joiners.map((r) => r.upn || r.admission)} and left_at is null`)).toBe(10);
    expect(await count(sql`external_id = ${moved.upn} and class_name = '9Z'`)).toBe(1);

    // The same file again changes nothing; a returner comes back with left_at cleared.
    expect((await tech.post(importPath(), { csv: csvOf(next) })).body).toEqual({ created: 0, updated: 0, unchanged: 2000, left: 0, dryRun: false });
    const back = [...next, leavers[0]!];
    expect((await tech.post(importPath(), { csv: csvOf(back) })).body).toEqual({ created: 0, updated: 1, unchanged: 2000, left: 0, dryRun: false });
    expect(await count(sql`external_id = ${leavers[0]!.upn} and left_at is null`)).toBe(1);
    school.splice(0, school.length, ...back);
  });

  it('3b. leaves people added by hand alone, refuses an os username someone outside the file has, and lets two people swap names', async () => {
    await addPerson(h.database.db, h.schoolId, 'hand.added', 'staff', 'Added By Hand');
    const joiner = { ...person(7000), user: 'Hand.Added' };
    const reply = await tech.post(importPath(), { csv: csvOf([...school, joiner]) });
    expect(reply.status).toBe(422);
    expect(reply.body.problems).toEqual([
      { line: lineOf(school.length), column: 'os username', message: `Line ${lineOf(school.length)}: os username "hand.added" already belongs to someone added by hand at this school; nothing was imported.` },
    ]);
    const leaver = await queryRows<{ os_username: string }>(h.database.db, sql`select os_username from people where school_id = ${h.schoolId} and left_at is not null limit 1`);
    const takesLeaversName = { ...person(7001), user: leaver[0]!.os_username };
    const refused = await tech.post(importPath(), { csv: csvOf([...school, takesLeaversName]) });
    expect(refused.status).toBe(422);
    expect(refused.body.problems[0].message).toMatch(/already belongs to someone who has left/);

    const swapped = school.map((r) => ({ ...r }));
    [swapped[0]!.user, swapped[1]!.user] = [swapped[1]!.user, swapped[0]!.user];
    expect((await tech.post(importPath(), { csv: csvOf(swapped) })).body).toEqual({ created: 0, updated: 2, unchanged: school.length - 2, left: 0, dryRun: false });
    expect(await count(sql`os_username = 'hand.added' and external_id is null and left_at is null and display_name = 'Added By Hand'`)).toBe(1);
    expect(await count(sql`os_username like '~%'`)).toBe(0);
    school.splice(0, school.length, ...swapped);
  });

  it('4. a dry run changes nothing; other schools, DSLs and non-JSON bodies are refused; a missing column is named', async () => {
    const snapshot = async () =>
      queryRows(h.database.db, sql`select count(*)::int as n, count(left_at)::int as left, max(updated_at)::text as changed from people where school_id = ${h.schoolId}`);
    const before = await snapshot();
    const auditsBefore = await queryRows(h.database.db, sql`select count(*)::int as n from audit_log`);
    const smaller = school.slice(0, 1500);
    const dry = await head.post(importPath(), { csv: csvOf([...smaller, person(9000)]), dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({ created: 1, updated: 0, unchanged: 1500, left: school.length - 1500, dryRun: true });
    expect(await snapshot()).toEqual(before);
    expect(await queryRows(h.database.db, sql`select count(*)::int as n from audit_log`)).toEqual(auditsBefore);

    const small = csvOf([person(1)]);
    expect((await otherTech.post(importPath(), { csv: small, dryRun: true })).status).toBe(403);
    expect((await dsl.post(importPath(), { csv: small, dryRun: true })).status).toBe(403);
    expect((await tech.post('/api/schools/not-a-uuid/directory/import', { csv: small, dryRun: true })).status).toBe(403);
    const asCsv = await tech.request('POST', importPath(), small, 'text/csv');
    expect(asCsv.status).toBe(415);
    expect((await tech.post(importPath(), { csv: small, dryRun: 'yes' })).status).toBe(400);

    const noRole = await tech.post(importPath(), { csv: 'UPN,Forename,Surname,Year Group,Class,OS Username\r\nA123456789012,Al,Lee,7,7A,al.lee\r\n' });
    expect(noRole.status).toBe(422);
    expect(noRole.body.problems).toEqual([{ line: 1, column: 'role', message: 'Line 1: the header has no "role" column.' }]);
    expect(await snapshot()).toEqual(before);
  });

  it('4b. parses a quoted field with a comma and a line break, and counts lines after it', async () => {
    const header = 'Admission Number,Forename,Surname,Year Group,Class,OS Username,Role,Notes';
    const good = `${header}\r\n1,Mary,"Smith, Jr",Reception,Owls,mary.smith,pupil,"Lives with gran,\r\nsee file"\r\n2,Tom,Brown,,,t.brown,staff,\r\n`;
    const path = `/api/schools/${otherSchoolId}/directory/import`;
    const reply = await otherTech.post(path, { csv: good });
    expect(reply.body).toEqual({ created: 2, updated: 0, unchanged: 0, left: 0, dryRun: false });
    const [mary] = await queryRows<{ surname: string; display_name: string; year_group: string }>(
      h.database.db,
      sql`select surname, display_name, year_group from people where school_id = ${otherSchoolId} and external_id = '1'`,
    );
    expect(mary).toEqual({ surname: 'Smith, Jr', display_name: 'Mary Smith, Jr', year_group: 'Reception' });
    const bad = `${header}\r\n1,Mary,"Smith, Jr",Reception,Owls,mary.smith,pupil,"Lives with gran,\r\nsee file"\r\n2,Tom,Brown,,,t.brown,teacher,\r\n`;
    const refused = await otherTech.post(path, { csv: bad });
    expect(refused.body.problems).toEqual([{ line: 4, column: 'role', message: 'Line 4: role must be pupil or staff (found "teacher").' }]);
  });

  it('5. lists OS users seen in the last 30 days that match no person and no shared logon', async () => {
    const db = h.database.db;
    await db.execute(sql`insert into shared_logons (school_id, os_username, label) values (${h.schoolId}, 'class5b', 'Class 5B')`);
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    try {
      const long = new Date(Date.now() - 31 * 24 * 3600_000).toISOString();
      const events = [
        agent.event({ osUser: 'Unknown.User' }),
        agent.event({ osUser: 'unknown.user' }),
        agent.event({ osUser: school[3]!.user.toUpperCase() }),
        agent.event({ osUser: 'CLASS5B' }),
        agent.event({ osUser: 'long.ago', occurredAt: long }),
      ];
      expect((await agent.sendBatch(events)).type).toBe('ack');
    } finally {
      await agent.close();
    }
    const reply = await dsl.get(`/api/schools/${h.schoolId}/directory/unmatched`);
    expect(reply.status).toBe(200);
    expect(reply.body.users).toEqual([{ osUser: 'unknown.user', events: 2, devices: 1, lastSeenAt: expect.any(String) }]);
    expect(Date.now() - new Date(reply.body.users[0].lastSeenAt).getTime()).toBeLessThan(60_000);
    const text = JSON.stringify(reply.body);
    expect(text).not.toContain(EVIDENCE_MARKER);
    expect(text).not.toContain(TITLE_MARKER);
    expect((await tech.get(`/api/schools/${h.schoolId}/directory/unmatched`)).status).toBe(200);
    expect((await head.get(`/api/schools/${h.schoolId}/directory/unmatched`)).status).toBe(200);
    expect((await otherTech.get(`/api/schools/${h.schoolId}/directory/unmatched`)).status).toBe(403);
    expect((await otherTech.get(`/api/schools/${otherSchoolId}/directory/unmatched`)).body).toEqual({ users: [] });
  });
});
