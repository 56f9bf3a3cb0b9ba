import { count, inArray } from 'drizzle-orm';
import { events } from '@haven/db';
import { availableDrivers } from '@haven/db/testing';
import { CloseCode, encodeMessage, uuidv7, type CollectorMessage } from '@haven/protocol';
import { TestAgent } from './support/agent-client';
import { startCollector } from './support/harness';

describe.each(availableDrivers())('graceful shutdown (%s)', (driver) => {
  it('finishes the batches it took, acks them, then closes every agent with 1001', async () => {
    const h = await startCollector(driver);
    const agents = await Promise.all(
      [0, 1, 2].map(async () => TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token))),
    );
    const sent: string[] = [];
    const acks: Array<Promise<CollectorMessage>> = [];
    for (const agent of agents) {
      for (let b = 0; b < 4; b++) {
        const batch = Array.from({ length: 400 }, () => agent.event());
        sent.push(...batch.map((e) => e.id));
        const batchId = uuidv7();
        acks.push(agent.next((m) => m.type === 'ack' && m.batchId === batchId));
        agent.sendRaw(encodeMessage({ type: 'events', batchId, events: batch }));
      }
    }
    // Give the collector the frames, then shut it down while they are being stored.
    await new Promise((r) => setTimeout(r, 20));
    const closing = h.app.close();
    const closes = await Promise.all(agents.map((a) => a.closed));
    await closing;
    for (const c of closes) expect(c.code).toBe(CloseCode.GoingAway);

    // Every ack that reached an agent names events that are in the database.
    const acked = new Set<string>();
    for (const agent of agents) for (const m of agent.inbox) if (m.type === 'ack') m.ids.forEach((id) => acked.add(id));
    const settled = await Promise.allSettled(acks.map((p) => Promise.race([p, new Promise<never>((_, rej) => setTimeout(rej, 50))])));
    for (const s of settled) if (s.status === 'fulfilled' && s.value.type === 'ack') s.value.ids.forEach((id) => acked.add(id));
    expect(acked.size).toBeGreaterThan(0);
    const [row] = await h.database.db.select({ n: count() }).from(events).where(inArray(events.id, [...acked]));
    expect(Number(row!.n)).toBe(acked.size);
    await h.close();
  });
});
