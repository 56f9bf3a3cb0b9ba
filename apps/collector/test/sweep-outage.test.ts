import { Writable } from 'node:stream';
import { incidents, schools } from '@haven/db';
import { availableDrivers, openTestDatabase } from '@haven/db/testing';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { buildApp } from '../src/app';
import { queryRows } from '../src/db-rows';
import { createLogger } from '../src/logger';
import { TestAgent } from './support/agent-client';
import { waitFor } from './support/faults';
import { sendGrouped, startCollector, type Harness } from './support/harness';

const DAY = 24 * 3600_000;

/**
 * What the minute sweep does for work a database outage cut short: an urgent alert that was
 * never sent, and the daily retention purge.
 */
describe.each(availableDrivers())('an urgent alert cut short by an outage (%s)', (driver) => {
  let h: Harness;
  let agent: TestAgent;
  beforeAll(async () => {
    h = await startCollector(driver);
    agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
  });
  afterAll(async () => {
    await agent.close();
    await h.close();
  });

  const alertRecorded = async (id: string) =>
    (await queryRows<{ n: number }>(h.database.db, sql`select count(*)::int as n from incident_history where incident_id = ${id} and field = 'alert'`))[0]!.n > 0;
  const alertedAt = async (id: string) =>
    (await queryRows<{ alerted_at: unknown }>(h.database.db, sql`select alerted_at from incidents where id = ${id}`))[0]!.alerted_at;

  it('is sent by the sweep when grouping committed but the alert was never claimed', async () => {
    const id = await sendGrouped(h, agent, { severity: 5, category: 'suicide', osUser: 'pupil.unclaimed' });
    // The state the database leaves when it goes away between grouping's commit and the alert.
    await h.database.db.execute(sql`update incidents set alerted_at = null where id = ${id}`);
    await h.database.db.execute(sql`delete from incident_history where incident_id = ${id} and field = 'alert'`);
    await h.app.alerter.sweep();
    expect(await alertedAt(id)).not.toBeNull();
    expect(await alertRecorded(id)).toBe(true);
  });

  it('is sent by the sweep when it was claimed but its delivery never finished, and not while a delivery may still run', async () => {
    const stale = await sendGrouped(h, agent, { severity: 5, category: 'suicide', osUser: 'pupil.claimed' });
    const fresh = await sendGrouped(h, agent, { severity: 4, category: 'self_harm', osUser: 'pupil.inflight' });
    await h.database.db.execute(sql`update incidents set alerted_at = now() - interval '10 minutes' where id = ${stale}`);
    await h.database.db.execute(sql`update incidents set alerted_at = now() - interval '1 minute' where id = ${fresh}`);
    await h.database.db.execute(sql`delete from incident_history where incident_id in (${stale}, ${fresh}) and field = 'alert'`);
    await h.app.alerter.sweep();
    expect(await alertRecorded(stale)).toBe(true);
    expect(await alertRecorded(fresh)).toBe(false);
  });
});

(availableDrivers().includes('postgres') ? describe : describe.skip)('the minute sweep during an outage (postgres)', () => {
  it('warns rather than errs, and runs the retention purge it missed once the database is back', async () => {
    const { database, url, dispose } = await openTestDatabase('postgres');
    const dbName = new URL(url).pathname.slice(1);
    const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => undefined });
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    let app: Awaited<ReturnType<typeof buildApp>> | undefined;
    try {
      const [school] = await database.db.insert(schools).values({ name: 'Outage Academy' }).returning();
      const longAgo = new Date(Date.now() - 400 * DAY);
      const [expired] = await database.db
        .insert(incidents)
        .values({
          schoolId: school!.id,
          kind: 'person',
          subjectKey: 'pupil.one',
          subjectKind: 'pupil',
          category: 'drugs',
          severity: 2,
          status: 'closed',
          routedTo: 'dsl',
          firstSeenAt: longAgo,
          lastSeenAt: longAgo,
          outcome: 'false_positive',
          closedAt: longAgo,
        })
        .returning();
      // The database goes away before the first sweep, as when PostgreSQL restarts.
      await admin.unsafe(`alter database "${dbName}" allow_connections false`);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()`;
      app = await buildApp({ database, logger: createLogger('debug', sink), alertSweepMs: 100 });
      const parsed = () => logs.map((l) => JSON.parse(l) as { level: number; msg: string });
      // The sweep has met the outage once it has said so (at warn or above).
      await waitFor('the sweep to meet the outage', () => parsed().some((l) => l.level >= 40), 30_000);

      await admin.unsafe(`alter database "${dbName}" allow_connections true`);
      await waitFor(
        'the missed retention purge to run',
        async () => (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from incidents where id = ${expired!.id}`).catch(() => [{ n: 1 }]))[0]!.n === 0,
        30_000,
        200,
      );
      // An outage is no bug and loses nothing: a warning, not an error.
      expect(parsed().filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
      expect(parsed().some((l) => l.level === 40 && /The retention purge waits for the database/.test(l.msg))).toBe(true);
    } finally {
      await admin.unsafe(`alter database "${dbName}" allow_connections true`).catch(() => undefined);
      await admin.end();
      await app?.close();
      await dispose();
    }
  });
});
