import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeMessage, parseAgentMessage, type AgentMessage } from '@haven/protocol';
import { WebSocketServer } from 'ws';
import { Agent } from '../src/agent';
import { saveCredential } from '../src/link/credential';
import { waitFor } from './support/desktop';
import { helloOk, testCredential } from './support/fake-collector';

/**
 * What the collector may push: a policy (written atomically and in force at once) and a batch
 * refused as invalid (that one event is dropped, the rest delivered). A real WebSocket server
 * plays the collector's side of the protocol.
 */
describe('messages pushed by the collector', () => {
  let dir: string;
  let server: WebSocketServer;
  const received: AgentMessage[] = [];
  let rejectFirstBatch = true;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-push-'));
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    server.on('connection', (socket) => {
      socket.on('message', (data: Buffer) => {
        const parsed = parseAgentMessage(data);
        if (!parsed.ok) throw new Error(parsed.failure.message);
        const m = parsed.message;
        received.push(m);
        if (m.type === 'hello') {
          socket.send(encodeMessage(helloOk(m.deviceId)));
          socket.send(encodeMessage({ type: 'policy', version: 2, policy: { threshold: 5, sources: { title: true, keys: true, screen: false }, quietHours: [], ageBand: 'primary' } }));
        } else if (m.type === 'events') {
          if (rejectFirstBatch) {
            rejectFirstBatch = false;
            socket.send(encodeMessage({ type: 'error', code: 'invalid-batch', message: 'events.0.severity: invalid', batchId: m.batchId, index: 0 }));
          } else {
            socket.send(encodeMessage({ type: 'ack', batchId: m.batchId, ids: m.events.map((e) => e.id), duplicates: 0 }));
          }
        }
      });
    });
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a pushed policy to the data dir and applies it; drops only the event refused as invalid', async () => {
    const { port } = server.address() as { port: number };
    saveCredential(dir, testCredential(`http://127.0.0.1:${port}`));
    const lines: string[] = [];
    const agent = new Agent({ collector: `http://127.0.0.1:${port}`, dataDir: dir, sources: { window: false, keys: false, screen: false }, log: (_l, m) => lines.push(m) });
    await agent.start();
    await waitFor(() => agent.status().policy.threshold === 5, 10_000, 'the pushed policy was not applied');
    const onDisk = JSON.parse(readFileSync(path.join(dir, 'policy.json'), 'utf8')) as { threshold: number; ageBand: string };
    expect(onDisk).toMatchObject({ threshold: 5, ageBand: 'primary' });

    agent.observe({ source: 'keys', text: 'i want to kill myself tonight', app: null, title: null, at: new Date() }); // 5: kept
    agent.observe({ source: 'keys', text: 'im going to kill myself tonight goodbye', app: null, title: null, at: new Date() }); // 5: kept
    agent.observe({ source: 'screen', text: 'i want to kill myself tonight', app: null, title: null, at: new Date() }); // screen is off now
    await waitFor(() => agent.status().outboxDepth === 0, 10_000, 'the outbox did not drain');
    const batches = received.filter((m): m is Extract<AgentMessage, { type: 'events' }> => m.type === 'events');
    const sent = new Set(batches.flatMap((b) => b.events.map((e) => e.id)));
    expect(sent.size).toBe(2);
    expect(batches.flatMap((b) => b.events).every((e) => e.source === 'keys')).toBe(true);
    expect(lines.some((l) => /refused an event as invalid/.test(l))).toBe(true);
    // The refused event is counted as dropped, on the device and in what the school is told.
    expect(agent.status().droppedEvents).toBe(1);
    agent.stop();
    const again = new Agent({ collector: `http://127.0.0.1:${port}`, dataDir: dir, sources: { window: false, keys: false, screen: false }, log: () => undefined });
    await again.start();
    await waitFor(
      () => received.some((m) => m.type === 'heartbeat' && m.droppedEvents === 1),
      10_000,
      'no heartbeat reported the dropped event',
    );
    expect(again.status().droppedEvents).toBe(1); // the count survives a restart
    again.stop();
  });
});
