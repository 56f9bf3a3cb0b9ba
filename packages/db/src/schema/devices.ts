import { index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { enrollmentTokens, schools } from './schools';

/** Health of each capture source as last reported in a heartbeat. */
export type DeviceHealth = Record<string, { state: string; detail?: string; lastCaptureAt?: string | null }>;

/** The device's per-user session parts as last reported (protocol §5.6 `sessions`). */
export type DeviceSessions = { osUser: string; state: 'running' | 'ended' | 'stopped'; since: string; detail?: string }[];

export const devices = pgTable(
  'devices',
  {
    id: uuid().primaryKey().defaultRandom(),
    schoolId: uuid()
      .notNull()
      .references(() => schools.id, { onDelete: 'cascade' }),
    hostname: text().notNull(),
    osPlatform: text().notNull(),
    osRelease: text().notNull().default(''),
    osArch: text(),
    agentVersion: text().notNull(),
    enrolledAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    enrollmentTokenId: uuid().references(() => enrollmentTokens.id, { onDelete: 'set null' }),
    lastSeenAt: timestamp({ withTimezone: true }),
    health: jsonb().$type<DeviceHealth>().notNull().default({}),
    outboxDepth: integer().notNull().default(0),
    droppedEvents: integer().notNull().default(0),
    /** Null until the agent reports session parts (older agents never do). */
    sessions: jsonb().$type<DeviceSessions>(),
    /** When a session part last stopped while its user was still logged in: a tamper signal. */
    lastTamperAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
    /** Where the device is (e.g. "Room 12"), set by the technician: shared logons are attributed by it. */
    room: text(),
  },
  (t) => [index().on(t.schoolId)],
);

/**
 * A device's secret, kept only as a SHA-256 hash. More than one row per device allows
 * rotation; a revoked row never authenticates again.
 */
export const deviceCredentials = pgTable(
  'device_credentials',
  {
    id: uuid().primaryKey().defaultRandom(),
    deviceId: uuid()
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    secretHash: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp({ withTimezone: true }),
  },
  (t) => [index().on(t.deviceId)],
);
