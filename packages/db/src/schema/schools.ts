import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** A multi-academy trust: schools that share an administrator (who sees aggregates only). */
export const trusts = pgTable('trusts', {
  id: uuid().primaryKey().defaultRandom(),
  name: text().notNull(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export const schools = pgTable('schools', {
  id: uuid().primaryKey().defaultRandom(),
  name: text().notNull(),
  /** null: a stand-alone school. */
  trustId: uuid().references(() => trusts.id, { onDelete: 'set null' }),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/**
 * A school's enrollment token: an installer carries it, an agent trades it once for a device
 * credential. Only a SHA-256 of the token is kept (tokens are 192-bit random, so a fast hash
 * is enough; see docs/adr/0004-credentials.md).
 */
export const enrollmentTokens = pgTable(
  'enrollment_tokens',
  {
    id: uuid().primaryKey().defaultRandom(),
    schoolId: uuid()
      .notNull()
      .references(() => schools.id, { onDelete: 'cascade' }),
    tokenHash: text().notNull().unique(),
    label: text().notNull().default(''),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    revokedAt: timestamp({ withTimezone: true }),
    /** null: any number of devices may enroll with it until it expires. */
    maxUses: integer(),
    useCount: integer().notNull().default(0),
  },
  (t) => [
    index().on(t.schoolId),
    check('enrollment_tokens_use_count_ck', sql`${t.useCount} >= 0 and (${t.maxUses} is null or ${t.useCount} <= ${t.maxUses})`),
  ],
);
