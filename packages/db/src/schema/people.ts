import { sql } from 'drizzle-orm';
import { check, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { schools } from './schools';

/**
 * A pupil or member of staff as the school's directory knows them, found by the OS user name
 * an agent reports. Who is staff decides where an incident goes (the head, not the DSL).
 */
export const people = pgTable(
  'people',
  {
    id: uuid().primaryKey().defaultRandom(),
    schoolId: uuid()
      .notNull()
      .references(() => schools.id, { onDelete: 'cascade' }),
    /** Lower case, as matched against events' osUser. */
    osUsername: text().notNull(),
    displayName: text().notNull(),
    kind: text().$type<'pupil' | 'staff'>().notNull(),
    yearGroup: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique().on(t.schoolId, t.osUsername), check('people_kind_ck', sql`${t.kind} in ('pupil', 'staff')`)],
);
