import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { devices } from './devices';
import { incidents } from './triage';
import { schools } from './schools';

export type EvidenceRecord = { match: string; before: string; after: string };

/**
 * Why the scorer on the device flagged the event, one entry per rule (the protocol's
 * explanation, docs/protocol.md §5.4): rule ids, names and numbers, never captured text.
 */
export type ExplanationRecord = {
  ruleId: string;
  category: string;
  kind: 'term' | 'pair' | 'frame' | 'learned';
  base: number;
  adjustments: { name: string; delta: number }[];
  severity: number;
  classes?: string[];
  needs?: string[];
  corroboratedBy?: string;
  /** learned: the model's probability for the category, in per cent. */
  confidence?: number;
};

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
    /**
     * The device's own time when it was not believable (before 2000, or more than a day ahead
     * of the collector): occurredAt then holds the time the collector received the event
     * (docs/protocol.md §6). Kept as the device sent it, for the technician; null otherwise.
     */
    reportedOccurredAt: text(),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    source: text().notNull(),
    category: text().notNull(),
    severity: smallint().notNull(),
    ruleIds: text().array().notNull(),
    evidence: jsonb().$type<EvidenceRecord>().notNull(),
    /** Null for events from agents that send no explanation (before protocol §5.4 had one). */
    explanation: jsonb().$type<ExplanationRecord[]>(),
    app: text(),
    windowTitle: text(),
    /** A browser window's address (scheme, host, path; no query or fragment); null where the agent gives none (Linux, not a browser, older agents). */
    url: text(),
    osUser: text().notNull(),
    /** category + ':' + the matched words, lower case: the same trigger on many devices is a cluster. */
    triggerKey: text().notNull().default(''),
    incidentId: uuid().references(() => incidents.id, { onDelete: 'set null' }),
    /**
     * Set when grouping this one event failed for a reason of its own (not an outage): it is set
     * aside so that it never blocks the rest of its school, and tried again once at each start.
     */
    groupingFailedAt: timestamp({ withTimezone: true }),
    /** Why, as an SQLSTATE or error name: never content. */
    groupingError: text(),
  },
  (t) => [
    index().on(t.schoolId, t.occurredAt),
    index().on(t.deviceId, t.occurredAt),
    index().on(t.schoolId, t.triggerKey, t.occurredAt),
    index().on(t.incidentId, t.deviceId),
    // What the triage worker looks for: stored, not yet grouped, not set aside.
    index('events_ungrouped_index').on(t.schoolId, t.occurredAt).where(sql`${t.incidentId} is null and ${t.groupingFailedAt} is null`),
    // Events set aside by grouping, counted for the operator.
    index('events_grouping_failed_index').on(t.schoolId).where(sql`${t.groupingFailedAt} is not null`),
    check('events_severity_ck', sql`${t.severity} between 0 and 5`),
    check('events_source_ck', sql`${t.source} in ('title', 'keys', 'screen')`),
  ],
);
