import { and, eq, isNull, sql } from 'drizzle-orm';
import {
  deviceCredentials,
  devices,
  enrollmentTokens,
  hashSecret,
  newDeviceSecret,
  newEnrollmentToken,
  schools,
  type HavenDatabase,
} from '@haven/db';
import type { EnrollRequest } from '@haven/protocol';

export type EnrollOutcome =
  | { ok: true; deviceId: string; schoolId: string; deviceSecret: string }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' | 'exhausted' };

export async function createSchool(db: HavenDatabase, name: string): Promise<{ id: string; name: string }> {
  const [row] = await db.insert(schools).values({ name }).returning({ id: schools.id, name: schools.name });
  return row!;
}

export type NewToken = { id: string; token: string; expiresAt: Date };

/** Makes an enrollment token for a school. The token itself is returned once and not stored. */
export async function createEnrollmentToken(
  db: HavenDatabase,
  opts: { schoolId: string; label?: string; ttlMs?: number; expiresAt?: Date; maxUses?: number | null },
): Promise<NewToken> {
  const token = newEnrollmentToken();
  const expiresAt = opts.expiresAt ?? new Date(Date.now() + (opts.ttlMs ?? 30 * 24 * 3600_000));
  const [row] = await db
    .insert(enrollmentTokens)
    .values({
      schoolId: opts.schoolId,
      tokenHash: hashSecret(token),
      label: opts.label ?? '',
      expiresAt,
      maxUses: opts.maxUses ?? null,
    })
    .returning({ id: enrollmentTokens.id });
  return { id: row!.id, token, expiresAt };
}

export async function revokeEnrollmentToken(db: HavenDatabase, tokenId: string): Promise<boolean> {
  const rows = await db
    .update(enrollmentTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(enrollmentTokens.id, tokenId), isNull(enrollmentTokens.revokedAt)))
    .returning({ id: enrollmentTokens.id });
  return rows.length > 0;
}

/**
 * Trades an enrollment token for a new device and its credential, in one transaction so that
 * a token's use count never runs past its limit when installers enroll at the same moment.
 */
export async function enrollDevice(db: HavenDatabase, request: EnrollRequest, now = new Date()): Promise<EnrollOutcome> {
  return db.transaction(async (tx) => {
    const [token] = await tx
      .select()
      .from(enrollmentTokens)
      .where(eq(enrollmentTokens.tokenHash, hashSecret(request.token)))
      .for('update');
    if (!token) return { ok: false, reason: 'unknown' } as const;
    if (token.revokedAt) return { ok: false, reason: 'revoked' } as const;
    if (token.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' } as const;
    if (token.maxUses !== null && token.useCount >= token.maxUses) return { ok: false, reason: 'exhausted' } as const;

    await tx
      .update(enrollmentTokens)
      .set({ useCount: sql`${enrollmentTokens.useCount} + 1` })
      .where(eq(enrollmentTokens.id, token.id));
    const [device] = await tx
      .insert(devices)
      .values({
        schoolId: token.schoolId,
        hostname: request.hostname,
        osPlatform: request.os.platform,
        osRelease: request.os.release,
        osArch: request.os.arch ?? null,
        agentVersion: request.agentVersion,
        enrollmentTokenId: token.id,
      })
      .returning({ id: devices.id });
    const deviceSecret = newDeviceSecret();
    await tx.insert(deviceCredentials).values({ deviceId: device!.id, secretHash: hashSecret(deviceSecret) });
    return { ok: true, deviceId: device!.id, schoolId: token.schoolId, deviceSecret } as const;
  });
}

/**
 * Revokes a device and all its credentials. A live connection of the device is refused with
 * 4012 at its next frame after the gateway's periodic re-check (at most 30 seconds).
 */
export async function revokeDevice(db: HavenDatabase, deviceId: string, now = new Date()): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(devices)
      .set({ revokedAt: now })
      .where(and(eq(devices.id, deviceId), isNull(devices.revokedAt)))
      .returning({ id: devices.id });
    await tx
      .update(deviceCredentials)
      .set({ revokedAt: now })
      .where(and(eq(deviceCredentials.deviceId, deviceId), isNull(deviceCredentials.revokedAt)));
    return rows.length > 0;
  });
}
