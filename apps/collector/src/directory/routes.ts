import { performance } from 'node:perf_hooks';
import type { Role } from '@haven/db';
import { sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../auth/access';
import { requirePrincipal } from '../auth/plugin';
import { text } from '../input/schemas';
import { recordAudit } from '../audit/repository';
import { queryRows, toDate, ts } from '../db-rows';
import { ForbiddenError } from '../errors';
import { schoolPolicy } from './policy';
import { applyDirectory, DirectoryConflictError, validateDirectory, type DirectoryCounts, type DirectoryProblem } from './import';

/** An MIS export of a large school is a few MiB; 8 MiB leaves room. */
export const IMPORT_BODY_LIMIT = 8 * 1024 * 1024;
/** At most this many problems are listed in a refusal (the message counts them all). */
export const MAX_PROBLEMS_LISTED = 1000;
/** How far back /unmatched looks, and at most how many names it lists. */
const UNMATCHED_DAYS = 30;
const UNMATCHED_LIMIT = 1000;

const ImportSchema = z.object({ csv: text(), dryRun: z.boolean().optional() }).strict();
type Import = z.infer<typeof ImportSchema>;

/** The signed-in member of staff, if they hold one of the roles at the school in the path; else 403. */
function requireSchoolRole(request: FastifyRequest, roles: readonly Role[]): { me: Principal; schoolId: string } {
  const me = requirePrincipal(request);
  const { schoolId } = request.params as { schoolId: string };
  if (!me.roles.some((r) => r.schoolId === schoolId && roles.includes(r.role))) throw new ForbiddenError();
  return { me, schoolId };
}

function refuse(request: FastifyRequest, reply: FastifyReply, problems: DirectoryProblem[]) {
  const n = problems.length;
  // Counts only: the problems quote the file, which names pupils.
  request.log.info({ code: 'HAVEN_ERR_DIRECTORY_INVALID', statusCode: 422, problems: n }, 'Directory import refused.');
  return reply.code(422).send({
    error: 'HAVEN_ERR_DIRECTORY_INVALID',
    message: `${n.toLocaleString('en-GB')} problem${n === 1 ? '' : 's'}; nothing was imported`,
    statusCode: 422,
    problems: problems.slice(0, MAX_PROBLEMS_LISTED),
  });
}

/** The school's directory: import from the MIS (a CSV export), and the OS users it does not know. */
export async function directoryRoutes(app: FastifyInstance): Promise<void> {
  const db = app.database.db;

  app.post<{ Body: Import }>('/api/schools/:schoolId/directory/import', { bodyLimit: IMPORT_BODY_LIMIT, schema: { body: ImportSchema } }, async (request, reply) => {
    const { me, schoolId } = requireSchoolRole(request, ['technician', 'head']);
    const body = request.body;
    const dryRun = body.dryRun === true;
    const started = performance.now();
    const checked = validateDirectory(body.csv);
    if (!checked.ok) return refuse(request, reply, checked.errors);
    let counts: DirectoryCounts;
    try {
      counts = await applyDirectory(db, schoolId, checked.rows, new Date(), {
        dryRun,
        onApplied: (tx, c) =>
          recordAudit(tx, {
            actorId: me.staffId,
            actorName: me.displayName,
            schoolId,
            action: 'directory.import',
            incidentId: null,
            reason: `${c.created} created, ${c.updated} updated, ${c.left} left`,
          }),
      });
    } catch (err) {
      if (err instanceof DirectoryConflictError) return refuse(request, reply, err.problems);
      throw err;
    }
    const ms = Math.round(performance.now() - started);
    request.log.info({ schoolId, rows: checked.rows.length, ...counts, dryRun, ms }, dryRun ? 'Directory import checked (dry run).' : 'Directory imported.');
    if (!dryRun) {
      // Connected agents get the new age bands now, not at their next reconnect.
      const policy = await schoolPolicy(db, schoolId).catch(() => null);
      if (policy) app.gateway.broadcast(schoolId, policy);
    }
    return { ...counts, dryRun };
  });

  app.get('/api/schools/:schoolId/directory/unmatched', async (request) => {
    const { schoolId } = requireSchoolRole(request, ['technician', 'head', 'dsl']);
    const since = new Date(Date.now() - UNMATCHED_DAYS * 24 * 3600_000);
    const rows = await queryRows<{ os_user: string; events: number; devices: number; last_seen_at: unknown }>(
      db,
      sql`select lower(e.os_user) as os_user, count(*)::int as events, count(distinct e.device_id)::int as devices, max(e.occurred_at) as last_seen_at
          from events e
          where e.school_id = ${schoolId} and e.occurred_at >= ${ts(since)}
            and not exists (select 1 from people p where p.school_id = e.school_id and p.os_username = lower(e.os_user))
            and not exists (select 1 from shared_logons s where s.school_id = e.school_id and lower(s.os_username) = lower(e.os_user))
          group by lower(e.os_user)
          order by count(*) desc, lower(e.os_user) asc
          limit ${UNMATCHED_LIMIT}`,
    );
    return {
      users: rows.map((r) => ({ osUser: r.os_user, events: Number(r.events), devices: Number(r.devices), lastSeenAt: toDate(r.last_seen_at).toISOString() })),
    };
  });
}
