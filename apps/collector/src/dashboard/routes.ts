import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where the built dashboard is, from src/ (tests) and dist/ (built) alike. */
export const DEFAULT_DASHBOARD_DIR = path.resolve(__dirname, '..', '..', '..', 'dashboard', 'dist');

const CSP = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/**
 * Serves the dashboard (apps/dashboard/dist) at `/`; any other GET outside /api gets its
 * index.html so that the browser's router can take the path. Every response carries headers
 * that keep pages out of frames and other sites, and API answers are never cached.
 */
export async function dashboardRoutes(app: FastifyInstance, options: { dir?: string }): Promise<void> {
  const dir = options.dir ?? DEFAULT_DASHBOARD_DIR;
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    else reply.header('content-security-policy', CSP);
  });
  if (!existsSync(path.join(dir, 'index.html'))) {
    app.log.warn({ dir }, 'The dashboard is not built; only the API is served (run `npm run build`).');
    return;
  }
  await app.register(fastifyStatic, { root: dir, prefix: '/', index: ['index.html'], wildcard: false });
  app.get('/*', (request, reply) => {
    if (request.url.startsWith('/api/') || request.url === '/api' || request.url.startsWith('/agent')) {
      return reply.code(404).send({ error: 'HAVEN_ERR_NOT_FOUND', message: 'No such route', statusCode: 404 });
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });
}
