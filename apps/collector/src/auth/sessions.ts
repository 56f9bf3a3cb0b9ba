import { createHash } from 'node:crypto';
import type { HavenDatabase } from '@haven/db';
import { sql } from 'drizzle-orm';
import { queryRows, ts } from '../db-rows';

/** A session ends 12 hours after sign-in, or after an hour without use. */
export const SESSION_MAX_MS = 12 * 3600_000;
export const SESSION_IDLE_MS = 3600_000;

/** Sessions are stored by the SHA-256 of the cookie's token, never the token itself. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * Which of these sessions are still alive: not signed out or ended by a password reset (their
 * row is gone), not past their 12 hours, not idle for an hour, and their account not disabled.
 */
export async function liveSessionIds(db: HavenDatabase, ids: string[], now = new Date()): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await queryRows<{ id: string }>(
    db,
    sql`select s.id from staff_sessions s join staff st on st.id = s.staff_id
        where s.id in ${ids} and s.expires_at > ${ts(now)} and s.last_seen_at > ${ts(new Date(now.getTime() - SESSION_IDLE_MS))}
          and st.disabled_at is null`,
  );
  return new Set(rows.map((r) => r.id));
}
