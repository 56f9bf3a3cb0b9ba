import type { FastifyInstance } from 'fastify';

const PING_TIMEOUT_MS = 2000;

/** `GET /healthz`: 200 when the database answers, 503 when it does not. No content, no auth. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  // Load balancers and monitors ask every few seconds: a line each at info would bury the log.
  // A failing check still says so, through the database's own warnings.
  app.get('/healthz', { logLevel: 'warn' }, async (_request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    const up = await Promise.race([
      app.database.ping().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    return reply
      .code(up ? 200 : 503)
      .send({ status: up ? 'ok' : 'unavailable', database: up ? 'up' : 'down', driver: app.database.driver });
  });
}
