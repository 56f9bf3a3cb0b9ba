import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PolicySchema, type Policy, type SourceHealth } from '@haven/protocol';
import { writeFileAtomic } from './atomic-file';

/** Until a school's policy arrives: flag from "high" up, every source on, no quiet hours. */
export const DEFAULT_POLICY: Policy = {
  threshold: 3,
  sources: { title: true, keys: true, screen: true },
  quietHours: [],
  ageBand: 'secondary',
};

export const POLICY_FILE = 'policy.json';

export type PolicyRead = { policy: Policy; error: string | null };

/**
 * Reads `policy.json` from the data dir. A missing file means the default policy; a file that
 * cannot be read or is not a valid policy is reported and the fallback is kept.
 */
export function readPolicy(dir: string, fallback: Policy = DEFAULT_POLICY): PolicyRead {
  let text: string;
  try {
    text = readFileSync(path.join(dir, POLICY_FILE), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { policy: fallback, error: null };
    return { policy: fallback, error: `the policy file cannot be read (${code ?? (err as Error).message})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { policy: fallback, error: 'the policy file is not valid JSON' };
  }
  const parsed = PolicySchema.safeParse(json);
  if (!parsed.success) return { policy: fallback, error: `the policy file is not a valid policy (${parsed.error.issues[0]?.message ?? 'invalid'})` };
  return { policy: parsed.data, error: null };
}

/** Writes a policy atomically, so a reader never sees half of one. */
export function writePolicy(dir: string, policy: Policy): void {
  // 0600: a pushed policy lists the school's computer accounts with their age bands.
  writeFileAtomic(path.join(dir, POLICY_FILE), JSON.stringify(policy, null, 2) + '\n', 0o600);
}

/** True when `now` (device local time) falls in one of the policy's quiet hours; a span may cross midnight. */
export function inQuietHours(policy: Policy, now: Date): boolean {
  const minutes = now.getHours() * 60 + now.getMinutes();
  return policy.quietHours.some(({ start, end }) => {
    const s = toMinutes(start);
    const e = toMinutes(end);
    return s <= e ? minutes >= s && minutes < e : minutes >= s || minutes < e;
  });
}

function toMinutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/**
 * Each source's health as the school should read it: a source the policy has turned off is
 * "disabled" and one inside quiet hours "paused", whatever the capture code itself last said,
 * so the Devices page never shows "OK" for something that is not being watched.
 */
export function policyHealth(policy: Policy, health: Record<string, SourceHealth>, now = new Date()): Record<string, SourceHealth> {
  const out: Record<string, SourceHealth> = { ...health };
  const quiet = inQuietHours(policy, now);
  for (const name of ['title', 'keys', 'screen'] as const) {
    const h = out[name];
    if (!h || h.state === 'disabled') continue;
    if (!policy.sources[name]) out[name] = { state: 'disabled', detail: "turned off by the school's policy", lastCaptureAt: h.lastCaptureAt ?? null };
    else if (quiet && h.state === 'ok') out[name] = { state: 'paused', detail: 'quiet hours', lastCaptureAt: h.lastCaptureAt ?? null };
  }
  return out;
}

/** The policy as one user's session part may see it: only that user's own age band, not the school's list of accounts. */
export function policyForUser(policy: Policy, osUser: string): Policy {
  const { userAgeBands, ...rest } = policy;
  const own = userAgeBands?.[osUser];
  return own ? { ...rest, userAgeBands: { [osUser]: own } } : rest;
}
