import type { HavenDatabase } from '@haven/db';
import { sql, type SQL } from 'drizzle-orm';

/** Rows of a raw query: postgres-js answers with an array, PGlite with `{ rows }`. */
export async function queryRows<T>(db: HavenDatabase, query: SQL): Promise<T[]> {
  const result = await db.execute(query);
  return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as T[];
}

/** A timestamp from a raw query: a Date from PGlite, a string from postgres-js. */
export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

/** A nullable timestamp from a raw query as ISO 8601. */
export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : toDate(value).toISOString();
}

/** Any UUID, as ids arrive in paths and bodies (checked before they reach SQL). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A timestamp parameter for a raw query. postgres-js (as drizzle sets it up) does not
 * serialise Date parameters in raw SQL, so they travel as ISO strings.
 */
export function ts(value: Date): SQL {
  return sql`${value.toISOString()}::timestamptz`;
}
