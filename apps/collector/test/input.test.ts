import { availableDrivers } from '@haven/db/testing';
import { type Role } from '@haven/db';
import { EnrollRequestSchema } from '@haven/protocol';
import { z } from 'zod';
import { codePoints } from '../src/input/schemas';
import { TestAgent } from './support/agent-client';
import { sendGrouped, startCollector, type Harness } from './support/harness';
import { addPerson, addStaff, StaffClient } from './support/staff';

const ROLES: Role[] = ['dsl', 'deputy_dsl', 'head', 'technician', 'trust_admin'];

/** Values no field of the staff API should take, as JSON body values. */
const BAD_BODY_VALUES: unknown[] = [
  '\u0000',
  'a\u0000b',
  'cut emoji \ud83d',
  '😀'.repeat(5000),
  '\u200b'.repeat(10),
  'a'.repeat(10),
  1.5,
  null,
  {},
  ['\u0000'],
];

/** The same for query parameters, which arrive as text. */
const BAD_QUERY_VALUES = ['\u0000', 'a\u0000b', '', '2026-02-30', '0000-01-01', '99999-01-01', '1e309', 'NaN', '😀'.repeat(300)];

/** GET routes that read no query (any other must declare a querystring schema). */
const NO_QUERY = new Set(['GET /api/me', 'GET /api/meta', 'GET /api/incidents/:id', 'GET /api/devices', 'GET /api/trust/overview', 'GET /api/schools/:schoolId/directory/unmatched']);
/** Changes that take no fields (any other must declare a body schema). */
const NO_BODY = new Set(['POST /api/auth/logout', 'POST /api/me/totp', 'POST /api/incidents/:id/acknowledge']);

type Route = { method: string; url: string; query?: z.ZodObject; body?: z.ZodObject };

describe.each(availableDrivers())(`every route answers bad input with 400 and a message, never 5xx (%s)`, (driver) => {
  let h: Harness;
  const clients = new Map<Role | 'anonymous', string | null>();
  let ids: { id: string; personId: string; schoolId: string; staffId: string };
  let routes: Route[];

  beforeAll(async () => {
    h = await startCollector(driver);
    const db = h.database.db;
    let staffId = '';
    for (const role of ROLES) {
      const member = await addStaff(db, h.schoolId, [role], `Input ${role}`);
      if (role === 'dsl') staffId = member.id;
      clients.set(role, (await StaffClient.login(h.baseUrl, member)).cookie);
    }
    clients.set('anonymous', null);
    const personId = await addPerson(db, h.schoolId, 'input.pupil', 'pupil', 'Ida Input', '9');
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    const id = await sendGrouped(h, agent, { osUser: 'shared.input', category: 'bullying', severity: 2 });
    await agent.close();
    ids = { id, personId, schoolId: h.schoolId, staffId };
    routes = h.app.routeList
      .filter((r) => r.url.startsWith('/api/') && r.url !== '/api/live' && r.method !== 'HEAD')
      .map((r) => ({ method: r.method, url: r.url, query: r.schema?.querystring as z.ZodObject | undefined, body: r.schema?.body as z.ZodObject | undefined }));
    // Enrolment parses the protocol's schema itself (its errors are the protocol's): the same fields.
    const enroll = routes.find((r) => r.url === '/api/v1/enroll')!;
    enroll.body = EnrollRequestSchema;
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A valid value for a field, so that a request fails only for the value under test. */
  function example(name: string, schema: z.ZodType): unknown {
    const candidates: Record<string, unknown[]> = {
      email: ['someone@school.example'],
      password: ['not the password at all'],
      totp: ['123456'],
      code: ['123456'],
      reason: ['Checking this concern for the pupil'],
      note: ['A note for the record'],
      schoolId: [ids.schoolId],
      personId: [ids.personId],
      assigneeId: [ids.staffId],
      subject: ['input.pupil'],
      token: ['hvn_enr_not-a-real-token'],
      hostname: ['ict-suite-07'],
      os: [{ platform: 'win32', release: '10.0', arch: 'x64' }],
      agentVersion: ['0.1.0'],
      csv: ['upn,forename,surname,year group,class,os username,role\nA123456789012,Ida,Input,9,9A,input.pupil,pupil\n'],
      version: [999],
    };
    for (const value of [...(candidates[name] ?? []), 'open', '2026-01-15', 'Year 9', 5, true, [], 'a short piece of text']) {
      if (schema.safeParse(value).success) return value;
    }
    return undefined;
  }

  function baseline(schema: z.ZodObject | undefined, query: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(schema?.shape ?? {})) {
      const value = example(name, field as z.ZodType);
      if (value !== undefined) out[name] = query && typeof value !== 'string' ? String(value) : value;
    }
    return out;
  }

  const pathOf = (url: string) => url.replace(':id', ids.id).replace(':personId', ids.personId).replace(':schoolId', ids.schoolId);

  async function send(cookie: string | null, method: string, url: string, query: Record<string, unknown>, body: unknown) {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) search.append(k, String(v));
    const qs = search.toString();
    return h.app.inject({
      method: method as 'GET',
      url: `${url}${qs ? `?${qs}` : ''}`,
      headers: { ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  }

  it('declares the query and body of every route, so each field is checked here', () => {
    const undeclared = routes
      .filter((r) => !r.url.startsWith('/api/v1/'))
      .filter((r) => (r.method === 'GET' ? !r.query && !NO_QUERY.has(`${r.method} ${r.url}`) : !r.body && !NO_BODY.has(`${r.method} ${r.url}`)))
      .map((r) => `${r.method} ${r.url}`);
    expect(undeclared).toEqual([]);
  });

  it('refuses every bad value in every field of every route, as every role, with 400 naming the field', async () => {
    const problems: string[] = [];
    let checked = 0;
    for (const route of routes) {
      const url = pathOf(route.url);
      const query = baseline(route.query, true);
      const body = route.method === 'GET' ? undefined : baseline(route.body, false);
      const cases: Array<{ field: string; query: Record<string, unknown>; body: unknown; bad: boolean }> = [];
      // A case is bad when the route's own schema refuses the whole request.
      const refused = (schema: z.ZodObject | undefined, value: unknown) => schema !== undefined && !schema.safeParse(value).success;
      for (const name of Object.keys(route.query?.shape ?? {})) {
        for (const value of BAD_QUERY_VALUES) {
          const q = { ...query, [name]: value };
          cases.push({ field: name, query: q, body, bad: refused(route.query, q) });
        }
      }
      for (const name of Object.keys(route.body?.shape ?? {})) {
        for (const value of BAD_BODY_VALUES) {
          const b = { ...body, [name]: value };
          cases.push({ field: name, query, body: b, bad: refused(route.body, b) });
        }
        // One level down, for objects such as the enrolment's `os`.
        const inner = (body as Record<string, unknown> | undefined)?.[name];
        if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
          for (const key of Object.keys(inner)) {
            for (const value of ['a\u0000b', '\udfff', 42, 'x'.repeat(300)]) {
              const b = { ...body, [name]: { ...inner, [key]: value } };
              cases.push({ field: `${name}.${key}`, query, body: b, bad: refused(route.body, b) });
            }
          }
        }
      }
      for (const [who, cookie] of clients) {
        for (const c of cases) {
          const reply = await send(cookie, route.method, url, c.query, c.body);
          checked++;
          const where = `${route.method} ${route.url} ${c.field} as ${who}`;
          if (reply.statusCode >= 500) problems.push(`${where}: ${reply.statusCode} ${reply.body.slice(0, 120)}`);
          if (!c.bad) continue;
          const answer = reply.json() as { message?: unknown };
          // Too large for the route's body limit is refused before any field is read.
          if (reply.statusCode === 413) continue;
          if (reply.statusCode !== 400) problems.push(`${where}: ${reply.statusCode}, not 400`);
          else if (typeof answer.message !== 'string' || !answer.message.includes(c.field.split('.').pop()!)) problems.push(`${where}: message ${JSON.stringify(answer.message)} names no field`);
        }
      }
    }
    expect(problems.slice(0, 20)).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('answers the reported inputs with 400 and a message: NUL in an e-mail, impossible dates, NUL in a query or a note', async () => {
    const dsl = clients.get('dsl')!;
    const head = clients.get('head')!;
    const cases: Array<[string, Promise<{ statusCode: number; json(): any }>]> = [
      ['NUL in a sign-in e-mail', send(null, 'POST', '/api/auth/login', {}, { email: 'a\u0000@school.example', password: 'whatever it is' })],
      ['from=2026-02-30', send(dsl, 'GET', '/api/incidents', { from: '2026-02-30' }, undefined)],
      ['from=0000-01-01', send(dsl, 'GET', '/api/incidents', { from: '0000-01-01' }, undefined)],
      ['yearGroup=%00', send(dsl, 'GET', '/api/incidents', { yearGroup: '\u0000' }, undefined)],
      ['q=%00', send(dsl, 'GET', '/api/people', { schoolId: ids.schoolId, q: '\u0000' }, undefined)],
      ['subject=%00', send(dsl, 'GET', '/api/people/chronology', { schoolId: ids.schoolId, subject: '\u0000' }, undefined)],
      ['a note with NUL', send(head, 'PATCH', `/api/incidents/${ids.id}`, {}, { version: 1, note: 'seen \u0000 today' })],
      ['a reason of ten zero-width spaces', send(dsl, 'POST', `/api/incidents/${ids.id}/evidence`, {}, { reason: '\u200b'.repeat(10) })],
      ['a reason of one letter repeated', send(dsl, 'POST', `/api/incidents/${ids.id}/evidence`, {}, { reason: 'aaaaaaaaaa' })],
      ['a reason of one word', send(dsl, 'POST', `/api/incidents/${ids.id}/evidence`, {}, { reason: 'safeguarding' })],
    ];
    for (const [name, pending] of cases) {
      const reply = await pending;
      expect({ name, status: reply.statusCode, error: reply.json().error }).toEqual({ name, status: 400, error: 'HAVEN_ERR_VALIDATION' });
      expect(reply.json().message).toMatch(/^\w+(\.\w+)*: \S/);
    }
    // A path id that is not an id is simply not found.
    expect((await send(dsl, 'GET', '/api/incidents/%00', {}, undefined)).statusCode).toBe(404);
  });

  it('counts lengths in code points everywhere: an emoji is one character', async () => {
    const head = clients.get('head')!;
    const emoji = '😀';
    expect(codePoints(emoji.repeat(3))).toBe(3);
    const detail = (await send(head, 'GET', `/api/incidents/${ids.id}`, {}, undefined)).json().incident;
    const full = await send(head, 'PATCH', `/api/incidents/${ids.id}`, {}, { version: detail.version, note: emoji.repeat(4000) });
    expect(full.statusCode).toBe(200);
    const over = await send(head, 'PATCH', `/api/incidents/${ids.id}`, {}, { version: detail.version + 1, note: emoji.repeat(4001) });
    expect(over.statusCode).toBe(400);
    expect(over.json().message).toBe('note: must be at most 4,000 characters');
    // A reason of 500 characters, 480 of them emoji (980 UTF-16 units), is within its limit.
    const reason = `Checking the concern ${emoji.repeat(479)}`;
    expect(codePoints(reason)).toBe(500);
    expect((await send(head, 'POST', `/api/incidents/${ids.id}/evidence`, {}, { reason })).statusCode).toBe(200);
    expect((await send(head, 'POST', `/api/incidents/${ids.id}/evidence`, {}, { reason: `${reason}${emoji}` })).statusCode).toBe(400);
  });
});
