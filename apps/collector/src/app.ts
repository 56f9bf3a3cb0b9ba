import websocket from '@fastify/websocket';
import { describeDatabaseError, isDatabaseUnavailable, type Database } from '@haven/db';
import { LIMITS } from '@haven/protocol';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { enrollmentRoutes } from './enrollment/routes';
import { Gateway, gatewayRoutes, gatewaySocketError } from './gateway/plugin';
import { healthRoutes } from './health/routes';
import { Alerter, type AlertConfig } from './alerts/alerter';
import { auditRoutes } from './audit/routes';
import { authPlugin } from './auth/plugin';
import { AttemptLimits } from './auth/rate-limit';
import { inputPlugin } from './input/schemas';
import { dashboardRoutes } from './dashboard/routes';
import { directoryRoutes } from './directory/routes';
import { fleetRoutes } from './fleet/routes';
import { peopleRoutes } from './people/routes';
import { purgeExpired } from './retention/purge';
import { trustRoutes } from './trust/routes';
import { LiveHub, liveRoutes } from './live/hub';
import { createLogger } from './logger';
import { Metrics, metricsRoutes } from './metrics/routes';
import { DEFAULT_GROUPING, type GroupingOptions } from './triage/grouping';
import { TriageWorker } from './triage/worker';
import { triageRoutes } from './triage/routes';

declare module 'fastify' {
  // eslint-disable-next-line @typescript-eslint/consistent-type-definitions -- declaration merging needs an interface
  interface FastifyInstance {
    database: Database;
    gateway: Gateway;
    gatewayOptions: { helloTimeoutMs: number; revocationCheckMs: number };
    metrics: Metrics;
    alerter: Alerter;
    triage: TriageWorker;
    /** Every route as registered (method, url, its input schemas), so tests can prove each one is scoped and validated. */
    routeList: Array<{ method: string; url: string; schema?: { body?: unknown; querystring?: unknown } }>;
  }
}

export type AppOptions = {
  database: Database;
  /** A pino logger; by default one at info level on stdout, with Haven's redaction. */
  logger?: Logger;
  /** How long shutdown waits for in-flight batches before closing agent sockets. */
  shutdownGraceMs?: number;
  /** How long a new agent socket may stay silent before hello (default LIMITS.helloTimeoutSeconds). */
  helloTimeoutMs?: number;
  /** How often a connected device's revocation is re-checked (default 30 s). */
  revocationCheckMs?: number;
  /** How events become incidents (default DEFAULT_GROUPING). */
  grouping?: Partial<GroupingOptions>;
  /** Mail, webhook and escalation settings; without SMTP, alerts are recorded as undelivered. */
  alerts?: Partial<AlertConfig>;
  /** How often alerts are escalated, retried and digests sent (default 60 s; 0: never, tests call sweep()). */
  alertSweepMs?: number;
  /** Mark session cookies Secure (set when staff reach Haven over https://, as in production). */
  secureCookies?: boolean;
  /**
   * Which reverse proxies' X-Forwarded-For is believed (default none): a hop count or their
   * addresses. Never `true`: that would believe whatever a client writes (HAVEN_TRUST_PROXY).
   */
  trustProxy?: false | number | string[];
  /** The address staff use (HAVEN_PUBLIC_URL): the live feed accepts pages from its origin. */
  publicUrl?: string;
  /** The operator's 32-byte key (HAVEN_SECRET_KEY): TOTP secrets are encrypted with it. */
  secretKey?: Buffer;
  /** How often live-feed sockets' sessions are re-checked (default 15 s). */
  liveSessionCheckMs?: number;
  /** The built dashboard (default apps/dashboard/dist). */
  dashboardDir?: string;
};

/** Trusts the `hops` nearest proxies (hop 0 is the socket's peer). */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

/** Builds the collector. It never listens: server.ts does, tests use inject or listen(0). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger ?? createLogger('info'),
    bodyLimit: 64 * 1024,
    // Sign-in limits count per client address; behind a reverse proxy set trustProxy there.
    // A hop count trusts that many proxies nearest the collector; request.ip is then the
    // address the farthest trusted proxy saw, whatever a client put in X-Forwarded-For.
    trustProxy: typeof options.trustProxy === 'number' ? trustHops(options.trustProxy) : (options.trustProxy ?? false),
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  app.decorate('routeList', []);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) app.routeList.push({ method, url: route.url, schema: route.schema as { body?: unknown; querystring?: unknown } | undefined });
  });
  app.decorate('database', options.database);
  app.decorate('gateway', new Gateway());
  app.decorate('metrics', new Metrics());
  app.decorate('attemptLimits', new AttemptLimits(options.database.db));
  app.decorate(
    'live',
    new LiveHub(options.database.db, app.log.child({ component: 'live' }), { sessionCheckMs: options.liveSessionCheckMs, publicUrl: options.publicUrl }),
  );
  app.decorate(
    'alerter',
    new Alerter(options.database.db, app.log.child({ component: 'alerts' }), {
      mailFrom: 'Haven <haven@localhost>',
      escalateAfterMs: 15 * 60_000,
      publicUrl: 'http://localhost:8080',
      ...options.alerts,
    }),
  );
  app.decorate('gatewayOptions', {
    helloTimeoutMs: options.helloTimeoutMs ?? LIMITS.helloTimeoutSeconds * 1000,
    revocationCheckMs: options.revocationCheckMs ?? 30_000,
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'Request failed.');
      const unavailable = status === 503;
      return reply.code(status).send({
        error: unavailable ? error.code : 'HAVEN_ERR_INTERNAL',
        message: unavailable ? error.message : 'Internal error',
        statusCode: status,
      });
    }
    // The message of a 4xx may quote the request (e.g. a JSON syntax error): never log it.
    request.log.info({ code: error.code, statusCode: status }, 'Request refused.');
    return reply.code(status).send({ error: error.code ?? 'HAVEN_ERR_BAD_REQUEST', message: error.message, statusCode: status });
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send({ error: 'HAVEN_ERR_NOT_FOUND', message: 'No such route', statusCode: 404 }),
  );

  const graceMs = options.shutdownGraceMs ?? 10_000;
  await app.register(websocket, {
    options: { maxPayload: LIMITS.maxFrameBytes },
    errorHandler: gatewaySocketError,
    preClose: async () => {
      await app.gateway.shutdown(graceMs);
    },
  });
  // Route schemas (query and body) are zod: bad input is a 400 naming the field.
  await app.register(inputPlugin);
  await app.register(healthRoutes);
  await app.register(enrollmentRoutes);
  await app.register(gatewayRoutes);
  await app.register(metricsRoutes);
  app.decorate(
    'triage',
    new TriageWorker(options.database.db, { ...DEFAULT_GROUPING, ...options.grouping }, app.log.child({ component: 'triage' }), async (changes) => {
      for (const change of changes) await app.live.incidentChanged(change.incidentId);
      await app.alerter.incidentsChanged(changes);
    }),
  );
  // After the gateway has drained its batches (preClose), the last grouping pass finishes.
  app.addHook('onClose', async () => app.triage.close());
  await app.register(authPlugin, { secureCookies: options.secureCookies, secretKey: options.secretKey });
  await app.register(liveRoutes);
  await app.register(triageRoutes);
  await app.register(auditRoutes);
  await app.register(fleetRoutes);
  await app.register(directoryRoutes);
  await app.register(peopleRoutes);
  await app.register(trustRoutes);
  await app.register(dashboardRoutes, { dir: options.dashboardDir });

  const sweepMs = options.alertSweepMs ?? 60_000;
  if (sweepMs > 0) {
    let running = false;
    let lastPurge = 0;
    const log = app.log.child({ component: 'sweep' });
    // Each part runs on its own, so one that fails (a database outage, a bug) does not hold up
    // the others. An outage is a warning, retried next time; anything else is an error.
    const step = async (what: string, work: () => Promise<void>) => {
      try {
        await work();
      } catch (err) {
        if (isDatabaseUnavailable(err)) log.warn({ databaseError: describeDatabaseError(err) }, `${what} waits for the database, which is unavailable; it runs again at the next sweep.`);
        else log.error({ err }, `${what} failed; it runs again at the next sweep.`);
      }
    };
    const sweep = async () => {
      await step('Grouping of leftover events', () => app.triage.recover());
      await step('The alert sweep', () => app.alerter.sweep());
      // Retention runs daily (and once soon after start); a purge the database cut short is
      // tried again at the next sweep, not a day later.
      if (Date.now() - lastPurge < 24 * 3600_000) return;
      await step('The retention purge', async () => {
        const purged = await purgeExpired(app.database.db);
        lastPurge = Date.now();
        const total = purged.reduce((n, p) => n + p.incidents, 0);
        if (total > 0) log.info({ incidents: total }, 'Retention purge removed expired incidents.');
      });
    };
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      void sweep().finally(() => {
        running = false;
      });
    }, sweepMs);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }
  return app;
}
