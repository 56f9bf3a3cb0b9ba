import { eq } from 'drizzle-orm';
import { deviceCredentials, devices, enrollmentTokens, hashSecret } from '@haven/db';
import { openTestDatabase } from '@haven/db/testing';
import { availableDrivers } from '@haven/db/testing';
import { ENROLL_ERROR_CODES } from '@haven/protocol';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app';
import { createEnrollmentToken, createSchool, revokeEnrollmentToken } from '../src/enrollment/repository';
import { createLogger } from '../src/logger';

const body = (token: string) => ({ token, hostname: 'ict-suite-07', os: { platform: 'win32', release: '10.0.22631', arch: 'x64' }, agentVersion: '0.1.0' });

describe.each(availableDrivers())('enrollment (%s)', (driver) => {
  let app: FastifyInstance;
  let dispose: () => Promise<void>;
  let schoolId: string;

  beforeAll(async () => {
    const t = await openTestDatabase(driver);
    dispose = t.dispose;
    app = await buildApp({ database: t.database, logger: createLogger('silent') });
    schoolId = (await createSchool(t.database.db, 'St Mary’s C of E Primary')).id;
  });
  afterAll(async () => {
    await app.close();
    await dispose();
  });

  const enroll = (payload: unknown) => app.inject({ method: 'POST', url: '/api/v1/enroll', payload: payload as object });

  it('returns a device id and a secret that is stored only as a hash', async () => {
    const { token } = await createEnrollmentToken(app.database.db, { schoolId });
    const res = await enroll(body(token));
    expect(res.statusCode).toBe(201);
    const json = res.json();
    expect(json).toMatchObject({ schoolId, protocol: 1, agentPath: '/agent' });
    expect(json.deviceSecret).toMatch(/^hvn_dev_[A-Za-z0-9_-]{43}$/);
    const [device] = await app.database.db.select().from(devices).where(eq(devices.id, json.deviceId));
    expect(device).toMatchObject({ hostname: 'ict-suite-07', osPlatform: 'win32', schoolId });
    const creds = await app.database.db.select().from(deviceCredentials).where(eq(deviceCredentials.deviceId, json.deviceId));
    expect(creds).toHaveLength(1);
    expect(creds[0]!.secretHash).toBe(hashSecret(json.deviceSecret));
    expect(JSON.stringify(creds)).not.toContain(json.deviceSecret);
    const [stored] = await app.database.db.select().from(enrollmentTokens).where(eq(enrollmentTokens.tokenHash, hashSecret(token)));
    expect(stored!.useCount).toBe(1);
  });

  it('refuses an unknown token', async () => {
    const res = await enroll(body('hvn_enr_not-a-real-token'));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: ENROLL_ERROR_CODES.tokenUnknown });
  });

  it('refuses an expired token and changes nothing', async () => {
    const { token } = await createEnrollmentToken(app.database.db, { schoolId, expiresAt: new Date(Date.now() - 1000) });
    const before = (await app.database.db.select().from(devices)).length;
    const res = await enroll(body(token));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: ENROLL_ERROR_CODES.tokenExpired });
    expect((await app.database.db.select().from(devices)).length).toBe(before);
  });

  it('refuses a revoked token', async () => {
    const { id, token } = await createEnrollmentToken(app.database.db, { schoolId });
    expect(await revokeEnrollmentToken(app.database.db, id)).toBe(true);
    const res = await enroll(body(token));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: ENROLL_ERROR_CODES.tokenRevoked });
  });

  it('honours a use limit, also when installers enroll at the same moment', async () => {
    const { token } = await createEnrollmentToken(app.database.db, { schoolId, maxUses: 3 });
    const results = await Promise.all(Array.from({ length: 8 }, () => enroll(body(token))));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 201)).toHaveLength(3);
    expect(codes.filter((c) => c === 401)).toHaveLength(5);
    for (const r of results.filter((x) => x.statusCode === 401)) expect(r.json().error).toBe(ENROLL_ERROR_CODES.tokenExhausted);
  });

  it.each([
    ['no body', undefined],
    ['a missing field', { token: 'x', hostname: 'h', agentVersion: '1' }],
    ['an oversized hostname', { ...body('x'), hostname: 'h'.repeat(300) }],
    ['a wrong type', { ...body('x'), os: 'linux' }],
  ])('answers 400 for %s', async (_name, payload) => {
    const res = await enroll(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400 });
  });

  it('answers 400 for malformed JSON and 413 for an oversized body', async () => {
    const bad = await app.inject({ method: 'POST', url: '/api/v1/enroll', headers: { 'content-type': 'application/json' }, payload: '{"token":' });
    expect(bad.statusCode).toBe(400);
    const big = await app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { ...body('x'), pad: 'p'.repeat(20_000) } });
    expect(big.statusCode).toBe(413);
  });

  it('answers 404 with the error shape for unknown routes', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/nothing' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'HAVEN_ERR_NOT_FOUND', message: 'No such route', statusCode: 404 });
  });

  it('answers 415 for a body that is not JSON, as the protocol says', async () => {
    const { token } = await createEnrollmentToken(app.database.db, { schoolId });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/enroll', headers: { 'content-type': type }, payload: JSON.stringify(body(token)) });
      expect(res.statusCode).toBe(415);
      expect(res.json()).toMatchObject({ error: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 });
    }
  });

  it('slows token guessing from one address without stopping enrolment from others', async () => {
    const from = (remoteAddress: string, payload: unknown) => app.inject({ method: 'POST', url: '/api/v1/enroll', remoteAddress, payload: payload as object });
    for (let i = 0; i < 20; i++) expect((await from('192.0.2.44', body(`hvn_enr_guess-${i}`))).statusCode).toBe(401);
    const { token } = await createEnrollmentToken(app.database.db, { schoolId });
    const limited = await from('192.0.2.44', body(token));
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toBe('HAVEN_ERR_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await from('10.9.0.1', body(token))).statusCode).toBe(201);
    // Kept in the database: a restarted collector still refuses that address.
    const restarted = await buildApp({ database: app.database, logger: createLogger('silent') });
    try {
      expect((await restarted.inject({ method: 'POST', url: '/api/v1/enroll', remoteAddress: '192.0.2.44', payload: body(token) })).statusCode).toBe(429);
    } finally {
      await restarted.close();
    }
  });
});
