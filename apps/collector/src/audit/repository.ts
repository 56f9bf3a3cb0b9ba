import type { HavenDatabase } from '@haven/db';
import { sql } from 'drizzle-orm';
import { queryRows, toDate } from '../db-rows';

export type AuditAction =
  | 'evidence.reveal'
  | 'evidence.export'
  | 'directory.import'
  | 'incident.attribute'
  | 'person.flag'
  | 'subject_access.export'
  | 'erasure'
  | 'retention.purge';

export type AuditEntry = {
  actorId: string | null;
  actorName: string;
  schoolId: string | null;
  action: AuditAction;
  incidentId: string | null;
  reason: string | null;
};

/** Appends to the audit log (the table refuses updates and deletes). */
export async function recordAudit(db: HavenDatabase, entry: AuditEntry): Promise<void> {
  await db.execute(
    sql`insert into audit_log (actor_id, actor_name, school_id, action, incident_id, reason)
        values (${entry.actorId}, ${entry.actorName}, ${entry.schoolId}, ${entry.action}, ${entry.incidentId}, ${entry.reason})`,
  );
}

export async function listAudit(db: HavenDatabase, schoolIds: string[], limit: number) {
  if (schoolIds.length === 0) return [];
  const rows = await queryRows<{ id: number; at: unknown; actor_id: string | null; actor_name: string; action: string; school_id: string | null; incident_id: string | null; reason: string | null }>(
    db,
    sql`select id, at, actor_id, actor_name, action, school_id, incident_id, reason from audit_log
        where school_id in ${schoolIds} order by id desc limit ${limit}`,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    at: toDate(r.at).toISOString(),
    actor: { id: r.actor_id, displayName: r.actor_name },
    action: r.action,
    schoolId: r.school_id,
    incidentId: r.incident_id,
    reason: r.reason,
  }));
}
