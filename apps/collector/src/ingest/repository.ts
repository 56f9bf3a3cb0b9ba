import { deviceCredentials, devices, secretMatches, type HavenDatabase } from '@haven/db';
import type { AgentEvent } from '@haven/protocol';
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
 * events are stored ungrouped (incident_id null); the TriageWorker groups them next.
 *
 * The batch travels as a single JSON parameter that PostgreSQL unpacks with
 * jsonb_to_recordset: binding twelve parameters per row cost the collector more CPU than
 * PostgreSQL spent storing them (see apps/collector/README.md, "Where the time goes").
 */
export async function storeEvents(
  db: HavenDatabase,
  device: { id: string; schoolId: string },
  batch: readonly AgentEvent[],
): Promise<StoreResult> {
  const rows = await queryRows<{ stored: number }>(
    db,
    sql`
    with inserted as (
      insert into events (id, device_id, school_id, occurred_at, source, category, severity, rule_ids, evidence, app, window_title, os_user, trigger_key)
      select e.id, ${device.id}::uuid, ${device.schoolId}::uuid, e."occurredAt", e.source, e.category, e.severity,
             array(select jsonb_array_elements_text(e."ruleIds")), e.evidence, e.app, e."windowTitle", e."osUser",
             e.category || ':' || lower(regexp_replace(btrim(e.evidence->>'match'), '[[:space:]]+', ' ', 'g'))
      from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as e(
        id uuid, "occurredAt" timestamptz, source text, category text, severity smallint,
        "ruleIds" jsonb, evidence jsonb, app text, "windowTitle" text, "osUser" text)
      on conflict (id) do nothing
      returning 1
    )
    select count(*)::int as stored from inserted`,
  );
  const stored = Number(rows[0]?.stored ?? 0);
  return { stored, duplicates: batch.length - stored };
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
