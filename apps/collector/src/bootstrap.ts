import { schools, type HavenDatabase } from '@haven/db';
import { randomBytes } from 'node:crypto';
import { staff } from '@haven/db';
import { createEnrollmentToken, createSchool, type NewToken } from './enrollment/repository';
import { createStaff } from './staff/repository';

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

export const FIRST_ADMIN_EMAIL = 'admin@haven.local';

/**
 * On a database with no staff: creates the first administrator — head teacher (sees every
 * incident and the audit log) and technician (devices) of the first school — with a random
 * password, returned so it can be shown once. Other accounts are made with
 * `haven-collector staff create`.
 */
export async function bootstrapAdmin(db: HavenDatabase): Promise<{ email: string; password: string } | null> {
  const existing = await db.select({ id: staff.id }).from(staff).limit(1);
  if (existing.length > 0) return null;
  const [school] = await db.select({ id: schools.id }).from(schools).limit(1);
  if (!school) return null;
  const password = randomBytes(15).toString('base64url');
  await createStaff(db, {
    email: FIRST_ADMIN_EMAIL,
    displayName: 'Administrator',
    password,
    roles: [
      { schoolId: school.id, role: 'head' },
      { schoolId: school.id, role: 'technician' },
    ],
  });
  return { email: FIRST_ADMIN_EMAIL, password };
}
