import { sql } from 'drizzle-orm';
import { boolean, check, index, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { schools } from './schools';

export const ROLES = ['dsl', 'deputy_dsl', 'head', 'technician', 'trust_admin'] as const;
export type Role = (typeof ROLES)[number];

/** A member of staff who signs in to the dashboard. Passwords are kept as argon2id hashes. */
export const staff = pgTable('staff', {
  id: uuid().primaryKey().defaultRandom(),
  /** Lower case; unique. */
  email: text().notNull().unique(),
  displayName: text().notNull(),
  passwordHash: text().notNull(),
  /** Base32 TOTP secret; only used once totpEnabled is true. */
  totpSecret: text(),
  totpEnabled: boolean().notNull().default(false),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  disabledAt: timestamp({ withTimezone: true }),
});

/** What a member of staff may do, per school. */
export const staffRoles = pgTable(
  'staff_roles',
  {
    id: uuid().primaryKey().defaultRandom(),
    staffId: uuid()
      .notNull()
      .references(() => staff.id, { onDelete: 'cascade' }),
    schoolId: uuid()
      .notNull()
      .references(() => schools.id, { onDelete: 'cascade' }),
    role: text().$type<Role>().notNull(),
  },
  (t) => [
    unique().on(t.staffId, t.schoolId, t.role),
    index().on(t.schoolId, t.role),
    check('staff_roles_role_ck', sql`${t.role} in ('dsl', 'deputy_dsl', 'head', 'technician', 'trust_admin')`),
  ],
);

/** A signed-in browser. `id` is the SHA-256 of the cookie's token, never the token itself. */
export const staffSessions = pgTable(
  'staff_sessions',
  {
    id: text().primaryKey(),
    staffId: uuid()
      .notNull()
      .references(() => staff.id, { onDelete: 'cascade' }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index().on(t.staffId)],
);
