import { hostname } from 'node:os';
import {
  encodeMessage,
  parseCollectorMessage,
  PROTOCOL_VERSION,
  uuidv7,
  type AgentEvent,
  type CollectorMessage,
  type ExplanationEntry,
  type EnrollResponse,
} from '@haven/protocol';
import WebSocket from 'ws';

export type Closed = { code: number; reason: string };

/** A minimal real agent link over `ws`, for driving the collector in tests and benchmarks. */
export class TestAgent {
  readonly inbox: CollectorMessage[] = [];
  readonly closed: Promise<Closed>;
  private waiters: Array<{ match: (m: CollectorMessage) => boolean; resolve: (m: CollectorMessage) => void; fail: (e: Error) => void }> = [];
  private constructor(
    readonly socket: WebSocket,
    readonly credential: EnrollResponse,
  ) {
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        // Nothing more will arrive: fail whoever still waits.
        for (const w of this.waiters.splice(0)) w.fail(new Error(`socket closed (${code}) before the awaited message`));
        resolve({ code, reason: reason.toString() });
      }),
    );
    socket.on('error', () => undefined);
    socket.on('message', (data) => {
      const parsed = parseCollectorMessage(data as Buffer);
      if (!parsed.ok) throw new Error(`collector sent an invalid frame: ${parsed.failure.message}`);
      const waiter = this.waiters.find((w) => w.match(parsed.message));
      if (waiter) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(parsed.message);
      } else {
        this.inbox.push(parsed.message);
      }
    });
  }

  static async enroll(baseUrl: string, token: string): Promise<EnrollResponse> {
    const res = await fetch(`${baseUrl}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, hostname: hostname(), os: { platform: 'linux', release: '6.1', arch: 'x64' }, agentVersion: '0.1.0-test' }),
    });
    if (res.status !== 201) throw new Error(`enroll failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as EnrollResponse;
  }

  /** Opens the socket (no hello yet). */
  static async open(baseUrl: string, credential: EnrollResponse): Promise<TestAgent> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/agent`, { maxPayload: 1024 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new TestAgent(socket, credential);
  }

  /** Opens the socket and says hello; resolves with the collector's answer. */
  static async connect(baseUrl: string, credential: EnrollResponse): Promise<TestAgent> {
    const agent = await TestAgent.open(baseUrl, credential);
    const answer = await agent.hello();
    if (answer.type !== 'hello-ok') throw new Error(`hello refused: ${JSON.stringify(answer)}`);
    return agent;
  }

  hello(over: Record<string, unknown> = {}): Promise<CollectorMessage> {
    const reply = this.next((m) => m.type === 'hello-ok' || m.type === 'hello-rejected');
    this.sendRaw(
      JSON.stringify({
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        deviceId: this.credential.deviceId,
        credential: this.credential.deviceSecret,
        agentVersion: '0.1.0-test',
        os: { platform: 'linux', release: '6.1', arch: 'x64' },
        ...over,
      }),
    );
    return reply;
  }

  sendRaw(data: string | Buffer): void {
    this.socket.send(data);
  }

  /** Resolves with the first message (already received or yet to come) that matches. */
  next(match: (m: CollectorMessage) => boolean, timeoutMs = 15_000): Promise<CollectorMessage> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a collector message')), timeoutMs);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        fail: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** Sends a batch and resolves with its ack or error. */
  sendBatch(events: AgentEvent[], batchId = uuidv7()): Promise<CollectorMessage> {
    const reply = this.next((m) => (m.type === 'ack' || m.type === 'error') && m.batchId === batchId);
    this.sendRaw(encodeMessage({ type: 'events', batchId, events }));
    return reply;
  }

  event(over: Partial<AgentEvent> = {}): AgentEvent {
    return makeEvent(this.credential.deviceId, over);
  }

  async close(): Promise<Closed> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(1000);
    return this.closed;
  }
}

/** Marker strings a test can look for in logs: they must never appear there. */
export const EVIDENCE_MARKER = 'EVIDENCE-MARKER-7f3a';
export const TITLE_MARKER = 'TITLE-MARKER-9b2c';

/**
 * The scorer's explanation as an agent sends it (docs/protocol.md §5.4), as @haven/risk gave it
 * for "i want to kill myself tonight", with the corroboration and a dampener a longer text adds.
 * `makeEvent` sends none unless asked, as an older agent does.
 */
export const EXAMPLE_EXPLANATION: ExplanationEntry[] = [
  {
    ruleId: 'suicide.en.kill_myself',
    category: 'suicide',
    kind: 'term',
    base: 4,
    adjustments: [
      { name: 'time', delta: 1 },
      { name: 'corroborated', delta: 1 },
    ],
    severity: 5,
    corroboratedBy: 'suicide.en.frame_not_being_here',
  },
  {
    ruleId: 'self_harm.en.frame_injure_own_body',
    category: 'self_harm',
    kind: 'frame',
    base: 4,
    adjustments: [{ name: 'negation', delta: -3 }],
    severity: 1,
    classes: ['injury_verbs', 'body_parts'],
    needs: ['first_person'],
  },
];

export function makeEvent(deviceId: string, over: Partial<AgentEvent> = {}): AgentEvent {
  return {
    id: uuidv7(),
    occurredAt: new Date().toISOString(),
    source: 'keys',
    category: 'self_harm',
    severity: 3,
    ruleIds: ['self_harm.en.method.1', 'boost.first_person'],
    evidence: { match: `${EVIDENCE_MARKER} phrase`, before: 'typed before ', after: ' typed after' },
    app: 'Chromium',
    windowTitle: `${TITLE_MARKER} - Google Search`,
    osUser: 'pupil.one',
    deviceId,
    ...over,
  };
}
