import { count, eq, inArray } from 'drizzle-orm';
import { devices, events } from '@haven/db';
import { availableDrivers } from '@haven/db/testing';
import { CloseCode, LIMITS, PROTOCOL_VERSION, uuidv7, type AgentEvent } from '@haven/protocol';
import { createEnrollmentToken, revokeDevice } from '../src/enrollment/repository';
import { EVIDENCE_MARKER, TestAgent, TITLE_MARKER } from './support/agent-client';
import { startCollector, type Harness } from './support/harness';

async function eventCount(h: Harness): Promise<number> {
  const [row] = await h.database.db.select({ n: count() }).from(events);
  return Number(row!.n);
}

describe.each(availableDrivers())('agent gateway (%s)', (driver) => {
  let h: Harness;
  let witness: TestAgent;

  beforeAll(async () => {
    h = await startCollector(driver);
    witness = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
  });
  afterAll(async () => {
    await witness?.close();
    await h?.close();
  });

  /** The second agent keeps working after each bad input of another. */
  async function witnessStillWorks(): Promise<void> {
    const reply = await witness.sendBatch([witness.event()]);
    expect(reply.type).toBe('ack');
  }

  it('stores 10,000 events exactly once, and acks a resent batch again without storing it', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    const before = await eventCount(h);
    const batches: AgentEvent[][] = [];
    for (let b = 0; b < 40; b++) batches.push(Array.from({ length: 250 }, () => agent.event()));
    // Pipelined as a real agent does: several batches in flight, acks in order.
    const replies = await Promise.all(batches.map((batch) => agent.sendBatch(batch)));
    const acked = new Set<string>();
    for (const r of replies) {
      expect(r.type).toBe('ack');
      if (r.type === 'ack') {
        expect(r.duplicates).toBe(0);
        r.ids.forEach((id) => acked.add(id));
      }
    }
    expect(acked.size).toBe(10_000);
    expect(await eventCount(h)).toBe(before + 10_000);
    const [mine] = await h.database.db
      .select({ n: count() })
      .from(events)
      .where(eq(events.deviceId, agent.credential.deviceId));
    expect(Number(mine!.n)).toBe(10_000);

    const again = await agent.sendBatch(batches[7]!);
    expect(again).toMatchObject({ type: 'ack', duplicates: 250 });
    if (again.type === 'ack') expect(new Set(again.ids)).toEqual(new Set(batches[7]!.map((e) => e.id)));
    expect(await eventCount(h)).toBe(before + 10_000);
    await agent.close();
  });

  it('keeps what was sent: fields round-trip into the row', async () => {
    const e = witness.event({ source: 'title', category: 'suicide', severity: 5, app: null });
    await witness.sendBatch([e]);
    const [row] = await h.database.db.select().from(events).where(eq(events.id, e.id));
    expect(row).toMatchObject({
      deviceId: witness.credential.deviceId,
      schoolId: h.schoolId,
      source: 'title',
      category: 'suicide',
      severity: 5,
      ruleIds: e.ruleIds,
      evidence: e.evidence,
      app: null,
      windowTitle: e.windowTitle,
      osUser: e.osUser,
    });
    expect(row!.occurredAt.toISOString()).toBe(e.occurredAt);
    expect(row!.url).toBeNull(); // an agent on Linux sends no address
  });

  it('keeps a browser address as sent, and refuses a batch whose address still has its query string', async () => {
    const e = witness.event({ source: 'title', url: 'https://www.example.com/forum/thread/42' });
    expect(await witness.sendBatch([e])).toMatchObject({ type: 'ack' });
    const [row] = await h.database.db.select().from(events).where(eq(events.id, e.id));
    expect(row!.url).toBe('https://www.example.com/forum/thread/42');
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    try {
      const bad = agent.event({ url: 'https://www.google.com/search?q=private+words' });
      const reply = await agent.sendBatch([agent.event(), bad]);
      expect(reply).toMatchObject({ type: 'error', code: 'invalid-batch', index: 1 });
      expect(JSON.stringify(reply)).not.toContain('private');
      const stored = await h.database.db.select().from(events).where(eq(events.id, bad.id));
      expect(stored).toHaveLength(0);
    } finally {
      await agent.close();
    }
  });

  it('closes with 4000 on malformed JSON', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    agent.sendRaw('{"type": "events", ');
    expect((await agent.closed).code).toBe(CloseCode.MalformedFrame);
    await witnessStillWorks();
  });

  it('closes with 4001 on an unknown message type', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    agent.sendRaw(JSON.stringify({ type: 'screenshot', data: 'x' }));
    expect((await agent.closed).code).toBe(CloseCode.UnknownType);
    await witnessStillWorks();
  });

  it('closes with 1009 on a frame over the limit', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    agent.sendRaw(JSON.stringify({ type: 'events', batchId: uuidv7(), pad: 'x'.repeat(LIMITS.maxFrameBytes) }));
    expect((await agent.closed).code).toBe(CloseCode.MessageTooBig);
    await witnessStillWorks();
  });

  it('closes with 4003 on events before hello, storing nothing', async () => {
    const credential = await TestAgent.enroll(h.baseUrl, h.token);
    const agent = await TestAgent.open(h.baseUrl, credential);
    const before = await eventCount(h);
    agent.sendRaw(JSON.stringify({ type: 'events', batchId: uuidv7(), events: [agent.event()] }));
    expect((await agent.closed).code).toBe(CloseCode.HelloRequired);
    expect(await eventCount(h)).toBe(before);
    await witnessStillWorks();
  });

  it('rejects another protocol version with a reason and 4010', async () => {
    const agent = await TestAgent.open(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    const answer = await agent.hello({ protocol: PROTOCOL_VERSION + 1 });
    expect(answer).toMatchObject({ type: 'hello-rejected', reason: 'unsupported-protocol', supportedProtocols: [PROTOCOL_VERSION] });
    expect((await agent.closed).code).toBe(CloseCode.UnsupportedProtocol);
    await witnessStillWorks();
  });

  it('rejects a wrong secret and an unknown device with 4011', async () => {
    const credential = await TestAgent.enroll(h.baseUrl, h.token);
    const wrong = await TestAgent.open(h.baseUrl, { ...credential, deviceSecret: credential.deviceSecret.slice(0, -2) + 'xx' });
    expect(await wrong.hello()).toMatchObject({ type: 'hello-rejected', reason: 'bad-credential' });
    expect((await wrong.closed).code).toBe(CloseCode.BadCredential);
    const unknown = await TestAgent.open(h.baseUrl, { ...credential, deviceId: '00000000-0000-4000-8000-000000000000' });
    expect(await unknown.hello()).toMatchObject({ type: 'hello-rejected', reason: 'bad-credential' });
    expect((await unknown.closed).code).toBe(CloseCode.BadCredential);
    await witnessStillWorks();
  });

  it('rejects a revoked device with 4012', async () => {
    const credential = await TestAgent.enroll(h.baseUrl, h.token);
    expect(await revokeDevice(h.database.db, credential.deviceId)).toBe(true);
    const agent = await TestAgent.open(h.baseUrl, credential);
    expect(await agent.hello()).toMatchObject({ type: 'hello-rejected', reason: 'device-revoked' });
    expect((await agent.closed).code).toBe(CloseCode.DeviceRevoked);
    await witnessStillWorks();
  });

  it('refuses enrollment with an expired token (401) and enrolls nothing', async () => {
    const { token } = await createEnrollmentToken(h.database.db, { schoolId: h.schoolId, expiresAt: new Date(Date.now() - 60_000) });
    const before = (await h.database.db.select({ n: count() }).from(devices))[0]!.n;
    const res = await fetch(`${h.baseUrl}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, hostname: 'late', os: { platform: 'linux', release: '' }, agentVersion: '0.1.0' }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'HAVEN_ERR_ENROLL_TOKEN_EXPIRED' });
    expect((await h.database.db.select({ n: count() }).from(devices))[0]!.n).toBe(before);
    await witnessStillWorks();
  });

  it('refuses a whole batch with one invalid event, naming its index, and stores none of it', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    const before = await eventCount(h);
    const batch = [agent.event(), agent.event(), agent.event(), agent.event({ severity: 7 as never }), agent.event()];
    const batchId = uuidv7();
    const reply = await agent.sendBatch(batch, batchId);
    expect(reply).toMatchObject({ type: 'error', code: 'invalid-batch', index: 3, batchId });
    expect(await eventCount(h)).toBe(before);
    const stored = await h.database.db.select({ id: events.id }).from(events).where(inArray(events.id, batch.map((e) => e.id)));
    expect(stored).toHaveLength(0);
    // The connection stays usable: the corrected batch goes through.
    const fixed = await agent.sendBatch(batch.map((e, i) => (i === 3 ? { ...e, severity: 4 } : e)));
    expect(fixed).toMatchObject({ type: 'ack', duplicates: 0 });
    expect(await eventCount(h)).toBe(before + 5);
    await agent.close();
    await witnessStillWorks();
  });

  it('refuses events that claim another device', async () => {
    const reply = await witness.sendBatch([witness.event(), { ...witness.event(), deviceId: '00000000-0000-4000-8000-000000000000' }]);
    expect(reply).toMatchObject({ type: 'error', code: 'device-mismatch', index: 1 });
  });

  it('closes with 4005 on a second hello and 4004 when hello never comes', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    agent.sendRaw(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION }));
    expect((await agent.closed).code).toBe(CloseCode.DuplicateHello);
    const silent = await TestAgent.open(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    expect((await silent.closed).code).toBe(CloseCode.HelloTimeout);
    await witnessStillWorks();
  });

  it('replaces an older connection of the same device with 4013', async () => {
    const credential = await TestAgent.enroll(h.baseUrl, h.token);
    const first = await TestAgent.connect(h.baseUrl, credential);
    const second = await TestAgent.connect(h.baseUrl, credential);
    expect((await first.closed).code).toBe(CloseCode.Replaced);
    expect((await second.sendBatch([second.event()])).type).toBe('ack');
    await second.close();
  });

  it('records heartbeats: last seen, per-source health and outbox depth', async () => {
    const sentAt = new Date().toISOString();
    witness.sendRaw(
      JSON.stringify({
        type: 'heartbeat',
        agentVersion: '0.1.1-test',
        sources: { title: { state: 'ok' }, keys: { state: 'degraded', detail: 'hook restarted' }, screen: { state: 'disabled' } },
        outboxDepth: 17,
        droppedEvents: 2,
        sentAt,
      }),
    );
    await waitFor(async () => {
      const [row] = await h.database.db.select().from(devices).where(eq(devices.id, witness.credential.deviceId));
      return row?.outboxDepth === 17 ? row : null;
    }).then((row) => {
      expect(row.agentVersion).toBe('0.1.1-test');
      expect(row.droppedEvents).toBe(2);
      expect(row.health).toEqual({ title: { state: 'ok' }, keys: { state: 'degraded', detail: 'hook restarted' }, screen: { state: 'disabled' } });
      expect(row.lastSeenAt!.getTime()).toBeGreaterThan(Date.now() - 10_000);
    });
  });

  it('reports database health', async () => {
    const res = await fetch(`${h.baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'up', driver });
  });

  it('never logs evidence, titles or secrets', async () => {
    const all = h.logs.join('');
    expect(h.logs.length).toBeGreaterThan(10);
    expect(all).not.toContain(EVIDENCE_MARKER);
    expect(all).not.toContain(TITLE_MARKER);
    expect(all).not.toContain('hvn_dev_');
    expect(all).not.toContain('hvn_enr_');
    expect(all).not.toContain(witness.credential.deviceSecret);
  });
});

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(availableDrivers())('agent gateway edge cases (%s)', (driver) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCollector(driver);
  });
  afterAll(async () => h?.close());

  it('closes with 4000 on a binary frame', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    agent.socket.send(Buffer.from(JSON.stringify({ type: 'heartbeat' })), { binary: true });
    expect((await agent.closed).code).toBe(CloseCode.MalformedFrame);
  });

  it('closes cleanly even when the reason would exceed 123 bytes', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    // An invalid heartbeat whose error message is long and non-ASCII.
    agent.sendRaw(JSON.stringify({ type: 'heartbeat', agentVersion: 'ü'.repeat(200), sources: {}, outboxDepth: 0, sentAt: new Date().toISOString() }));
    const closed = await agent.closed;
    expect(closed.code).toBe(CloseCode.InvalidMessage);
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
    expect(h.app.gateway.size).toBeLessThanOrEqual(1);
  });

  it('answers a second hello of another version with 4005, not 4010', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    agent.sendRaw(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION + 1 }));
    expect((await agent.closed).code).toBe(CloseCode.DuplicateHello);
  });

  it('refuses a connected device with 4012 once it is revoked', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    expect((await agent.sendBatch([agent.event()])).type).toBe('ack');
    await revokeDevice(h.database.db, agent.credential.deviceId);
    await new Promise((r) => setTimeout(r, 150));
    const before = await eventCount(h);
    void agent.sendBatch([agent.event()]).catch(() => undefined);
    expect((await agent.closed).code).toBe(CloseCode.DeviceRevoked);
    expect(agent.inbox).toContainEqual(expect.objectContaining({ type: 'hello-rejected', reason: 'device-revoked' }));
    expect(agent.inbox.filter((m) => m.type === 'ack')).toHaveLength(0);
    expect(await eventCount(h)).toBe(before);
  });

  it('accepts an upper-case device id in hello and events alike', async () => {
    const credential = await TestAgent.enroll(h.baseUrl, h.token);
    const agent = await TestAgent.open(h.baseUrl, credential);
    expect((await agent.hello({ deviceId: credential.deviceId.toUpperCase() })).type).toBe('hello-ok');
    const reply = await agent.sendBatch([agent.event({ deviceId: credential.deviceId.toUpperCase() })]);
    expect(reply.type).toBe('ack');
    await agent.close();
  });

  it('records session parts and a stopped one as a tamper signal, whose time never moves back or past now', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    const beat = (version: string, sessions: unknown[]) =>
      agent.sendRaw(JSON.stringify({ type: 'heartbeat', agentVersion: version, sources: {}, outboxDepth: 0, sessions, sentAt: new Date().toISOString() }));
    const row = (version: string) =>
      waitFor(async () => {
        const [d] = await h.database.db.select().from(devices).where(eq(devices.id, agent.credential.deviceId));
        return d?.agentVersion === version ? d : null;
      });
    beat('1.0.1', [{ osUser: 'pupil1', state: 'running', since: '2026-12-07T09:00:00Z' }]);
    const first = await row('1.0.1');
    expect(first.sessions).toEqual([{ osUser: 'pupil1', state: 'running', since: '2026-12-07T09:00:00Z' }]);
    expect(first.lastTamperAt).toBeNull();

    beat('1.0.2', [
      { osUser: 'pupil1', state: 'stopped', since: '2026-12-07T09:30:00Z', detail: 'stopped while the user was logged in' },
      { osUser: 'pupil2', state: 'ended', since: '2026-12-07T09:10:00Z' },
    ]);
    expect((await row('1.0.2')).lastTamperAt!.toISOString()).toBe('2026-12-07T09:30:00.000Z');
    // An older stop does not move it back; a device clock in the future is held to now.
    beat('1.0.3', [{ osUser: 'pupil2', state: 'stopped', since: '2026-12-07T08:00:00Z' }]);
    expect((await row('1.0.3')).lastTamperAt!.toISOString()).toBe('2026-12-07T09:30:00.000Z');
    beat('1.0.4', [{ osUser: 'pupil2', state: 'stopped', since: '2099-01-01T00:00:00Z' }]);
    const later = await row('1.0.4');
    expect(later.lastTamperAt!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(later.lastTamperAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    // A heartbeat without sessions (an older agent) leaves the last report alone.
    beat('1.0.5', undefined as unknown as unknown[]);
    expect((await row('1.0.5')).sessions).toEqual([{ osUser: 'pupil2', state: 'stopped', since: '2099-01-01T00:00:00Z' }]);
    await agent.close();
  });

  it('keeps heartbeat health of sources this version does not know', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    agent.sendRaw(
      JSON.stringify({ type: 'heartbeat', agentVersion: '0.2.0', sources: { clipboard: { state: 'ok' } }, outboxDepth: 0, sentAt: new Date().toISOString() }),
    );
    const row = await waitFor(async () => {
      const [d] = await h.database.db.select().from(devices).where(eq(devices.id, agent.credential.deviceId));
      return d?.agentVersion === '0.2.0' ? d : null;
    });
    expect(row.health).toEqual({ clipboard: { state: 'ok' } });
    await agent.close();
  });

  it('counts what it stored and refused on /metrics, from loopback only', async () => {
    const agent = await TestAgent.connect(h.baseUrl, await TestAgent.enroll(h.baseUrl, h.token));
    const batch = [agent.event(), agent.event()];
    await agent.sendBatch(batch);
    await agent.sendBatch(batch);
    const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(Number(/^haven_events_stored_total (\d+)/m.exec(text)![1])).toBeGreaterThanOrEqual(2);
    expect(Number(/^haven_events_duplicate_total (\d+)/m.exec(text)![1])).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^haven_agents_connected \d+/m);
    const remote = await h.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9' });
    expect(remote.statusCode).toBe(404);
    const proxied = await fetch(`${h.baseUrl}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.status).toBe(404);
    await agent.close();
  });
});
