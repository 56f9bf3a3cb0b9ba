import { isIP } from 'node:net';
import type { HavenDatabase } from '@haven/db';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type WebSocket from 'ws';
import { canSeeIncident, incidentScopes, type Principal } from '../auth/access';
import { requirePrincipal } from '../auth/plugin';
import { liveSessionIds } from '../auth/sessions';
import { ForbiddenError, ForbiddenOriginError } from '../errors';
import { getSummary, type IncidentSummary } from '../triage/repository';

declare module 'fastify' {
  // eslint-disable-next-line @typescript-eslint/consistent-type-definitions -- declaration merging needs an interface
  interface FastifyInstance {
    live: LiveHub;
  }
}

/** Close code for a live socket whose session ended (signed out, reset, expired, disabled). */
export const SESSION_ENDED_CLOSE = 4401;

type Subscriber = { principal: Principal; sessionId: string; socket: WebSocket };

export type LiveOptions = {
  /** How often open sockets' sessions are checked against the database (default 15 s). */
  sessionCheckMs?: number;
  /** The address staff use (HAVEN_PUBLIC_URL): pages from its origin may open the feed. */
  publicUrl?: string;
};

/**
 * Pushes incident summaries to signed-in dashboards, each only what its user may see.
 *
 * A socket lives only as long as its session: signing out closes it at once; a session ended
 * elsewhere (a password reset from the CLI, another collector, expiry, an hour idle, the
 * account disabled) is noticed by a check every `sessionCheckMs`, and the socket is closed
 * with 4401.
 *
 * In this process only: with several collectors behind a balancer a dashboard hears the
 * incidents grouped by its own collector (PostgreSQL LISTEN/NOTIFY is the planned fan-out).
 */
export class LiveHub {
  private readonly subscribers = new Set<Subscriber>();
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;
  readonly publicUrl: string | undefined;

  constructor(
    private readonly db: HavenDatabase,
    private readonly log: FastifyBaseLogger,
    private readonly options: LiveOptions = {},
  ) {
    this.publicUrl = options.publicUrl;
  }

  get size(): number {
    return this.subscribers.size;
  }

  add(principal: Principal, sessionId: string, socket: WebSocket): void {
    const subscriber = { principal, sessionId, socket };
    this.subscribers.add(subscriber);
    socket.on('close', () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.stopChecking();
    });
    socket.send(JSON.stringify({ type: 'ready' }));
    this.startChecking();
  }

  /** Closes every socket of a session that has just ended in this process. */
  endSession(sessionId: string): void {
    for (const s of this.subscribers) if (s.sessionId === sessionId) this.close(s);
  }

  /** Closes the sockets whose session is no longer alive in the database. */
  async recheck(): Promise<void> {
    // One check at a time; a caller arriving meanwhile waits for a fresh one.
    while (this.checking) await this.checking;
    if (this.subscribers.size === 0) return;
    this.checking = (async () => {
      const open = [...this.subscribers];
      const alive = await liveSessionIds(this.db, [...new Set(open.map((s) => s.sessionId))]);
      for (const s of open) if (!alive.has(s.sessionId)) this.close(s);
    })().finally(() => {
      this.checking = null;
    });
    await this.checking;
  }

  private close(s: Subscriber): void {
    this.subscribers.delete(s);
    s.socket.close(SESSION_ENDED_CLOSE, 'session ended');
  }

  private startChecking(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.recheck().catch((err: unknown) => this.log.warn({ err }, 'Live feed sessions could not be checked; trying again shortly.'));
    }, this.options.sessionCheckMs ?? 15_000);
    this.timer.unref();
  }

  private stopChecking(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reads the incident once and sends it to every subscriber allowed to see it. */
  async incidentChanged(id: string, change: { leftDslRoute?: boolean } = {}): Promise<void> {
    if (this.subscribers.size === 0) return;
    let summary: IncidentSummary | null;
    try {
      summary = await getSummary(this.db, id);
    } catch (err) {
      this.log.warn({ err, incidentId: id }, 'Live update skipped: the incident could not be read.');
      return;
    }
    if (!summary) return;
    const frame = JSON.stringify({ type: 'incident', incident: summary });
    // When an incident the DSL could see goes to the head (attributed to staff), the DSL's
    // dashboards hear only that it left their queue: its id, nothing else. Nobody hears of
    // incidents that were never theirs, so the DSL learns nothing of staff incidents.
    const removed = JSON.stringify({ type: 'incident-removed', id: summary.id });
    for (const s of this.subscribers) {
      if (s.socket.readyState !== s.socket.OPEN) continue;
      if (canSeeIncident(s.principal, summary)) s.socket.send(frame);
      else if (change.leftDslRoute && canSeeIncident(s.principal, { schoolId: summary.schoolId, routedTo: 'dsl' })) s.socket.send(removed);
    }
  }

  closeAll(): void {
    this.stopChecking();
    for (const s of this.subscribers) s.socket.close(1001, 'collector shutting down');
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const originOf = (url: string): string | null => {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
};

/**
 * The origins whose pages may open the live feed: the public address (HAVEN_PUBLIC_URL) and the
 * addresses the collector listens on (a loopback address also as `localhost`). Listening on
 * every interface (0.0.0.0 or ::), the collector cannot list its names, so the page must come
 * from the host the request was sent to (the same origin).
 */
export function allowedOrigin(app: FastifyInstance, request: FastifyRequest, origin: string): boolean {
  const wanted = originOf(origin);
  if (!wanted) return false;
  const allowed = new Set<string>();
  const publicOrigin = app.live.publicUrl ? originOf(app.live.publicUrl) : null;
  if (publicOrigin) allowed.add(publicOrigin);
  for (const a of app.addresses()) {
    if (typeof a === 'string') continue; // a Unix socket has no origin
    const hosts = LOOPBACK.has(a.address) ? ['127.0.0.1', 'localhost', '[::1]'] : [isIP(a.address) === 6 ? `[${a.address}]` : a.address];
    if (a.address === '0.0.0.0' || a.address === '::') hosts.push(String(request.headers.host ?? ''));
    for (const host of hosts) {
      const withPort = /:\d+$/.test(host) && !host.endsWith(']') ? host : `${host}:${a.port}`;
      for (const scheme of ['http', 'https']) {
        const o = originOf(`${scheme}://${withPort}`);
        if (o) allowed.add(o);
      }
    }
  }
  return allowed.has(wanted);
}

export async function liveRoutes(app: FastifyInstance): Promise<void> {
  app.addHook('preClose', async () => app.live.closeAll());
  app.get(
    '/api/live',
    {
      websocket: true,
      preValidation: async (request) => {
        // A browser always sends Origin with a WebSocket: a page of another site (cross-site
        // WebSocket hijacking) is refused here. A client that is not a browser sends none and
        // is let through on its cookie (docs/api.md).
        const origin = request.headers.origin;
        if (origin !== undefined && !allowedOrigin(app, request, origin)) throw new ForbiddenOriginError();
        const me = requirePrincipal(request);
        if (incidentScopes(me).length === 0) throw new ForbiddenError();
      },
    },
    (socket, request) => {
      // Dashboards only listen; anything they send is ignored, and large frames close the socket.
      socket.on('message', () => undefined);
      app.live.add(request.principal!, request.sessionId!, socket);
    },
  );
}
