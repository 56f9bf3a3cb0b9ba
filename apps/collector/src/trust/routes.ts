import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { requirePrincipal } from '../auth/plugin';
import { queryRows } from '../db-rows';
import { ForbiddenError } from '../errors';

/**
 * Trust-wide aggregates for a trust administrator: counts per school, category and severity,
 * never names or content. Opening a school's incidents needs a role at that school.
 */
export async function trustRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/trust/overview', async (request) => {
    const me = requirePrincipal(request);
    const adminSchools = me.roles.filter((r) => r.role === 'trust_admin').map((r) => r.schoolId);
    if (adminSchools.length === 0) throw new ForbiddenError();
    const schools = await queryRows<{ id: string; name: string; trust_id: string | null; trust_name: string | null }>(
      app.database.db,
      sql`select s.id, s.name, s.trust_id, t.name as trust_name from schools s left join trusts t on t.id = s.trust_id
          where s.id in ${adminSchools}
             or s.trust_id in (select trust_id from schools where id in ${adminSchools} and trust_id is not null)
          order by s.name`,
    );
    const ids = schools.map((s) => s.id);
    const counts = await queryRows<{ school_id: string; category: string; severity: number; status: string; n: number }>(
      app.database.db,
      sql`select school_id, category, severity, status, count(*)::int as n from incidents
          where school_id in ${ids} and merged_into_id is null group by school_id, category, severity, status`,
    );
    return {
      schools: schools.map((s) => {
        const mine = counts.filter((c) => c.school_id === s.id);
        const open = mine.filter((c) => c.status !== 'closed');
        return {
          id: s.id,
          name: s.name,
          trust: s.trust_name,
          openIncidents: open.reduce((n, c) => n + Number(c.n), 0),
          openBySeverity: [0, 1, 2, 3, 4, 5].map((sev) => open.filter((c) => Number(c.severity) === sev).reduce((n, c) => n + Number(c.n), 0)),
          byCategory: Object.fromEntries(
            [...new Set(mine.map((c) => c.category))].map((cat) => [cat, mine.filter((c) => c.category === cat).reduce((n, c) => n + Number(c.n), 0)]),
          ),
        };
      }),
    };
  });
}
