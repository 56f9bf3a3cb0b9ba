import { classifyDatabaseError, deviceCredentials, devices, secretMatches, type HavenDatabase } from '@haven/db';
import { isBelievableEventTime, parseProtocolTime, type AgentEvent } from '@haven/protocol';
import { and, eq, sql } from 'drizzle-orm';
import { queryRows } from '../db-rows';

export type StoreResult = { stored: number; duplicates: number };

/** An event as stored, with what triage needs to group it. */
export type StoredEvent = {
  id: string;
  deviceId: string;
  occurredAt: Date;
  category: string;
  severity: number;
  osUser: string;
  triggerKey: string;
};

/**
 * Stores a validated batch with one INSERT … ON CONFLICT (id) DO NOTHING. One statement is
 * one transaction: when this resolves every row is committed, when it rejects none is. The
 * events are stored ungrouped (incident_id null); the TriageWorker groups them next. An event
 * without an explanation (an older agent), or with an empty one, stores null.
 *
 * The batch travels as a single JSON parameter that PostgreSQL unpacks with
 * jsonb_to_recordset: binding twelve parameters per row cost the collector more CPU than
 * PostgreSQL spent storing them (see apps/collector/README.md, "Where the time goes").
 */
export async function storeEvents(
  db: HavenDatabase,
  device: { id: string; schoolId: string },
  batch: readonly AgentEvent[],
  now = Date.now(),
): Promise<StoreResult> {
  const rows = await queryRows<{ stored: number }>(
    db,
    sql`
    with inserted as (
      insert into events (id, device_id, school_id, occurred_at, reported_occurred_at, source, category, severity, rule_ids, evidence, explanation, app, window_title, url, os_user, trigger_key)
      select e.id, ${device.id}::uuid, ${device.schoolId}::uuid, e."occurredAt", e."reportedOccurredAt", e.source, e.category, e.severity,
             array(select jsonb_array_elements_text(e."ruleIds")), e.evidence, nullif(e.explanation, '[]'::jsonb), e.app, e."windowTitle", e.url, e."osUser",
             e.category || ':' || lower(regexp_replace(btrim(e.evidence->>'match'), '[[:space:]]+', ' ', 'g'))
      from jsonb_to_recordset(${JSON.stringify(withBelievableTimes(batch, now))}::jsonb) as e(
        id uuid, "occurredAt" timestamptz, "reportedOccurredAt" text, source text, category text, severity smallint,
        "ruleIds" jsonb, evidence jsonb, explanation jsonb, app text, "windowTitle" text, url text, "osUser" text)
      on conflict (id) do nothing
      returning 1
    )
    select count(*)::int as stored from inserted`,
  );
  const stored = Number(rows[0]?.stored ?? 0);
  return { stored, duplicates: batch.length - stored };
}

class ProbeRollback extends Error {
  constructor() {
    super('probe rolled back');
    this.name = 'ProbeRollback';
  }
}

/**
 * After a batch failed with a data error (a value the database refuses, SQLSTATE class 22):
 * the index of the first event the database refuses on its own, found by storing each event
 * in a transaction that is then rolled back. Nothing is kept. Null when none fails alone.
 * Only a defect gets here — validation makes agent data storable — so the cost (one
 * transaction per event) is paid rarely.
 */
export async function locateUnstorable(
  db: HavenDatabase,
  device: { id: string; schoolId: string },
  batch: readonly AgentEvent[],
  now = Date.now(),
): Promise<number | null> {
  for (let i = 0; i < batch.length; i++) {
    try {
      await db.transaction(async (tx) => {
        await storeEvents(tx as unknown as HavenDatabase, device, [batch[i]!], now);
        throw new ProbeRollback();
      });
    } catch (err) {
      if (err instanceof ProbeRollback) continue;
      if (classifyDatabaseError(err) === 'data') return i;
      throw err;
    }
  }
  return null;
}

type Timed = AgentEvent & { reportedOccurredAt?: string };

/**
 * A device clock that is wrong (a flat CMOS battery says 1970 or 2000; a pupil sets 2099 to
 * get round something) must cost neither the event nor the school's grouping: an event whose
 * time is before 2000 or more than a day ahead of the collector is stored with the time it was
 * received, and the device's own time is kept beside it (docs/protocol.md §6, rule 8).
 */
export function withBelievableTimes(batch: readonly AgentEvent[], now: number): readonly Timed[] {
  let out: Timed[] | null = null;
  batch.forEach((event, i) => {
    const at = parseProtocolTime(event.occurredAt);
    if (at !== null && isBelievableEventTime(at, now)) return;
    out ??= [...batch];
    out[i] = { ...event, occurredAt: new Date(now).toISOString(), reportedOccurredAt: event.occurredAt };
  });
  return out ?? batch;
}

export type AuthOutcome =
  | { ok: true; device: { id: string; schoolId: string }; credentialId: string }
  | { ok: false; reason: 'bad-credential' | 'device-revoked' };

/** Checks a device id and secret against the stored hashes. */
export async function authenticateDevice(db: HavenDatabase, deviceId: string, secret: string): Promise<AuthOutcome> {
  const rows = await db
    .select({
      schoolId: devices.schoolId,
      credentialId: deviceCredentials.id,
      deviceRevokedAt: devices.revokedAt,
      secretHash: deviceCredentials.secretHash,
      credentialRevokedAt: deviceCredentials.revokedAt,
    })
    .from(devices)
    .innerJoin(deviceCredentials, eq(deviceCredentials.deviceId, devices.id))
    .where(eq(devices.id, deviceId));
  const match = rows.find((r) => secretMatches(secret, r.secretHash));
  if (!match) return { ok: false, reason: 'bad-credential' };
  if (match.deviceRevokedAt || match.credentialRevokedAt) return { ok: false, reason: 'device-revoked' };
  return { ok: true, device: { id: deviceId, schoolId: match.schoolId }, credentialId: match.credentialId };
}

/** True while neither the device nor the credential it authenticated with is revoked. */
export async function deviceIsActive(db: HavenDatabase, deviceId: string, credentialId: string): Promise<boolean> {
  const [row] = await db
    .select({ deviceRevokedAt: devices.revokedAt, credentialRevokedAt: deviceCredentials.revokedAt })
    .from(devices)
    .innerJoin(deviceCredentials, eq(deviceCredentials.deviceId, devices.id))
    .where(and(eq(devices.id, deviceId), eq(deviceCredentials.id, credentialId)));
  return !!row && row.deviceRevokedAt === null && row.credentialRevokedAt === null;
}
