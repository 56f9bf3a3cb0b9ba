import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, smallint, text, timestamp, unique, uuid, date } from 'drizzle-orm/pg-core';
import { people } from './people';
import { schools } from './schools';
import { staff } from './staff';

export const STATUSES = ['new', 'in_review', 'escalated', 'closed'] as const;
export type IncidentStatus = (typeof STATUSES)[number];

/**
 * Events grouped for the DSL: one person, one category, events close together in time (a
 * `person` incident), or one trigger on many devices of a school at once (a `cluster`, most
 * likely lesson content). `version` rises with every change, for optimistic concurrency.
 */
export const incidents = pgTable(
  'incidents',
  {
    id: uuid().primaryKey().defaultRandom(),
    schoolId: uuid()
      .notNull()
      .references(() => schools.id, { onDelete: 'cascade' }),
    kind: text().$type<'person' | 'cluster'>().notNull(),
    /** The OS user name (lower case) for a person incident; the trigger for a cluster. */
    subjectKey: text().notNull(),
    personId: uuid().references(() => people.id, { onDelete: 'set null' }),
    subjectKind: text().$type<'pupil' | 'staff' | 'shared' | 'unknown'>().notNull(),
    /** For a shared logon: the device it was used on (attribution is by device, room and time). */
    deviceId: uuid(),
    /** How much the severity was raised because the pupil is vulnerable (SEND, looked after, flagged). */
    vulnerabilityStep: smallint().notNull().default(0),
    /** category + ':' + the matched words, for clusters. */
    triggerKey: text(),
    category: text().notNull(),
    severity: smallint().notNull(),
    status: text().$type<IncidentStatus>().notNull().default('new'),
    routedTo: text().$type<'dsl' | 'head'>().notNull(),
    eventCount: integer().notNull().default(0),
    deviceCount: integer().notNull().default(0),
    firstSeenAt: timestamp({ withTimezone: true }).notNull(),
    lastSeenAt: timestamp({ withTimezone: true }).notNull(),
    involvement: text().array().notNull().default(sql`'{}'::text[]`),
    activityType: text(),
    concernLevel: text(),
    actions: text().array().notNull().default(sql`'{}'::text[]`),
    outcome: text(),
    assigneeId: uuid().references(() => staff.id, { onDelete: 'set null' }),
    acknowledgedAt: timestamp({ withTimezone: true }),
    acknowledgedBy: uuid().references(() => staff.id, { onDelete: 'set null' }),
    /** When the urgent alert (severity ≥ 4) went out; null: not (yet) sent. */
    alertedAt: timestamp({ withTimezone: true }),
    /** When the unacknowledged alert was escalated to the deputy. */
    escalatedAt: timestamp({ withTimezone: true }),
    /** A person incident absorbed by a cluster: hidden from the queue, kept for history. */
    mergedIntoId: uuid(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    closedAt: timestamp({ withTimezone: true }),
    version: integer().notNull().default(1),
  },
  (t) => [
    index().on(t.schoolId, t.status),
    index().on(t.schoolId, t.subjectKey, t.category, t.lastSeenAt),
    index().on(t.schoolId, t.triggerKey, t.lastSeenAt),
    check('incidents_severity_ck', sql`${t.severity} between 0 and 5`),
    check('incidents_kind_ck', sql`${t.kind} in ('person', 'cluster')`),
    check('incidents_status_ck', sql`${t.status} in ('new', 'in_review', 'escalated', 'closed')`),
    check('incidents_routed_ck', sql`${t.routedTo} in ('dsl', 'head')`),
  ],
);

export const incidentNotes = pgTable(
  'incident_notes',
  {
    id: uuid().primaryKey().defaultRandom(),
    incidentId: uuid()
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
    authorId: uuid().references(() => staff.id, { onDelete: 'set null' }),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
    text: text().notNull(),
  },
  (t) => [index().on(t.incidentId, t.at)],
);

/** Who changed what when. `actorId` null: Haven itself (grouping, severity, alerts). */
export const incidentHistory = pgTable(
  'incident_history',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    incidentId: uuid()
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
    actorId: uuid().references(() => staff.id, { onDelete: 'set null' }),
    field: text().notNull(),
    fromValue: jsonb(),
    toValue: jsonb(),
  },
  (t) => [index().on(t.incidentId, t.id)],
);

/**
 * Every reveal and export of evidence, and other sensitive reads. Append-only: a trigger
 * refuses UPDATE and DELETE (migration 0002), so the actor's name is copied in rather than
 * referenced with a cascading key.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
    actorId: uuid(),
    actorName: text().notNull(),
    schoolId: uuid(),
    action: text().notNull(),
    incidentId: uuid(),
    reason: text(),
  },
  (t) => [index().on(t.schoolId, t.at), index().on(t.incidentId)],
);

/** Each alert, escalation and digest sent (or tried), by channel and recipient. */
export const alertDeliveries = pgTable(
  'alert_deliveries',
  {
    id: uuid().primaryKey().defaultRandom(),
    schoolId: uuid()
      .notNull()
      .references(() => schools.id, { onDelete: 'cascade' }),
    incidentId: uuid().references(() => incidents.id, { onDelete: 'cascade' }),
    kind: text().$type<'alert' | 'escalation' | 'digest'>().notNull(),
    channel: text().$type<'email' | 'webhook'>().notNull(),
    recipient: text().notNull(),
    ok: integer().notNull(),
    error: text(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.incidentId), index().on(t.schoolId, t.at)],
);

/** One row per school and week once its digest has gone, so a restart never sends it twice. */
export const digestRuns = pgTable(
  'digest_runs',
  {
    schoolId: uuid()
      .notNull()
      .references(() => schools.id, { onDelete: 'cascade' }),
    weekStart: date({ mode: 'string' }).notNull(),
    sentAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    itemCount: integer().notNull(),
  },
  (t) => [unique().on(t.schoolId, t.weekStart)],
);
