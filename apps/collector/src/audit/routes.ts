import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { auditSchools } from '../auth/access';
import { requirePrincipal } from '../auth/plugin';
import { queryInt } from '../input/schemas';
import { ForbiddenError } from '../errors';
import { listAudit } from './repository';

/** The audit log, for the head teacher and the trust admin of each school. */
export async function auditRoutes(app: FastifyInstance): Promise<void> {
  const AuditQuery = z.object({ limit: queryInt(1, 1000).default(200) });
  app.get<{ Querystring: z.infer<typeof AuditQuery> }>('/api/audit', { schema: { querystring: AuditQuery } }, async (request) => {
    const me = requirePrincipal(request);
    const schools = auditSchools(me);
    if (schools.length === 0) throw new ForbiddenError();
    const { limit } = request.query;
    return { entries: await listAudit(app.database.db, schools, limit) };
  });
}
