import { createHash } from 'node:crypto';
import type { AgentPolicySettings, HavenDatabase } from '@haven/db';
import { LIMITS, OcrLanguagesSchema, type PolicyMessage } from '@haven/protocol';
import { sql } from 'drizzle-orm';
import { queryRows } from '../db-rows';

type AgeBand = 'primary' | 'secondary' | 'staff';

/** Nursery, Reception and Years 1–6 are primary; Years 7–13 secondary. */
export function ageBandOf(kind: 'pupil' | 'staff', yearGroup: string | null): AgeBand {
  if (kind === 'staff') return 'staff';
  const year = (yearGroup ?? '').trim().toLowerCase().replace(/^year\s*/, '');
  if (['n', 'nursery', 'r', 'reception'].includes(year)) return 'primary';
  const n = Number(year);
  return Number.isInteger(n) && n >= 1 && n <= 6 ? 'primary' : 'secondary';
}

/**
 * The policy pushed to a school's agents when they connect (and after a directory import):
 * the school's agent policy (threshold, sources, quiet hours, screen text languages) with the age band of each
 * current pupil and member of staff, so the scorer fits whoever is at the keyboard. Only
 * computer account names and bands travel — no people's names, no year groups.
 * A school that has not set an agent policy gets nothing pushed: each device keeps its own
 * policy file (a technician's quiet hours are never overwritten by defaults).
 */
export async function schoolPolicy(db: HavenDatabase, schoolId: string): Promise<PolicyMessage | null> {
  const [settings] = await queryRows<{ agent_policy: AgentPolicySettings | null }>(db, sql`select agent_policy from school_settings where school_id = ${schoolId}`);
  if (!settings?.agent_policy) return null;
  const people = await queryRows<{ os_username: string; kind: 'pupil' | 'staff'; year_group: string | null }>(
    db,
    sql`select os_username, kind, year_group from people where school_id = ${schoolId} and left_at is null order by os_username`,
  );
  const userAgeBands: Record<string, AgeBand> = {};
  const counts: Record<AgeBand, number> = { primary: 0, secondary: 0, staff: 0 };
  for (const p of people) {
    const band = ageBandOf(p.kind, p.year_group);
    userAgeBands[p.os_username.slice(0, LIMITS.maxOsUserChars)] = band;
    if (band !== 'staff') counts[band]++;
  }
  const base = settings.agent_policy;
  // Languages as the protocol takes them; a stored list it would refuse is left out (English).
  const languages = base.ocrLanguages === undefined ? null : OcrLanguagesSchema.safeParse(base.ocrLanguages);
  const policy: PolicyMessage['policy'] = {
    threshold: base.threshold,
    sources: base.sources,
    quietHours: base.quietHours,
    ...(languages?.success ? { ocrLanguages: languages.data } : {}),
    // Anyone not in the directory (a visitor, a new account) is scored as most pupils are.
    ageBand: counts.primary > counts.secondary ? 'primary' : 'secondary',
    ...(people.length > 0 ? { userAgeBands } : {}),
  };
  const json = JSON.stringify(policy);
  // The same content always has the same version, so a repeated push is recognisably the same.
  const version = (createHash('sha256').update(json).digest().readUInt32BE(0) % 2_000_000_000) + 1;
  if (Buffer.byteLength(json) > LIMITS.maxFrameBytes - 200) {
    // Too many accounts for one frame: the bands are left out rather than the policy.
    return { type: 'policy', version, policy: { ...policy, userAgeBands: undefined } };
  }
  return { type: 'policy', version, policy };
}
