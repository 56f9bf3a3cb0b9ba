import type { FastifyInstance } from 'fastify';
import { countSetAside } from '../triage/grouping';

/** Counters for the operator: no content, no identities, only how much and how well. */
export class Metrics {
  eventsStored = 0;
  eventsDuplicate = 0;
  batchesAcked = 0;
  batchesRejected = 0;
  batchesUnavailable = 0;
  /** Batches not stored because of a collector fault that is neither an outage nor the agent's. */
  batchesFailed = 0;
  sessionsRefused = 0;
  /** Hellos refused unread because their address had too many failed hellos. */
  hellosLimited = 0;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * `GET /metrics` in Prometheus text format, answered only to a direct loopback connection (a
 * local scraper or the technician on the server), never to a request through a proxy. With `?gc=1`, and only when Node was started with --expose-gc
 * (the benchmark does this; production does not), it collects garbage first so that memory
 * figures are comparable between two readings.
 */
export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { gc?: string } }>('/metrics', async (request, reply) => {
    // Behind a reverse proxy every request arrives from loopback: one that carries forwarding
    // headers came from outside, whatever its socket says.
    const forwarded = request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined;
    if (forwarded || !LOOPBACK.has(request.socket.remoteAddress ?? '')) {
      return reply.code(404).send({ error: 'HAVEN_ERR_NOT_FOUND', message: 'No such route', statusCode: 404 });
    }
    const gc = (globalThis as { gc?: () => void }).gc;
    if (request.query.gc === '1' && gc) {
      gc();
      gc();
    }
    const m = app.metrics;
    const mem = process.memoryUsage();
    // NaN (which Prometheus reads as "no value") while the database cannot be asked.
    const setAside = await countSetAside(app.database.db).catch(() => Number.NaN);
    const lines = [
      ['haven_agent_sockets', 'gauge', 'Open agent WebSocket connections', app.gateway.size],
      ['haven_agents_connected', 'gauge', 'Authenticated agent connections', app.gateway.connectedDevices],
      ['haven_events_stored_total', 'counter', 'Events stored', m.eventsStored],
      ['haven_events_duplicate_total', 'counter', 'Events received again and acknowledged without storing', m.eventsDuplicate],
      ['haven_batches_acked_total', 'counter', 'Event batches acknowledged', m.batchesAcked],
      ['haven_batches_rejected_total', 'counter', 'Event batches refused as invalid', m.batchesRejected],
      ['haven_batches_unavailable_total', 'counter', 'Event batches not stored because the database was unavailable', m.batchesUnavailable],
      ['haven_batches_failed_total', 'counter', 'Event batches not stored because of a collector fault (not an outage); the agent resends after reconnecting', m.batchesFailed],
      ['haven_events_set_aside', 'gauge', 'Events grouping could not take and set aside (grouping_failed_at); each is logged at error with its id', setAside],
      ['haven_events_set_aside_total', 'counter', 'Events set aside by grouping since this process started', app.triage.setAsideTotal],
      ['haven_hellos_limited_total', 'counter', 'Agent hellos refused unread because their address failed too many hellos', m.hellosLimited],
      ['haven_sessions_refused_total', 'counter', 'Agent sessions refused for a bad credential, revocation or protocol version', m.sessionsRefused],
      ['process_heap_used_bytes', 'gauge', 'V8 heap in use', mem.heapUsed],
      ['process_external_bytes', 'gauge', 'Memory outside the V8 heap (buffers)', mem.external],
      ['process_resident_memory_bytes', 'gauge', 'Resident set size', mem.rss],
    ] as const;
    const body = lines.map(([name, type, help, value]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}`).join('\n');
    return reply.type('text/plain; version=0.0.4').send(body + '\n');
  });
}
