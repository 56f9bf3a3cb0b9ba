import { deviceCredentials, devices, events, secretMatches, type HavenDatabase } from '@haven/db';
import type { AgentEvent } from '@haven/protocol';
import { eq } from 'drizzle-orm';

export type StoreResult = { stored: number; duplicates: number };

/**
 * Stores a validated batch with one INSERT … ON CONFLICT (id) DO NOTHING. One statement is
 * one transaction: when this resolves every row is committed, when it rejects none is.
 */
export async function storeEvents(
  db: HavenDatabase,
  device: { id: string; schoolId: string },
  batch: readonly AgentEvent[],
): Promise<StoreResult> {
  const rows = batch.map((e) => ({
    id: e.id,
    deviceId: device.id,
    schoolId: device.schoolId,
    occurredAt: new Date(e.occurredAt),
    source: e.source,
    category: e.category,
    severity: e.severity,
    ruleIds: e.ruleIds,
    evidence: e.evidence,
    app: e.app,
    windowTitle: e.windowTitle,
    osUser: e.osUser,
  }));
  const inserted = await db.insert(events).values(rows).onConflictDoNothing({ target: events.id }).returning({ id: events.id });
  return { stored: inserted.length, duplicates: batch.length - inserted.length };
}

export type AuthOutcome =
  | { ok: true; device: { id: string; schoolId: string } }
  | { ok: false; reason: 'bad-credential' | 'device-revoked' };

/** Checks a device id and secret against the stored hashes. */
export async function authenticateDevice(db: HavenDatabase, deviceId: string, secret: string): Promise<AuthOutcome> {
  const rows = await db
    .select({
      schoolId: devices.schoolId,
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
  return { ok: true, device: { id: deviceId, schoolId: match.schoolId } };
}

/** True while the device may still send (not revoked). */
export async function deviceIsActive(db: HavenDatabase, deviceId: string): Promise<boolean> {
  const [row] = await db.select({ revokedAt: devices.revokedAt }).from(devices).where(eq(devices.id, deviceId));
  return !!row && row.revokedAt === null;
}
