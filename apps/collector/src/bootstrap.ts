import { schools, type HavenDatabase } from '@haven/db';
import { createEnrollmentToken, createSchool, type NewToken } from './enrollment/repository';

export const FIRST_TOKEN_TTL_MS = 30 * 24 * 3600_000;

/**
 * On an empty database: creates the first school and an enrollment token for it, and returns
 * the token (the only time it can be shown). On a database that has a school: returns null.
 */
export async function bootstrap(db: HavenDatabase, schoolName = 'My school'): Promise<(NewToken & { schoolId: string }) | null> {
  const existing = await db.select({ id: schools.id }).from(schools).limit(1);
  if (existing.length > 0) return null;
  const school = await createSchool(db, schoolName);
  const token = await createEnrollmentToken(db, { schoolId: school.id, label: 'first token', ttlMs: FIRST_TOKEN_TTL_MS });
  return { ...token, schoolId: school.id };
}
