import type { HavenDatabase } from '@haven/db';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type WebSocket from 'ws';
import { canSeeIncident, incidentScopes, type Principal } from '../auth/access';
import { requirePrincipal } from '../auth/plugin';
import { ForbiddenError } from '../errors';
import { getSummary, type IncidentSummary } from '../triage/repository';

declare module 'fastify' {
  // eslint-disable-next-line @typescript-eslint/consistent-type-definitions -- declaration merging needs an interface
  interface FastifyInstance {
    live: LiveHub;
  }
}

type Subscriber = { principal: Principal; socket: WebSocket };

/**
 * Pushes incident summaries to signed-in dashboards, each only what its user may see.
 *
 * In this process only: with several collectors behind a balancer a dashboard hears the
 * incidents grouped by its own collector (PostgreSQL LISTEN/NOTIFY is the planned fan-out).
 */
export class LiveHub {
  private readonly subscribers = new Set<Subscriber>();

  constructor(
    private readonly db: HavenDatabase,
    private readonly log: FastifyBaseLogger,
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  add(principal: Principal, socket: WebSocket): void {
    const subscriber = { principal, socket };
    this.subscribers.add(subscriber);
    socket.on('close', () => this.subscribers.delete(subscriber));
    socket.send(JSON.stringify({ type: 'ready' }));
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
    for (const s of this.subscribers) s.socket.close(1001, 'collector shutting down');
  }
}

export async function liveRoutes(app: FastifyInstance): Promise<void> {
  app.addHook('preClose', async () => app.live.closeAll());
  app.get(
    '/api/live',
    {
      websocket: true,
      preValidation: async (request) => {
        const me = requirePrincipal(request);
        if (incidentScopes(me).length === 0) throw new ForbiddenError();
      },
    },
    (socket, request) => {
      // Dashboards only listen; anything they send is ignored, and large frames close the socket.
      socket.on('message', () => undefined);
      app.live.add(request.principal!, socket);
    },
  );
}
