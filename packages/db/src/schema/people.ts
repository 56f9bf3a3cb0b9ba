import { sql } from 'drizzle-orm';
import { boolean, check, index, jsonb, pgTable, smallint, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { schools } from './schools';

/**
 * A pupil or member of staff as the school's directory (its MIS export) knows them, found by
 * the OS user name an agent reports. Who is staff decides where an incident goes (the head,
 * not the DSL). Leavers keep their row (`leftAt`) so that history stays attributed.
 */
export const people = pgTable(
  'people',
  {
    id: uuid().primaryKey().defaultRandom(),
    schoolId: uuid()
      .notNull()
      .references(() => schools.id, { onDelete: 'cascade' }),
    /** UPN or admission number from the MIS; the import's key. null for people added by hand. */
    externalId: text(),
    /** Lower case, as matched against events' osUser. */
    osUsername: text().notNull(),
    forename: text().notNull().default(''),
    surname: text().notNull().default(''),
    displayName: text().notNull(),
    kind: text().$type<'pupil' | 'staff'>().notNull(),
    /** As the MIS writes it: "Reception", "1" … "13"; null for staff. */
    yearGroup: text(),
    className: text(),
    /** Special educational needs and disabilities. */
    send: boolean().notNull().default(false),
    lookedAfter: boolean().notNull().default(false),
    /** Marked vulnerable by the DSL, whatever the MIS says. */
    vulnerableManual: boolean().notNull().default(false),
    leftAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique().on(t.schoolId, t.osUsername),
    unique('people_school_external_id_unique').on(t.schoolId, t.externalId),
    check('people_kind_ck', sql`${t.kind} in ('pupil', 'staff')`),
  ],
);

/**
 * An OS account several pupils use (a class logon such as "class5b"): its events are
 * attributed to a device, room and time, shown as "shared logon", until the DSL names the pupil.
 */
export const sharedLogons = pgTable(
  'shared_logons',
  {
    id: uuid().primaryKey().defaultRandom(),
    schoolId: uuid()
      .notNull()
      .references(() => schools.id, { onDelete: 'cascade' }),
    osUsername: text().notNull(),
    label: text().notNull().default(''),
  },
  (t) => [unique().on(t.schoolId, t.osUsername)],
);

export type RetentionRules = {
  /** Days a closed incident is kept after closing, by outcome; null: kept until erased by hand. */
  false_positive: number | null;
  no_further_action: number | null;
  resolved: number | null;
  /** Closed incidents with a referral (MASH, police, IWF, CEOP, LADO). */
  referred: number | null;
};

export const DEFAULT_RETENTION: RetentionRules = {
  false_positive: 30,
  no_further_action: 365,
  resolved: 365 * 3,
  referred: null,
};

/** What the collector tells the school's agents, once the school has chosen it. */
export type AgentPolicySettings = {
  threshold: number;
  sources: { title: boolean; keys: boolean; screen: boolean };
  quietHours: Array<{ start: string; end: string }>;
  /** Languages screen text is read in (Tesseract codes, 1–4); absent: English only. */
  ocrLanguages?: string[];
};

/** A school's own choices: how much a vulnerable pupil's incidents are raised, how long data is kept. */
export const schoolSettings = pgTable('school_settings', {
  schoolId: uuid()
    .primaryKey()
    .references(() => schools.id, { onDelete: 'cascade' }),
  vulnerableSeverityStep: smallint().notNull().default(1),
  retention: jsonb().$type<RetentionRules>().notNull().default(DEFAULT_RETENTION),
  /** null: the collector pushes no policy and each device keeps its own policy file. */
  agentPolicy: jsonb().$type<AgentPolicySettings>(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/** What is left of a purged or erased incident: enough to prove it existed and went on time. */
export const tombstones = pgTable(
  'tombstones',
  {
    id: uuid().primaryKey().defaultRandom(),
    schoolId: uuid()
      .notNull()
      .references(() => schools.id, { onDelete: 'cascade' }),
    incidentId: uuid().notNull(),
    category: text().notNull(),
    severity: smallint().notNull(),
    outcome: text(),
    eventCount: smallint().notNull(),
    firstSeenAt: timestamp({ withTimezone: true }).notNull(),
    closedAt: timestamp({ withTimezone: true }),
    /** 'retention:false_positive' … or 'erasure'. */
    reason: text().notNull(),
    removedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.schoolId, t.removedAt)],
);
