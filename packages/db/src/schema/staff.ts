import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
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
  /**
   * The TOTP secret, encrypted with the operator's key (`v1:` AES-256-GCM, see the collector's
   * auth/secret-box.ts); a plain base32 secret from before encryption until the collector
   * first starts with a key. Only used once totpEnabled is true.
   */
  totpSecret: text(),
  totpEnabled: boolean().notNull().default(false),
  /** The 30-second step of the last code accepted: a code of that step or earlier is refused (no replay). */
  totpLastStep: integer(),
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

/**
 * Sign-in and enrolment attempts, for limits that survive a restart and hold across collectors
 * on one database. `account` is the SHA-256 of the normalised e-mail address (never the text a
 * person typed); `address` is the client address as the trusted proxy saw it. Failures are kept
 * for the limit's window, successes (the addresses an account is known to sign in from) for 90
 * days.
 */
export const authAttempts = pgTable(
  'auth_attempts',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
    purpose: text().$type<'sign_in' | 'enrolment'>().notNull(),
    succeeded: boolean().notNull(),
    account: text(),
    address: text().notNull(),
  },
  (t) => [
    index().on(t.purpose, t.address, t.at),
    index().on(t.purpose, t.account, t.at),
    index().on(t.at),
    check('auth_attempts_purpose_ck', sql`${t.purpose} in ('sign_in', 'enrolment')`),
  ],
);
