import { devices, type HavenDatabase } from '@haven/db';
import type { Heartbeat, Hello } from '@haven/protocol';
import { eq } from 'drizzle-orm';

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

/** Keeps the device's last-seen time and per-source health as the fleet view shows them. */
export async function recordHeartbeat(db: HavenDatabase, deviceId: string, beat: Heartbeat, now = new Date()): Promise<void> {
  await db
    .update(devices)
    .set({
      lastSeenAt: now,
      agentVersion: beat.agentVersion,
      health: beat.sources,
      outboxDepth: beat.outboxDepth,
      droppedEvents: beat.droppedEvents,
    })
    .where(eq(devices.id, deviceId));
}
