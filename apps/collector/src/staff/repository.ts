import { ROLES, schools, staff, staffRoles, type HavenDatabase, type Role } from '@haven/db';
import { eq } from 'drizzle-orm';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../auth/passwords';
import type { Principal } from '../auth/access';
import { codePoints } from '../input/schemas';

export type NewStaff = { email: string; displayName: string; password: string; roles: { schoolId: string; role: Role }[] };

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function createStaff(db: HavenDatabase, input: NewStaff): Promise<{ id: string }> {
  if (codePoints(input.password) < MIN_PASSWORD_LENGTH) throw new Error(`a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  for (const r of input.roles) if (!ROLES.includes(r.role)) throw new Error(`unknown role ${r.role}`);
  const passwordHash = await hashPassword(input.password);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(staff)
      .values({ email: normaliseEmail(input.email), displayName: input.displayName, passwordHash })
      .returning({ id: staff.id });
    if (input.roles.length > 0) await tx.insert(staffRoles).values(input.roles.map((r) => ({ staffId: row!.id, schoolId: r.schoolId, role: r.role })));
    return { id: row!.id };
  });
}

export async function grantRole(db: HavenDatabase, staffId: string, schoolId: string, role: Role): Promise<void> {
  await db.insert(staffRoles).values({ staffId, schoolId, role }).onConflictDoNothing();
}

export async function loadPrincipal(db: HavenDatabase, staffId: string): Promise<Principal | null> {
  const [person] = await db.select().from(staff).where(eq(staff.id, staffId));
  if (!person || person.disabledAt) return null;
  const roles = await db
    .select({ schoolId: staffRoles.schoolId, schoolName: schools.name, role: staffRoles.role })
    .from(staffRoles)
    .innerJoin(schools, eq(schools.id, staffRoles.schoolId))
    .where(eq(staffRoles.staffId, staffId));
  return { staffId: person.id, email: person.email, displayName: person.displayName, totpEnabled: person.totpEnabled, roles };
}
