import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@haven/db/testing';
import { Agent } from '../src/agent';
import { waitFor } from './support/desktop';
import { CollectorProcess, freePort } from './support/processes';
import { describeWithPostgres } from './support/postgres';


/** Steady capture while the collector is away for a minute: every event arrives, none twice. */
describeWithPostgres('steady capture through a minute of collector downtime', () => {
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-down-'));
    db = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every event captured before, during and after the outage exactly once', async () => {
    const port = await freePort();
    let captured = 0;
    let collector = await CollectorProcess.start(port, db.url, path.join(dir, 'collector'));
    const agent = new Agent({
      collector: `http://127.0.0.1:${port}`,
      enrollToken: collector.firstToken!,
      dataDir: path.join(dir, 'agent'),
      sources: { window: false, keys: false, screen: false },
      backoff: { minMs: 200, maxMs: 5000 },
      log: (_level, message) => {
        if (message === 'Captured a flagged item.') captured++;
      },
    });
    await agent.start();
    await waitFor(() => agent.status().link.state === 'ready', 10_000, 'not connected');
    const phrases = ['i want to kill myself tonight', 'im going to stab him after school', 'he wants pics of me in my underwear', 'i cut myself again last night'];
    let n = 0;
    const timer = setInterval(() => {
      agent.observe({ source: 'keys', text: phrases[n++ % phrases.length]!, app: 'notes', title: 'Notes', at: new Date() });
    }, 250);
    try {
      await new Promise((r) => setTimeout(r, 3000));
      await collector.stop();
      await new Promise((r) => setTimeout(r, 60_000));
      expect(agent.status().outboxDepth).toBeGreaterThan(100); // held on the device meanwhile
      collector = await CollectorProcess.start(port, db.url, path.join(dir, 'collector'));
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      clearInterval(timer);
    }
    await waitFor(() => agent.status().outboxDepth === 0, 30_000, 'the outbox did not drain');
    const { default: postgres } = await import('postgres');
    const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
    try {
      const [row] = await sql<{ n: number; distinct_ids: number }[]>`select count(*)::int as n, count(distinct id)::int as distinct_ids from events`;
      expect(row!.n).toBe(captured);
      expect(row!.distinct_ids).toBe(captured);
    } finally {
      await sql.end();
      agent.stop();
      await collector.stop();
    }
  }, 150_000);
});
