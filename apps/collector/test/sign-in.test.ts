import { availableDrivers } from '@haven/db/testing';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../src/app';
import { SecretBox } from '../src/auth/secret-box';
import { base32Decode, hotp, totpAt } from '../src/auth/totp';
import { queryRows } from '../src/db-rows';
import { createLogger } from '../src/logger';
import { startCollector, TEST_SECRET_KEY, type Harness } from './support/harness';
import { addStaff, type StaffMember } from './support/staff';


/**
 * Sign-in limits, TOTP replay and TOTP secrets at rest. Requests come through Fastify's inject
 * with a chosen client address (and, behind the proxy, the X-Forwarded-For nginx would send).
 */
describe.each(availableDrivers())(`sign-in limits and two-factor sign-in (%s)`, (driver) => {
  let h: Harness;
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    h = await startCollector(driver);
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await h?.close();
  });

  /** Another collector on the same database (a restart, or a second collector). */
  async function collector(options: Partial<AppOptions> = {}): Promise<FastifyInstance> {
    const app = await buildApp({ database: h.database, logger: createLogger('silent'), alertSweepMs: 0, secretKey: TEST_SECRET_KEY, ...options });
    apps.push(app);
    return app;
  }

  const login = (app: FastifyInstance, from: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: from, headers, payload: body });

  const fail = async (app: FastifyInstance, from: string, member: StaffMember, times: number, headers: Record<string, string> = {}) => {
    for (let i = 0; i < times; i++) expect((await login(app, from, { email: member.email, password: `wrong guess ${i}` }, headers)).statusCode).toBe(401);
  };

  it('stops an attacker hammering one account from one address, but not its owner at another address', async () => {
    const member = await addStaff(h.database.db, h.schoolId, ['dsl'], 'Hammered DSL');
    const app = await collector();
    // The owner has signed in from their own computer before.
    expect((await login(app, '10.0.0.5', { email: member.email, password: member.password })).statusCode).toBe(200);
    await fail(app, '192.0.2.66', member, 5);
    const refused = await login(app, '192.0.2.66', { email: member.email, password: member.password });
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json().error).toBe('HAVEN_ERR_RATE_LIMITED');
    expect((await login(app, '10.0.0.5', { email: member.email, password: member.password })).statusCode).toBe(200);
    // …and someone new at a third address, before the account has seen many failures.
    expect((await login(app, '10.0.0.9', { email: member.email, password: member.password })).statusCode).toBe(200);
  });

  it('stops one address that tries many accounts, without locking those accounts for anyone else', async () => {
    const members = await Promise.all(Array.from({ length: 13 }, (_, i) => addStaff(h.database.db, h.schoolId, ['head'], `Sprayed ${i}`)));
    const app = await collector();
    // 50 failures from one address, four per account (under the per-account limit).
    let n = 0;
    for (const member of members) {
      for (let i = 0; i < 4 && n < 50; i++, n++) expect((await login(app, '198.51.100.7', { email: member.email, password: `spray ${i}` })).statusCode).toBe(401);
    }
    expect((await login(app, '198.51.100.7', { email: members[12]!.email, password: members[12]!.password })).statusCode).toBe(429);
    for (const member of members) expect((await login(app, '10.1.0.1', { email: member.email, password: member.password })).statusCode).toBe(200);
  });

  it('refuses addresses an account has never signed in from once it is guessed at from many, but not its owner', async () => {
    const member = await addStaff(h.database.db, h.schoolId, ['deputy_dsl'], 'Distributed target');
    const app = await collector();
    expect((await login(app, '10.2.0.1', { email: member.email, password: member.password })).statusCode).toBe(200);
    for (let i = 0; i < 10; i++) expect((await login(app, `203.0.113.${i + 1}`, { email: member.email, password: `botnet ${i}` })).statusCode).toBe(401);
    expect((await login(app, '203.0.113.200', { email: member.email, password: member.password })).statusCode).toBe(429);
    expect((await login(app, '10.2.0.1', { email: member.email, password: member.password })).statusCode).toBe(200);
  });

  it('keeps the limits across a restart and across collectors on one database', async () => {
    const member = await addStaff(h.database.db, h.schoolId, ['dsl'], 'Restart DSL');
    const first = await collector();
    await fail(first, '192.0.2.10', member, 5);
    await first.close();
    const restarted = await collector();
    expect((await login(restarted, '192.0.2.10', { email: member.email, password: member.password })).statusCode).toBe(429);
    const [row] = await queryRows<{ n: number }>(h.database.db, sql`select count(*)::int as n from auth_attempts where account like ${'%@%'}`);
    expect(Number(row!.n)).toBe(0); // accounts are kept as hashes, never as typed
  });

  it('counts the address the trusted proxy saw: a forged X-Forwarded-For changes nothing', async () => {
    const member = await addStaff(h.database.db, h.schoolId, ['dsl'], 'Proxied DSL');
    // nginx on the same server (one hop) appends the address it saw to whatever the client sent.
    const app = await collector({ trustProxy: 1 });
    const via = (forged: string, client: string) => ({ 'x-forwarded-for': `${forged}, ${client}` });
    for (let i = 0; i < 5; i++) {
      expect((await login(app, '127.0.0.1', { email: member.email, password: `guess ${i}` }, via(`1.2.3.${i}`, '192.0.2.77'))).statusCode).toBe(401);
    }
    expect((await login(app, '127.0.0.1', { email: member.email, password: member.password }, via('9.9.9.9', '192.0.2.77'))).statusCode).toBe(429);
    // Every member of staff comes through the proxy from 127.0.0.1: the others are not stopped.
    expect((await login(app, '127.0.0.1', { email: member.email, password: member.password }, { 'x-forwarded-for': '10.3.0.4' })).statusCode).toBe(200);
  });

  it('accepts each TOTP code once, and keeps the secret encrypted at rest', async () => {
    const member = await addStaff(h.database.db, h.schoolId, ['head'], 'Totp Head');
    const app = await collector();
    const signedIn = await login(app, '10.4.0.1', { email: member.email, password: member.password });
    const cookie = String(signedIn.headers['set-cookie']).split(';')[0]!;
    const post = (url: string, payload: unknown = {}) => app.inject({ method: 'POST', url, headers: { cookie }, payload: payload as object });
    const setup = (await post('/api/me/totp')).json() as { secret: string };
    const [stored] = await queryRows<{ totp_secret: string }>(h.database.db, sql`select totp_secret from staff where id = ${member.id}`);
    expect(stored!.totp_secret).toMatch(/^v1:/);
    expect(stored!.totp_secret).not.toContain(setup.secret);
    expect(new SecretBox(TEST_SECRET_KEY).open(stored!.totp_secret, member.id)).toBe(setup.secret);

    const now = Date.now();
    const code = totpAt(setup.secret, now);
    expect((await post('/api/me/totp/enable', { code })).statusCode).toBe(204);
    const next = totpAt(setup.secret, now + 30_000);
    const first = await login(app, '10.4.0.1', { email: member.email, password: member.password, totp: next });
    expect(first.statusCode).toBe(200);
    const replayed = await login(app, '10.4.0.1', { email: member.email, password: member.password, totp: next });
    expect(replayed.statusCode).toBe(401);
    expect(replayed.json()).toMatchObject({ error: 'HAVEN_ERR_TOTP_REQUIRED', message: expect.stringMatching(/used already/) });
    // An older code (the previous step, still inside the drift window) is refused too.
    expect((await login(app, '10.4.0.1', { email: member.email, password: member.password, totp: code })).statusCode).toBe(401);
    // A sealed secret does not open for another account or with another key.
    expect(() => new SecretBox(TEST_SECRET_KEY).open(stored!.totp_secret, '00000000-0000-4000-8000-000000000000')).toThrow(/does not open/);
    const wrongKey = await collector({ secretKey: Buffer.alloc(32, 9) });
    const after = totpAt(setup.secret, now + 60_000);
    const lost = await login(wrongKey, '10.4.0.2', { email: member.email, password: member.password, totp: after });
    expect(lost.statusCode).toBe(503);
    expect(lost.json().error).toBe('HAVEN_ERR_SECRET_KEY');
  });

  it('refuses to turn TOTP on without the key, and encrypts secrets stored before encryption at the first start with one', async () => {
    const member = await addStaff(h.database.db, h.schoolId, ['dsl'], 'Legacy Totp');
    const keyless = await collector({ secretKey: undefined });
    const signedIn = await login(keyless, '10.5.0.1', { email: member.email, password: member.password });
    const cookie = String(signedIn.headers['set-cookie']).split(';')[0]!;
    const refused = await keyless.inject({ method: 'POST', url: '/api/me/totp', headers: { cookie }, payload: {} });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().message).toMatch(/HAVEN_SECRET_KEY/);

    // A secret from before encryption (plain base32) still works without the key…
    const plain = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    await h.database.db.execute(sql`update staff set totp_secret = ${plain}, totp_enabled = true where id = ${member.id}`);
    const now = Date.now();
    const code = (offset: number) => hotp(base32Decode(plain), Math.floor((now + offset) / 30_000));
    expect((await login(keyless, '10.5.0.1', { email: member.email, password: member.password, totp: code(0) })).statusCode).toBe(200);
    // …and is sealed when a collector starts with the key.
    const keyed = await collector();
    await keyed.ready();
    const [row] = await queryRows<{ totp_secret: string }>(h.database.db, sql`select totp_secret from staff where id = ${member.id}`);
    expect(row!.totp_secret).toMatch(/^v1:/);
    expect((await login(keyed, '10.5.0.1', { email: member.email, password: member.password, totp: code(30_000) })).statusCode).toBe(200);
  });
});
