import { platform, release, arch } from 'node:os';
import {
  CloseCode,
  encodeMessage,
  FATAL_CLOSE_CODES,
  LIMITS,
  parseCollectorMessage,
  PROTOCOL_VERSION,
  uuidv7,
  type AgentEvent,
  type Policy,
  type SessionReport,
  type SourceHealth,
} from '@haven/protocol';
import WebSocket from 'ws';
import type { Outbox } from '../outbox/outbox';
import type { Credential } from './credential';

/**
 * The agent's link to the collector: one WebSocket, hello, batches from the outbox, acks that
 * trim it, heartbeats. Runner: start() / stop().
 *
 *   connecting ──open──► hello sent ──hello-ok──► ready ◄──┐
 *       ▲                    │                     │       │ ack: trim outbox, send more
 *       │                    │ hello-rejected      └───────┘
 *       └──backoff◄──close───┴──────────────► stopped (bad credential, revoked, unsupported)
 *
 * Reconnects with jittered exponential backoff. Nothing is ever lost here: events stay in the
 * outbox until acked, and a batch whose ack never came is simply sent again (the collector
 * keeps one copy per event id).
 */

export type LinkState = 'idle' | 'connecting' | 'ready' | 'backoff' | 'stopped';
export type LinkStatus = { state: LinkState; lastError: string | null; fatal: boolean };

export type LinkOptions = {
  credential: Credential;
  outbox: Outbox;
  agentVersion: string;
  /** Health per source, for heartbeats. */
  health: () => Record<string, SourceHealth>;
  /** The per-user session parts, for heartbeats (a split agent's service). */
  sessions?: () => SessionReport[];
  /** Events the collector has stored (acknowledged). */
  onDelivered?: (count: number, at: Date) => void;
  onPolicy?: (policy: Policy, version: number) => void;
  onStatus?: (status: LinkStatus) => void;
  /** Log lines (never event content). */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  backoff?: { minMs: number; maxMs: number };
  batchSize?: number;
  maxInFlight?: number;
};

type InFlight = { ids: string[] };

export class Link {
  private socket: WebSocket | null = null;
  private status: LinkStatus = { state: 'idle', lastError: null, fatal: false };
  private readonly inFlight = new Map<string, InFlight>();
  private readonly inFlightIds = new Set<string>();
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private pauseUntil = 0;
  private stopped = false;

  constructor(private readonly options: LinkOptions) {}

  get state(): LinkStatus {
    return { ...this.status };
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.retryTimer = this.heartbeatTimer = null;
    this.socket?.close(CloseCode.Normal, 'agent stopping');
    this.socket = null;
    this.setState('stopped');
  }

  /** New events are in the outbox: send them if the link is up. */
  notify(): void {
    if (this.status.state === 'ready') this.pump();
  }

  private connect(): void {
    if (this.stopped) return;
    this.setState('connecting');
    const { credential } = this.options;
    const url = `${credential.collector.replace(/^http/, 'ws')}${credential.agentPath}`;
    const socket = new WebSocket(url, { maxPayload: LIMITS.maxFrameBytes, handshakeTimeout: 10_000 });
    this.socket = socket;
    socket.on('open', () => {
      socket.send(
        encodeMessage({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          deviceId: credential.deviceId,
          credential: credential.deviceSecret,
          agentVersion: this.options.agentVersion,
          os: { platform: platform(), release: release(), arch: arch() },
        }),
      );
    });
    socket.on('message', (data: Buffer) => this.onMessage(socket, data));
    socket.on('error', (err) => {
      this.status.lastError = err.message;
    });
    socket.on('close', (code, reason) => this.onClose(socket, code, reason.toString()));
  }

  private onMessage(socket: WebSocket, data: Buffer): void {
    if (socket !== this.socket) return;
    const parsed = parseCollectorMessage(data);
    if (!parsed.ok) {
      this.log('warn', `The collector sent a frame this agent cannot read (${parsed.failure.message}).`);
      return;
    }
    const m = parsed.message;
    switch (m.type) {
      case 'hello-ok':
        this.attempt = 0;
        this.setState('ready');
        this.log('info', 'Connected to the collector.');
        if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
        this.heartbeatTimer = setInterval(() => this.heartbeat(), m.heartbeatIntervalSeconds * 1000);
        this.heartbeatTimer.unref();
        this.heartbeat();
        this.pump();
        return;
      case 'hello-rejected':
        this.status.lastError = `${m.reason}: ${m.message}`;
        return; // the close that follows carries the code
      case 'ack': {
        const batch = this.inFlight.get(m.batchId);
        this.options.outbox.ack(m.ids);
        if (m.ids.length > 0) this.options.onDelivered?.(m.ids.length, new Date());
        if (batch) {
          this.inFlight.delete(m.batchId);
          for (const id of batch.ids) this.inFlightIds.delete(id);
        }
        this.pump();
        return;
      }
      case 'error': {
        const batch = m.batchId ? this.inFlight.get(m.batchId) : undefined;
        if (batch && m.batchId) {
          this.inFlight.delete(m.batchId);
          for (const id of batch.ids) this.inFlightIds.delete(id);
        }
        if (m.code === 'unavailable') {
          this.log('warn', `The collector cannot store events just now; retrying in ${m.retryAfterMs ?? 1000} ms.`);
          this.pauseUntil = Date.now() + (m.retryAfterMs ?? 1000);
          setTimeout(() => this.pump(), (m.retryAfterMs ?? 1000) + 10).unref();
        } else if (m.code === 'invalid-batch' && batch && m.index !== undefined) {
          // One event the collector will never take: drop it (counted in droppedEvents, as
          // docs/protocol.md §8 asks), keep the rest.
          const bad = batch.ids[m.index];
          if (bad) this.options.outbox.discard([bad]);
          this.log('error', `The collector refused an event as invalid (${m.message}); it was removed from the outbox.`);
          this.pump();
        }
        return;
      }
      case 'policy':
        this.options.onPolicy?.(m.policy, m.version);
        // Report the sources as the new policy leaves them now, not at the next interval.
        this.heartbeat();
        return;
    }
  }

  private onClose(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = null;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.inFlight.clear();
    this.inFlightIds.clear(); // unacked batches are sent again on the next connection
    if (this.stopped) return;
    if (FATAL_CLOSE_CODES.has(code)) {
      this.status = { state: 'stopped', lastError: this.status.lastError ?? `closed ${code} ${reason}`, fatal: true };
      this.log('error', `The collector refused this device (${code}${reason ? `: ${reason}` : ''}); it will not reconnect with this credential.`);
      this.options.onStatus?.(this.state);
      return;
    }
    const { minMs, maxMs } = this.options.backoff ?? { minMs: 1000, maxMs: 60_000 };
    const cap = Math.min(maxMs, minMs * 2 ** this.attempt++);
    const delay = Math.round(cap / 2 + Math.random() * (cap / 2)); // jitter: half to all of the cap
    this.setState('backoff');
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.retryTimer.unref();
  }

  /** Sends outbox events in batches while the collector keeps up. */
  private pump(): void {
    const socket = this.socket;
    if (!socket || this.status.state !== 'ready' || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() < this.pauseUntil) return;
    const maxInFlight = this.options.maxInFlight ?? 2;
    const size = Math.min(this.options.batchSize ?? 100, LIMITS.maxEventsPerBatch);
    while (this.inFlight.size < maxInFlight) {
      const events = this.options.outbox.pending(size, this.inFlightIds);
      if (events.length === 0) return;
      const frame = fitFrame(events);
      const batchId = uuidv7();
      const ids = frame.map((e) => e.id);
      this.inFlight.set(batchId, { ids });
      for (const id of ids) this.inFlightIds.add(id);
      socket.send(encodeMessage({ type: 'events', batchId, events: frame }));
    }
  }

  /** Sends a heartbeat now (a session part changed state); a no-op while disconnected. */
  heartbeatNow(): void {
    this.heartbeat();
  }

  private heartbeat(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(
      encodeMessage({
        type: 'heartbeat',
        agentVersion: this.options.agentVersion,
        sources: this.options.health(),
        outboxDepth: this.options.outbox.depth,
        droppedEvents: this.options.outbox.dropped,
        ...(this.options.sessions ? { sessions: this.options.sessions() } : {}),
        sentAt: new Date().toISOString(),
      }),
    );
  }

  private setState(state: LinkState): void {
    this.status = { ...this.status, state, fatal: state === 'stopped' ? this.status.fatal : false };
    this.options.onStatus?.(this.state);
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.options.log?.(level, message);
  }
}

/** As many of the events as fit in one frame (at least one: a single event always fits). */
function fitFrame(events: AgentEvent[]): AgentEvent[] {
  const budget = LIMITS.maxFrameBytes - 1024;
  let bytes = 0;
  const out: AgentEvent[] = [];
  for (const e of events) {
    const size = Buffer.byteLength(JSON.stringify(e));
    if (out.length > 0 && bytes + size > budget) break;
    out.push(e);
    bytes += size;
  }
  return out;
}
