import { and, count, inArray, isNull } from 'drizzle-orm';
import { events } from '@haven/db';
import { availableDrivers } from '@haven/db/testing';
import postgres from 'postgres';
import type { Ack } from '@haven/protocol';
import { TestAgent } from './support/agent-client';
import { startCollector, type Harness } from './support/harness';

/**
 * The database really goes away: the collector's database stops accepting connections and
 * its existing connections are terminated by the server, as when PostgreSQL restarts.
 */
(availableDrivers().includes('postgres') ? describe : describe.skip)('database unavailable (postgres)', () => {
  let h: Harness;
  let admin: postgres.Sql;
  let dbName: string;

  beforeAll(async () => {
    h = await startCollector('postgres');
    dbName = new URL(h.databaseUrl).pathname.slice(1);
    admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => undefined });
  });
  afterAll(async () => {
    await admin.unsafe(`alter database "${dbName}" allow_connections true`).catch(() => undefined);
    await admin.end();
    await h.close();
  });

  async function takeDown(): Promise<void> {
    await admin.unsafe(`alter database "${dbName}" allow_connections false`);
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()`;
  }
  async function bringUp(): Promise<void> {
    await admin.unsafe(`alter database "${dbName}" allow_connections true`);
  }

  it('acknowledges nothing it could not commit, then everything once the database is back', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    const first = Array.from({ length: 50 }, () => agent.event());
    expect((await agent.sendBatch(first)).type).toBe('ack');
    // Let grouping finish first: postgres-js 3.4.9 can throw an uncatchable TypeError when a
    // backend is terminated under a write it has just queued (porsager/postgres#1154, #1208);
    // under systemd the collector restarts (Restart=on-failure) and groups what is left.
    await h.app.triage.idle();

    await takeDown();
    const pending = [0, 1, 2].map(() => Array.from({ length: 100 }, () => agent.event()));
    const replies = await Promise.all(pending.map((b) => agent.sendBatch(b)));
    for (const r of replies) expect(r).toMatchObject({ type: 'error', code: 'unavailable' });
    expect(agent.inbox.filter((m) => m.type === 'ack')).toHaveLength(0);

    const health = await fetch(`${h.baseUrl}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ database: 'down' });
    // The agent's connection survives the outage.
    expect(agent.socket.readyState).toBe(agent.socket.OPEN);

    await bringUp();
    const acked: string[] = first.map((e) => e.id);
    for (const batch of pending) {
      const reply = await agent.sendBatch(batch);
      expect(reply).toMatchObject({ type: 'ack', duplicates: 0 });
      acked.push(...(reply as Ack).ids);
    }
    const rows = await h.database.db.select({ n: count() }).from(events).where(inArray(events.id, acked));
    expect(Number(rows[0]!.n)).toBe(350);
    // And every one of them is grouped into an incident once the database is back.
    await h.app.triage.idle();
    const ungrouped = await h.database.db.select({ n: count() }).from(events).where(and(inArray(events.id, acked), isNull(events.incidentId)));
    expect(Number(ungrouped[0]!.n)).toBe(0);
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
    await agent.close();
  });

  it('refuses enrollment with 503 while the database is down', async () => {
    await takeDown();
    try {
      const res = await fetch(`${h.baseUrl}/api/v1/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: h.token, hostname: 'x', os: { platform: 'linux', release: '' }, agentVersion: '0.1.0' }),
      });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'HAVEN_ERR_UNAVAILABLE' });
    } finally {
      await bringUp();
    }
  });

  it('logged the outage without the data it could not store', () => {
    const all = h.logs.join('');
    expect(all).toContain('the database is unavailable');
    expect(all).not.toContain('EVIDENCE-MARKER');
    expect(all).not.toContain('Failed query');
  });
});
