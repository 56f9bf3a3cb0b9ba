import { availableDrivers } from '@haven/db/testing';
import { CloseCode, LIMITS, uuidv7 } from '@haven/protocol';
import { sql } from 'drizzle-orm';
import { queryRows } from '../src/db-rows';
import { FailureLimiter, LogLimiter } from '../src/gateway/limits';
import { TestAgent } from './support/agent-client';
import { startCollector, type Harness } from './support/harness';

type LogLine = { level: number; msg: string; suppressed?: number; deviceId?: string; databaseError?: { kind?: string; sqlstate?: string } };

/**
 * What the gateway does with input the database cannot store, with a device clock that is
 * wrong, with database faults that are not outages, and with clients that keep getting it
 * wrong: never "unavailable" unless the database is down, and client faults never at error.
 */
describe.each(availableDrivers())('agent gateway under hostile input (%s)', (driver) => {
  let h: Harness;
  let agent: TestAgent;

  beforeAll(async () => {
    h = await startCollector(driver);
    agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
  });

  const logs = (): LogLine[] => h.logs.map((l) => JSON.parse(l) as LogLine);
  const stored = async (id: string) =>
    (
      await queryRows<{ occurred_at: unknown; received_at: unknown; reported_occurred_at: string | null; incident_id: string | null; os_user: string; evidence: { match: string; before: string; after: string }; app: string | null; window_title: string | null; rule_ids: string[] }>(
        h.database.db,
        sql`select occurred_at, received_at, reported_occurred_at, incident_id, os_user, evidence, app, window_title, rule_ids from events where id = ${id}`,
      )
    )[0];

  it('keeps events from a wrong clock with the receive time, and still groups a severity-5 one', async () => {
    const future = agent.event({ occurredAt: '9999-12-31T23:59:59Z', severity: 1 });
    const tomorrowPlus = agent.event({ occurredAt: new Date(Date.now() + 25 * 3600_000).toISOString(), severity: 2 });
    const epoch = agent.event({ occurredAt: '1970-01-01T00:00:00Z', severity: 2 });
    const critical = agent.event({ osUser: 'pupil.clock', category: 'suicide', severity: 5, occurredAt: '2099-06-01T12:00:00+14:00' });
    const fine = agent.event({ occurredAt: new Date(Date.now() - 3600_000).toISOString() });
    const reply = await agent.sendBatch([future, tomorrowPlus, epoch, critical, fine]);
    expect(reply).toMatchObject({ type: 'ack', duplicates: 0 });
    await h.app.triage.idle();

    for (const e of [future, tomorrowPlus, epoch, critical]) {
      const row = (await stored(e.id))!;
      expect(row.reported_occurred_at).toBe(e.occurredAt);
      // The receive time, give or take the commit.
      expect(Math.abs(new Date(String(row.occurred_at instanceof Date ? row.occurred_at.toISOString() : row.occurred_at)).getTime() - Date.now())).toBeLessThan(60_000);
      expect(row.incident_id).not.toBeNull();
    }
    const ok = (await stored(fine.id))!;
    expect(ok.reported_occurred_at).toBeNull();
    const [incident] = await queryRows<{ severity: number }>(h.database.db, sql`select severity from incidents where id = ${(await stored(critical.id))!.incident_id}`);
    expect(Number(incident!.severity)).toBe(5);
  });

  it('refuses a time the database cannot store with its index, storing none of the batch', async () => {
    for (const bad of ['0000-01-01T00:00:00Z', '2026-02-30T10:00:00Z', '2026-03-04T10:00:00+16:00']) {
      const batch = [agent.event(), agent.event(), agent.event({ occurredAt: bad })];
      const reply = await agent.sendBatch(batch);
      expect(reply).toMatchObject({ type: 'error', code: 'invalid-batch', index: 2 });
      for (const e of batch) expect(await stored(e.id)).toBeUndefined();
    }
  });

  it('stores NUL and lone surrogates in every string as storable text, never answering unavailable', async () => {
    const bad = 'cut \ud83d emoji\u0000 and \ude00 half';
    const e = agent.event({ evidence: { match: bad, before: bad, after: bad }, app: bad, windowTitle: bad, osUser: bad, ruleIds: [bad] });
    expect(await agent.sendBatch([e])).toMatchObject({ type: 'ack' });
    const row = (await stored(e.id))!;
    const clean = 'cut \ufffd emoji and \ufffd half';
    expect([row.evidence.match, row.evidence.before, row.evidence.after, row.app, row.window_title, row.os_user, row.rule_ids[0]]).toEqual(Array(7).fill(clean));
    expect(logs().some((l) => /database is unavailable/.test(l.msg))).toBe(false);
  });

  it('names the event the database refuses as invalid-batch, and a fault of its own closes 1011 at error level — never unavailable', async () => {
    // Values validation cannot know about: a trigger refuses them as PostgreSQL would (22023 is
    // a data exception; XX000 an internal error of the collector's own making).
    await h.database.db.execute(sql.raw(`
      create function haven_test_refuse() returns trigger language plpgsql as $$
      begin
        if new.os_user = 'refused.by.database' then raise exception 'refused' using errcode = '22023'; end if;
        if new.os_user = 'breaks.the.collector' then raise exception 'broken' using errcode = 'XX000'; end if;
        return new;
      end $$`));
    await h.database.db.execute(sql.raw(`create trigger haven_test_refuse before insert on events for each row execute function haven_test_refuse()`));
    try {
      const batch = [agent.event(), agent.event({ osUser: 'refused.by.database' }), agent.event()];
      expect(await agent.sendBatch(batch)).toMatchObject({ type: 'error', code: 'invalid-batch', index: 1 });
      for (const e of batch) expect(await stored(e.id)).toBeUndefined();
      // The rest is stored once resent without it, as the agent does.
      expect(await agent.sendBatch([batch[0]!, batch[2]!])).toMatchObject({ type: 'ack', duplicates: 0 });

      const other = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
      const broken = other.event({ osUser: 'breaks.the.collector' });
      await expect(other.sendBatch([broken])).rejects.toThrow(/socket closed \(1011\)/);
      expect((await other.closed).code).toBe(CloseCode.InternalError);
      expect(await stored(broken.id)).toBeUndefined();
      const errors = logs().filter((l) => l.level >= 50);
      expect(errors.some((l) => /internal error/.test(l.msg) && l.databaseError?.sqlstate === 'XX000')).toBe(true);
      expect(logs().some((l) => /database is unavailable/.test(l.msg))).toBe(false);
      expect(agent.inbox.some((m) => m.type === 'error' && m.code === 'unavailable')).toBe(false);
    } finally {
      await h.database.db.execute(sql.raw(`drop trigger haven_test_refuse on events`));
      await h.database.db.execute(sql.raw(`drop function haven_test_refuse()`));
    }
  });

  it('logs client faults at info, one line a minute per device with a count, never at error', async () => {
    const noisy = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    const before = h.logs.length;
    for (let i = 0; i < 30; i++) {
      const reply = await noisy.sendBatch([noisy.event({ severity: 9 as never })]);
      expect(reply).toMatchObject({ type: 'error', code: 'invalid-batch', index: 0 });
    }
    const lines = h.logs.slice(before).map((l) => JSON.parse(l) as LogLine).filter((l) => l.deviceId === noisy.credential.deviceId && /refused/.test(l.msg));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(30);

    // A frame over the limit: ws closes 1009; the socket error is the client's, not an alarm.
    const big = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    big.sendRaw(JSON.stringify({ type: 'events', batchId: uuidv7(), pad: 'x'.repeat(LIMITS.maxFrameBytes) }));
    expect((await big.closed).code).toBe(CloseCode.MessageTooBig);
    await noisy.close();
    expect(h.logs.slice(before).map((l) => JSON.parse(l) as LogLine).filter((l) => l.level >= 50)).toEqual([]);
  });

  it('refuses hellos from an address after too many bad credentials, unread and not fatally', async () => {
    const limit = 3;
    h.app.gateway.helloLimiter = new FailureLimiter(limit, 60_000);
    try {
      const credential = await TestAgent.enroll(h.baseUrl, h.token);
      for (let i = 0; i < limit; i++) {
        const wrong = await TestAgent.open(h.baseUrl, { ...credential, deviceSecret: `hvn_dev_wrong${i}` });
        expect(await wrong.hello()).toMatchObject({ type: 'hello-rejected', reason: 'bad-credential' });
        expect((await wrong.closed).code).toBe(CloseCode.BadCredential);
      }
      // Now even the right secret from this address waits: 1013, which agents retry later.
      const right = await TestAgent.open(h.baseUrl, credential);
      await expect(right.hello()).rejects.toThrow(/socket closed \(1013\)/);
      expect((await right.closed).code).toBe(CloseCode.TryAgainLater);
      const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/^haven_hellos_limited_total 1$/m);
    } finally {
      h.app.gateway.helloLimiter = new FailureLimiter();
    }
    // Sessions already open were never affected.
    expect(await agent.sendBatch([agent.event()])).toMatchObject({ type: 'ack' });
  });
});

describe('gateway limits', () => {
  it('lets one line a minute through per key, then says how many were held back', () => {
    const limiter = new LogLimiter(60_000);
    expect(limiter.take('a', 0)).toBe(0);
    for (let t = 1; t <= 5; t++) expect(limiter.take('a', t * 1000)).toBeNull();
    expect(limiter.take('b', 5000)).toBe(0);
    expect(limiter.take('a', 60_000)).toBe(5);
    expect(limiter.take('a', 60_001)).toBeNull();
  });

  it('blocks a key after the most failures in its window, until the window ends', () => {
    const limiter = new FailureLimiter(2, 60_000);
    limiter.fail('x', 0);
    expect(limiter.blocked('x', 1)).toBe(false);
    limiter.fail('x', 2);
    expect(limiter.blocked('x', 3)).toBe(true);
    expect(limiter.blocked('y', 3)).toBe(false);
    expect(limiter.blocked('x', 60_000)).toBe(false);
  });

  it('keeps memory bounded however many keys arrive', () => {
    const limiter = new LogLimiter(60_000, 100);
    for (let i = 0; i < 10_000; i++) limiter.take(`k${i}`, 0);
    expect((limiter as unknown as { last: Map<string, unknown> }).last.size).toBeLessThanOrEqual(100);
  });
});
