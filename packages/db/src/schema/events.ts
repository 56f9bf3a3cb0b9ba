import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { devices } from './devices';
import { incidents } from './triage';
import { schools } from './schools';

export type EvidenceRecord = { match: string; before: string; after: string };

/**
 * A flagged event as the agent made it. `id` is the device's UUIDv7, so a resent batch
 * inserts nothing twice (ON CONFLICT (id) DO NOTHING).
 */
export const events = pgTable(
  'events',
  {
    id: uuid().primaryKey(),
    deviceId: uuid()
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    schoolId: uuid()
      .notNull()
      .references(() => schools.id, { onDelete: 'cascade' }),
    occurredAt: timestamp({ withTimezone: true }).notNull(),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    source: text().notNull(),
    category: text().notNull(),
    severity: smallint().notNull(),
    ruleIds: text().array().notNull(),
    evidence: jsonb().$type<EvidenceRecord>().notNull(),
    app: text(),
    windowTitle: text(),
    osUser: text().notNull(),
    /** category + ':' + the matched words, lower case: the same trigger on many devices is a cluster. */
    triggerKey: text().notNull().default(''),
    incidentId: uuid().references(() => incidents.id, { onDelete: 'set null' }),
  },
  (t) => [
    index().on(t.schoolId, t.occurredAt),
    index().on(t.deviceId, t.occurredAt),
    index().on(t.schoolId, t.triggerKey, t.occurredAt),
    index().on(t.incidentId, t.deviceId),
    // What the triage worker looks for: stored, not yet grouped.
    index('events_ungrouped_index').on(t.schoolId, t.occurredAt).where(sql`${t.incidentId} is null`),
    check('events_severity_ck', sql`${t.severity} between 0 and 5`),
    check('events_source_ck', sql`${t.source} in ('title', 'keys', 'screen')`),
  ],
);
