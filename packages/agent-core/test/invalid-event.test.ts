import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeMessage, parseAgentMessage, uuidv7, type AgentEvent } from '@haven/protocol';
import { WebSocketServer } from 'ws';
import { Link } from '../src/link/link';
import { Outbox } from '../src/outbox/outbox';
import { helloOk, testCredential } from './support/fake-collector';

const deviceId = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const event = (occurredAt: string): AgentEvent => ({
  id: uuidv7(),
  occurredAt,
  source: 'keys',
  category: 'suicide',
  severity: 5,
  ruleIds: ['suicide.en.intent.1'],
  evidence: { match: 'kill myself', before: '', after: '' },
  app: null,
  windowTitle: null,
  osUser: 'pupil',
  deviceId,
});

/**
 * An outbox that holds events an older agent made with times the collector refuses (year
 * 0000, a day that does not exist). The collector's side is played with its own validation
 * (parseAgentMessage) and answers as the gateway does: `invalid-batch` with the index. The
 * agent must drop exactly those events and deliver every other one.
 */
describe('an event the collector refuses as invalid', () => {
  let dir: string;
  let server: WebSocketServer;
  const stored = new Set<string>();
  let refusals = 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-invalid-'));
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    server.on('connection', (socket) => {
      socket.on('message', (data: Buffer) => {
        const parsed = parseAgentMessage(data);
        if (!parsed.ok) {
          const f = parsed.failure;
          if (f.kind === 'invalid' && f.type === 'events') {
            refusals++;
            socket.send(encodeMessage({ type: 'error', code: 'invalid-batch', message: f.message, batchId: f.batchId, index: f.index }));
          }
          return;
        }
        const m = parsed.message;
        if (m.type === 'hello') {
          socket.send(encodeMessage(helloOk(m.deviceId)));
        } else if (m.type === 'events') {
          for (const e of m.events) stored.add(e.id);
          socket.send(encodeMessage({ type: 'ack', batchId: m.batchId, ids: m.events.map((e) => e.id), duplicates: 0 }));
        }
      });
    });
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('drops only the refused events and delivers the rest, in one pass through the outbox', async () => {
    const now = new Date().toISOString();
    const good = [event(now), event(now), event(now), event(now)];
    const bad = [event('0000-01-01T00:00:00.000Z'), event('2026-02-30T10:00:00.000Z')];
    const outbox = new Outbox({ dir });
    outbox.append([good[0]!, bad[0]!, good[1]!, good[2]!, bad[1]!, good[3]!]);
    const { port } = server.address() as { port: number };
    const lines: string[] = [];
    const link = new Link({
      credential: testCredential(`http://127.0.0.1:${port}`, deviceId),
      outbox,
      agentVersion: '0.1.0-test',
      health: () => ({}),
      log: (_level, message) => lines.push(message),
      maxInFlight: 1,
    });
    link.start();
    try {
      await until(() => outbox.depth === 0, 'the outbox did not drain');
      expect([...stored].sort()).toEqual(good.map((e) => e.id).sort());
      for (const e of bad) expect(stored.has(e.id)).toBe(false);
      expect(refusals).toBe(2);
      expect(lines.filter((l) => /refused an event as invalid/.test(l))).toHaveLength(2);
      // The log names the rule, never the value the agent sent.
      expect(lines.join('\n')).not.toContain('0000-01-01');
    } finally {
      link.stop();
      outbox.close();
    }
  });
});
