import { devices, schools, type DeviceSessions } from '@haven/db';
import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { deviceSchools } from '../auth/access';
import { requirePrincipal } from '../auth/plugin';
import { ForbiddenError } from '../errors';

function countSessions(sessions: DeviceSessions): { running: number; ended: number; stopped: number } {
  const out = { running: 0, ended: 0, stopped: 0 };
  for (const s of sessions) if (s.state in out) out[s.state]++;
  return out;
}

/** The fleet as the technician sees it: devices and their health, never captured content. */
export async function fleetRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/devices', async (request) => {
    const me = requirePrincipal(request);
    const schoolIds = deviceSchools(me);
    if (schoolIds.length === 0) throw new ForbiddenError();
    const rows = await app.database.db
      .select({
        id: devices.id,
        hostname: devices.hostname,
        schoolId: devices.schoolId,
        schoolName: schools.name,
        osPlatform: devices.osPlatform,
        agentVersion: devices.agentVersion,
        lastSeenAt: devices.lastSeenAt,
        revokedAt: devices.revokedAt,
        outboxDepth: devices.outboxDepth,
        droppedEvents: devices.droppedEvents,
        health: devices.health,
        sessions: devices.sessions,
        lastTamperAt: devices.lastTamperAt,
        // Events kept with the time they arrived because the device's clock was not believable
        // (docs/protocol.md §6), in the last 7 days: the device's clock needs fixing.
        clockWrongEvents: sql<number>`(select count(*)::int from events e where e.device_id = ${devices.id} and e.reported_occurred_at is not null and e.received_at > now() - interval '7 days')`,
        // Events set aside because grouping them failed (docs/operations.md).
        setAsideEvents: sql<number>`(select count(*)::int from events e where e.device_id = ${devices.id} and e.grouping_failed_at is not null)`,
      })
      .from(devices)
      .innerJoin(schools, eq(schools.id, devices.schoolId))
      .where(inArray(devices.schoolId, schoolIds))
      .orderBy(asc(schools.name), asc(devices.hostname));
    return {
      devices: rows.map(({ revokedAt, lastSeenAt, lastTamperAt, sessions, ...d }) => ({
        ...d,
        // Counts only: the fleet view is for technicians, who do not see who uses a device.
        sessions: sessions ? countSessions(sessions) : null,
        lastSeenAt: lastSeenAt?.toISOString() ?? null,
        lastTamperAt: lastTamperAt?.toISOString() ?? null,
        revoked: revokedAt !== null,
        connected: app.gateway.isConnected(d.id),
      })),
    };
  });
}
