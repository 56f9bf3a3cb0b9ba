import { devices, type HavenDatabase } from '@haven/db';
import type { Heartbeat, Hello } from '@haven/protocol';
import { eq, sql } from 'drizzle-orm';

export async function recordHello(db: HavenDatabase, deviceId: string, hello: Hello, now = new Date()): Promise<void> {
  await db
    .update(devices)
    .set({
      lastSeenAt: now,
      agentVersion: hello.agentVersion,
      osPlatform: hello.os.platform,
      osRelease: hello.os.release,
      osArch: hello.os.arch ?? null,
    })
    .where(eq(devices.id, deviceId));
}

/**
 * Keeps the device's last-seen time, per-source health and session parts as the fleet view
 * shows them. A session part reported `stopped` (it stopped while its user was still logged
 * in) moves the device's last tamper time forward — never back, and never past now, whatever
 * the device's clock says. Returns whether this heartbeat reported a stopped session part.
 */
export async function recordHeartbeat(db: HavenDatabase, deviceId: string, beat: Heartbeat, now = new Date()): Promise<{ tamper: boolean }> {
  const stopped = (beat.sessions ?? []).filter((s) => s.state === 'stopped');
  const latest = stopped.reduce((max, s) => Math.max(max, Math.min(Date.parse(s.since), now.getTime())), -Infinity);
  const tamperAt = Number.isFinite(latest) ? new Date(latest) : null;
  await db
    .update(devices)
    .set({
      lastSeenAt: now,
      agentVersion: beat.agentVersion,
      health: beat.sources,
      outboxDepth: beat.outboxDepth,
      droppedEvents: beat.droppedEvents,
      ...(beat.sessions ? { sessions: beat.sessions } : {}),
      ...(tamperAt ? { lastTamperAt: sql`greatest(${devices.lastTamperAt}, ${tamperAt.toISOString()}::timestamptz)` } : {}),
    })
    .where(eq(devices.id, deviceId));
  return { tamper: tamperAt !== null };
}
