import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CloseCode, type CollectorMessage } from '@haven/protocol';
import WebSocket from 'ws';
import { schoolPolicy } from '../directory/policy';
import { locateUnstorable, storeEvents } from '../ingest/repository';
import { FailureLimiter, LogLimiter } from './limits';
import { AgentSession } from './session';

/** Seconds between protocol pings; a socket that misses one is dropped. */
const KEEPALIVE_SECONDS = 30;

/** Live agent sessions, one per device. */
export class Gateway {
  private readonly sessions = new Set<AgentSession>();
  private readonly byDevice = new Map<string, AgentSession>();
  private closing = false;
  /** One line a minute per device or address for faults that are the client's. */
  readonly logLimiter = new LogLimiter();
  /** 20 hellos with a bad credential per address per minute, then 1013 until the minute is over. */
  helloLimiter = new FailureLimiter(20, 60_000);

  get size(): number {
    return this.sessions.size;
  }

  get connectedDevices(): number {
    return this.byDevice.size;
  }

  /** Sends a message to every connected agent of a school (a new policy). */
  broadcast(schoolId: string, message: CollectorMessage): number {
    let sent = 0;
    for (const session of this.byDevice.values()) {
      if (session.schoolId === schoolId) {
        session.push(message);
        sent++;
      }
    }
    return sent;
  }

  isConnected(deviceId: string): boolean {
    return this.byDevice.has(deviceId);
  }

  isClosing(): boolean {
    return this.closing;
  }

  add(session: AgentSession): void {
    this.sessions.add(session);
  }

  authenticated(session: AgentSession): void {
    const id = session.deviceId!;
    const older = this.byDevice.get(id);
    this.byDevice.set(id, session);
    if (older && older !== session) older.close(CloseCode.Replaced, 'replaced by a newer connection');
  }

  removed(session: AgentSession): void {
    this.sessions.delete(session);
    const id = session.deviceId;
    if (id && this.byDevice.get(id) === session) this.byDevice.delete(id);
  }

  /**
   * Stops taking frames, lets every session finish the frames it already took (so their
   * batches are committed and acked), then closes each with 1001.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    const all = [...this.sessions];
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(all.map((s) => s.drain())),
      new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    for (const s of all) s.close(CloseCode.GoingAway, 'collector shutting down');
  }
}

/** Errors ws and node raise on a socket because of the client: its frames or its going away. */
function isClientSocketError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('WS_ERR_') || ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT'].includes(code));
}

/**
 * @fastify/websocket's `errorHandler`. Its default logs every socket error at error level —
 * an oversized or non-UTF-8 frame from any client became an operator alarm. A client's fault
 * is logged by its session (info, rate-limited); only a failure of the gateway itself is an
 * error here.
 */
export function gatewaySocketError(error: Error, socket: WebSocket, request: FastifyRequest): void {
  if (!isClientSocketError(error)) {
    request.log.error({ err: error, component: 'gateway' }, 'The agent gateway failed on a connection.');
  }
  // ws has already started its own close (1009, 1007, 1002) for a frame fault; anything
  // still open after an error is ended here.
  if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate();
}

export async function gatewayRoutes(app: FastifyInstance): Promise<void> {
  const log = app.log.child({ component: 'gateway' });
  const gateway = app.gateway;

  const keepalive = setInterval(() => {
    for (const client of app.websocketServer.clients) {
      const c = client as typeof client & { havenAlive?: boolean };
      if (c.havenAlive === false) {
        c.terminate();
        continue;
      }
      c.havenAlive = false;
      c.ping();
    }
  }, KEEPALIVE_SECONDS * 1000);
  keepalive.unref();
  app.addHook('onClose', async () => clearInterval(keepalive));

  app.get('/agent', { websocket: true }, (socket, request) => {
    const marked = socket as typeof socket & { havenAlive?: boolean };
    marked.havenAlive = true;
    socket.on('pong', () => {
      marked.havenAlive = true;
    });
    if (gateway.isClosing()) {
      socket.close(CloseCode.GoingAway, 'collector shutting down');
      return;
    }
    const session = new AgentSession(socket, {
      database: app.database,
      metrics: app.metrics,
      policyFor: (schoolId) => schoolPolicy(app.database.db, schoolId),
      remoteAddress: request.ip,
      logLimiter: gateway.logLimiter,
      helloLimiter: gateway.helloLimiter,
      locateUnstorable: (device, events) => locateUnstorable(app.database.db, device, events),
      store: async (device, events) => {
        const result = await storeEvents(app.database.db, device, events);
        // Grouping follows the commit and never holds up the ack (docs/adr/0006).
        if (result.stored > 0) app.triage.schedule(device.schoolId);
        return result;
      },
      log,
      onAuthenticated: (s) => gateway.authenticated(s),
      onClosed: (s) => gateway.removed(s),
      isClosing: () => gateway.isClosing(),
      helloTimeoutMs: app.gatewayOptions.helloTimeoutMs,
      revocationCheckMs: app.gatewayOptions.revocationCheckMs,
    });
    gateway.add(session);
  });
}
