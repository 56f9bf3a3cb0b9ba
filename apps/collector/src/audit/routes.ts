import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { auditSchools } from '../auth/access';
import { parseBody, requirePrincipal } from '../auth/plugin';
import { ForbiddenError } from '../errors';
import { listAudit } from './repository';

/** The audit log, for the head teacher and the trust admin of each school. */
export async function auditRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/audit', async (request) => {
    const me = requirePrincipal(request);
    const schools = auditSchools(me);
    if (schools.length === 0) throw new ForbiddenError();
    const { limit } = parseBody(z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) }), request.query);
    return { entries: await listAudit(app.database.db, schools, limit) };
  });
}
