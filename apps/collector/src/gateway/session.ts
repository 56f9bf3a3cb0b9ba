import { classifyDatabaseError, describeDatabaseError, type Database } from '@haven/db';
import {
  CloseCode,
  encodeMessage,
  LIMITS,
  parseAgentMessage,
  PROTOCOL_VERSION,
  REJECTION_CLOSE_CODE,
  type CollectorMessage,
  type EventsBatch,
  type Heartbeat,
  type Hello,
  type PolicyMessage,
  type HelloRejectionReason,
} from '@haven/protocol';
import type { FastifyBaseLogger as Logger } from 'fastify';
import WebSocket from 'ws';
import { recordHeartbeat, recordHello } from '../fleet/repository';
import { authenticateDevice, deviceIsActive } from '../ingest/repository';
import type { Metrics } from '../metrics/routes';
import type { FailureLimiter, LogLimiter } from './limits';

/**
 * One agent connection.
 *
 *   awaiting-hello ──hello──► authenticating ──ok──► ready ──shutdown / close──► closed
 *         │                        │                  │
 *         │ timeout, non-hello,    │ rejected,        │ malformed frame, unknown type,
 *         │ malformed frame,       │ database down,   │ revoked, replaced,
 *         │ address limited (1013) │ internal error   │ internal error (1011)
 *         └────────────────────────┴──────────────────┴──────────────► closed (close code)
 *
 * Frames are handled one at a time, in arrival order, so an ack always follows the commit
 * of its own batch and never overtakes an earlier one.
 */
type State = 'awaiting-hello' | 'authenticating' | 'ready' | 'closed';

export type SessionHost = {
  database: Database;
  /** The school's policy to push after hello (null: the device keeps its own). */
  policyFor(schoolId: string): Promise<PolicyMessage | null>;
  /** Stores a batch; grouping into incidents follows. */
  store(device: { id: string; schoolId: string }, events: EventsBatch['events']): Promise<{ stored: number; duplicates: number }>;
  /** After a store failed with a data error: the index of the first event the database refuses alone. */
  locateUnstorable(device: { id: string; schoolId: string }, events: EventsBatch['events']): Promise<number | null>;
  /** The client's address as Fastify sees it (the proxy's client when trustProxy is set). */
  remoteAddress: string;
  /** One line a minute per device or address for faults that are the client's. */
  logLimiter: LogLimiter;
  /** Failed hellos per address. */
  helloLimiter: FailureLimiter;
  metrics: Metrics;
  log: Logger;
  /** Called once authenticated; the host closes any older session of the same device. */
  onAuthenticated(session: AgentSession): void;
  onClosed(session: AgentSession): void;
  /** True once the collector is shutting down: frames are no longer taken. */
  isClosing(): boolean;
  helloTimeoutMs: number;
  /** A revoked device is refused at its first frame this long after the last check. */
  revocationCheckMs: number;
};

/** Frames queued before the socket is paused (backpressure on a fast agent). */
const MAX_QUEUED_FRAMES = 8;
const RETRY_AFTER_MS = 5_000;

/** RFC 6455 limits a close reason to 123 bytes of UTF-8; ws throws on a longer one. */
export function closeReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out, 'utf8') > 123) out = out.slice(0, -1);
  return out;
}

export class AgentSession {
  private state: State = 'awaiting-hello';
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private paused = false;
  private helloTimer: NodeJS.Timeout | undefined;
  private lastActiveCheck = 0;
  private log: Logger;
  device: { id: string; schoolId: string } | undefined;
  private credentialId: string | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly host: SessionHost,
  ) {
    this.log = host.log;
    this.helloTimer = setTimeout(() => {
      if (this.state === 'awaiting-hello') this.close(CloseCode.HelloTimeout, 'no hello received in time');
    }, host.helloTimeoutMs);
    socket.on('message', (data, isBinary) => this.enqueue(data as Buffer | Buffer[], isBinary));
    socket.on('close', () => this.finish());
    socket.on('error', (err: Error & { code?: unknown }) => {
      // ws reports oversized frames, invalid UTF-8 and protocol violations here, then closes
      // (1009, 1007, 1002); a vanished client shows as ECONNRESET. Never ours to fix.
      this.clientFault({ code: typeof err.code === 'string' ? err.code : undefined }, 'Agent socket error; the connection is closing.');
    });
  }

  get deviceId(): string | undefined {
    return this.device?.id;
  }

  /** Resolves when every frame taken so far has been handled. */
  drain(): Promise<void> {
    return this.queue;
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      try {
        this.socket.close(code, closeReason(reason));
      } catch {
        this.socket.terminate();
      }
    }
    this.host.onClosed(this);
  }

  private finish(): void {
    if (this.state !== 'closed') {
      this.state = 'closed';
      clearTimeout(this.helloTimer);
      this.host.onClosed(this);
    }
  }

  private enqueue(data: Buffer | Buffer[], isBinary: boolean): void {
    if (this.state === 'closed' || this.host.isClosing()) return; // not acked: the agent resends
    this.queued++;
    if (this.queued >= MAX_QUEUED_FRAMES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    this.queue = this.queue
      .then(() => (this.state === 'closed' ? undefined : this.handle(data, isBinary)))
      .catch((err: unknown) => {
        this.log.error({ err, deviceId: this.device?.id }, 'Agent frame handling failed unexpectedly.');
        this.close(CloseCode.InternalError, 'internal error');
      })
      .finally(() => {
        this.queued--;
        if (this.paused && this.queued <= MAX_QUEUED_FRAMES / 2) {
          this.paused = false;
          this.socket.resume();
        }
      });
  }

  /**
   * Logs a fault of the client's (a refused frame, a bad credential, a dropped socket) at info,
   * at most once a minute per device (or address before hello), with the count held back.
   */
  private clientFault(fields: Record<string, unknown>, message: string): void {
    const held = this.host.logLimiter.take(this.device?.id ?? `address ${this.host.remoteAddress}`);
    if (held === null) return;
    this.log.info({ deviceId: this.device?.id, remoteAddress: this.host.remoteAddress, ...fields, ...(held > 0 ? { suppressed: held } : {}) }, message);
  }

  /**
   * What a failed database call means for the agent: an outage (retry later, logged as the
   * database being unavailable) or a fault of the collector's, logged at error as a kind and a
   * SQLSTATE — never the error's message, which can quote the values being written.
   */
  private databaseFailure(err: unknown, what: string): 'unavailable' | 'internal' {
    const error = describeDatabaseError(err);
    if (error.kind === 'unavailable' || error.kind === 'conflict') {
      this.log.warn({ databaseError: error }, `${what}: the database is unavailable.`);
      return 'unavailable';
    }
    const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack.split('\n').slice(1, 6).join('\n') : undefined;
    this.log.error({ databaseError: error, stack }, `${what}: internal error.`);
    return 'internal';
  }

  private send(message: CollectorMessage): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(encodeMessage(message));
  }

  private async handle(data: Buffer | Buffer[], isBinary: boolean): Promise<void> {
    if (isBinary) return this.close(CloseCode.MalformedFrame, 'frames must be JSON text');
    const parsed = parseAgentMessage(Array.isArray(data) ? Buffer.concat(data) : data);
    if (!parsed.ok) {
      const f = parsed.failure;
      this.clientFault({ kind: f.kind }, 'Agent frame refused.');
      switch (f.kind) {
        case 'too-big':
          return this.close(CloseCode.MessageTooBig, f.message);
        case 'malformed':
          return this.close(CloseCode.MalformedFrame, f.message);
        case 'unknown-type':
          return this.close(CloseCode.UnknownType, f.message);
        case 'unsupported-protocol':
          if (this.state !== 'awaiting-hello') return this.close(CloseCode.DuplicateHello, 'hello already received');
          return this.reject('unsupported-protocol', f.message);
        case 'invalid':
          if (f.type === 'events' && this.state === 'ready') {
            // Not fatal: the rest of the agent's outbox is still good.
            this.host.metrics.batchesRejected++;
            this.send({ type: 'error', code: 'invalid-batch', message: f.message, batchId: f.batchId, index: f.index });
            return;
          }
          if (f.type === 'hello' && this.state !== 'awaiting-hello') return this.close(CloseCode.DuplicateHello, 'hello already received');
          if (this.state !== 'ready' && f.type !== 'hello') return this.close(CloseCode.HelloRequired, 'hello required first');
          return this.close(CloseCode.InvalidMessage, f.message);
      }
    }
    const message = parsed.message;
    if (message.type === 'hello') return this.onHello(message);
    if (this.state !== 'ready') return this.close(CloseCode.HelloRequired, 'hello required first');
    if (message.type === 'events') return this.onEvents(message);
    return this.onHeartbeat(message);
  }

  private reject(reason: HelloRejectionReason, message: string): void {
    this.host.metrics.sessionsRefused++;
    this.send({ type: 'hello-rejected', reason, message, supportedProtocols: [PROTOCOL_VERSION] });
    this.close(REJECTION_CLOSE_CODE[reason], reason);
  }

  private async onHello(hello: Hello): Promise<void> {
    if (this.state !== 'awaiting-hello') return this.close(CloseCode.DuplicateHello, 'hello already received');
    this.state = 'authenticating';
    clearTimeout(this.helloTimer);
    const address = this.host.remoteAddress;
    if (this.host.helloLimiter.blocked(address)) {
      // Refused unread, before any database work; not fatal, so a good agent that shares the
      // address gets in once the window has passed.
      this.host.metrics.hellosLimited++;
      this.clientFault({ reason: 'too-many-failed-hellos' }, 'Agent hello refused: too many failed hellos from this address.');
      return this.close(CloseCode.TryAgainLater, 'too many failed hellos from this address; try again later');
    }
    const db = this.host.database.db;
    let outcome;
    try {
      outcome = await authenticateDevice(db, hello.deviceId, hello.credential);
    } catch (err) {
      const failure = this.databaseFailure(err, 'Could not authenticate an agent');
      return this.close(CloseCode.InternalError, failure === 'unavailable' ? 'temporarily unavailable' : 'internal error');
    }
    if (!outcome.ok) {
      if (outcome.reason === 'bad-credential') this.host.helloLimiter.fail(address);
      this.clientFault({ helloDeviceId: hello.deviceId, reason: outcome.reason }, 'Agent hello rejected.');
      return this.reject(outcome.reason, outcome.reason === 'bad-credential' ? 'unknown device or wrong secret' : 'this device has been revoked');
    }
    if (this.host.isClosing()) return this.close(CloseCode.GoingAway, 'collector shutting down');
    this.device = outcome.device;
    this.credentialId = outcome.credentialId;
    this.log = this.host.log.child({ deviceId: outcome.device.id });
    this.state = 'ready';
    this.lastActiveCheck = Date.now();
    this.host.onAuthenticated(this);
    await recordHello(db, outcome.device.id, hello).catch((err: unknown) => this.databaseFailure(err, 'Could not record the agent hello'));
    this.send({
      type: 'hello-ok',
      protocol: PROTOCOL_VERSION,
      deviceId: outcome.device.id,
      schoolId: outcome.device.schoolId,
      serverTime: new Date().toISOString(),
      heartbeatIntervalSeconds: LIMITS.heartbeatIntervalSeconds,
      limits: { maxFrameBytes: LIMITS.maxFrameBytes, maxEventsPerBatch: LIMITS.maxEventsPerBatch },
    });
    this.log.info('Agent connected.');
    const policy = await this.host.policyFor(outcome.device.schoolId).catch((err: unknown) => {
      this.log.warn({ err }, 'The school policy could not be read; the agent keeps its own.');
      return null;
    });
    if (policy && this.state === 'ready') this.send(policy);
  }

  /** The school of the authenticated device (undefined before hello). */
  get schoolId(): string | undefined {
    return this.device?.schoolId;
  }

  /** Sends a collector-initiated message (a policy) to a ready session. */
  push(message: CollectorMessage): void {
    if (this.state === 'ready') this.send(message);
  }

  private async onEvents(batch: EventsBatch): Promise<void> {
    const device = this.device!;
    const foreign = batch.events.findIndex((e) => e.deviceId !== device.id);
    if (foreign >= 0) {
      this.host.metrics.batchesRejected++;
      this.clientFault({ index: foreign }, 'Agent batch refused: an event claims another device.');
      this.send({ type: 'error', code: 'device-mismatch', message: 'events must carry the authenticated device id', batchId: batch.batchId, index: foreign });
      return;
    }
    try {
      if (!(await this.stillActive())) return;
      const result = await this.host.store(device, batch.events);
      const m = this.host.metrics;
      m.batchesAcked++;
      m.eventsStored += result.stored;
      m.eventsDuplicate += result.duplicates;
      this.send({ type: 'ack', batchId: batch.batchId, ids: batch.events.map((e) => e.id), duplicates: result.duplicates });
      this.log.debug({ stored: result.stored, duplicates: result.duplicates }, 'Batch stored.');
    } catch (err) {
      await this.storeFailed(batch, err);
    }
  }

  /**
   * Only an outage answers `unavailable`: anything else would be resent for ever. A value the
   * database refuses (which validation should have caught) is the agent's data: the first
   * such event is named by index as `invalid-batch`, so the agent sets it aside and resends the
   * rest. Any other failure is the collector's own: logged at error and the connection closed
   * with 1011, so the agent keeps its events and comes back with backoff (docs/protocol.md §6).
   */
  private async storeFailed(batch: EventsBatch, err: unknown): Promise<void> {
    const m = this.host.metrics;
    let cause = err;
    if (classifyDatabaseError(err) === 'data') {
      try {
        const index = await this.host.locateUnstorable(this.device!, batch.events);
        if (index !== null) {
          m.batchesRejected++;
          const sqlstate = describeDatabaseError(err).sqlstate ?? '22000';
          this.clientFault({ index, sqlstate }, 'Agent batch refused: the database cannot store one of its events.');
          this.send({
            type: 'error',
            code: 'invalid-batch',
            message: `events.${index}: cannot be stored (SQLSTATE ${sqlstate})`,
            batchId: batch.batchId,
            index,
          });
          return;
        }
      } catch (locating) {
        cause = locating;
      }
    }
    if (this.databaseFailure(cause, `Batch of ${batch.events.length} events not stored`) === 'unavailable') {
      m.batchesUnavailable++;
      this.send({
        type: 'error',
        code: 'unavailable',
        message: 'events could not be stored; resend later',
        batchId: batch.batchId,
        retryAfterMs: RETRY_AFTER_MS,
      });
      return;
    }
    m.batchesFailed++;
    this.close(CloseCode.InternalError, 'internal error');
  }

  /**
   * Re-checks revocation at most every revocationCheckMs, on any frame: a revoked device or
   * credential is refused with 4012 and its connection closed. Throws if the database fails.
   */
  private async stillActive(): Promise<boolean> {
    if (Date.now() - this.lastActiveCheck < this.host.revocationCheckMs) return true;
    if (!(await deviceIsActive(this.host.database.db, this.device!.id, this.credentialId!))) {
      this.reject('device-revoked', 'this device has been revoked');
      return false;
    }
    this.lastActiveCheck = Date.now();
    return true;
  }

  private async onHeartbeat(beat: Heartbeat): Promise<void> {
    try {
      if (!(await this.stillActive())) return;
      const { tamper } = await recordHeartbeat(this.host.database.db, this.device!.id, beat);
      // The account name stays out of the log: the Devices page shows it to those allowed to see.
      if (tamper) this.log.warn('A session part on this device stopped while its user was still logged in (tamper signal).');
    } catch (err) {
      this.databaseFailure(err, 'Could not record a heartbeat');
    }
  }
}
