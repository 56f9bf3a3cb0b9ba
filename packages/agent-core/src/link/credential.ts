import { readFileSync } from 'node:fs';
import { hostname, platform, release, arch } from 'node:os';
import path from 'node:path';
import { ApiErrorSchema, EnrollResponseSchema, type EnrollResponse } from '@haven/protocol';
import { writeFileAtomic } from '../atomic-file';

/** The device credential from enrolment, kept in the data dir, readable by the agent's user only. */
export type Credential = EnrollResponse & { collector: string };

export class EnrollError extends Error {
  constructor(
    message: string,
    /** Retrying with the same token cannot help (unknown, expired, revoked or used-up token). */
    readonly fatal: boolean,
    /** How long the collector asked us to wait before trying again (a 429's Retry-After). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'EnrollError';
  }
}

const FILE = 'credential.json';

export function loadCredential(dir: string): Credential | null {
  let text: string;
  try {
    text = readFileSync(path.join(dir, FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed = EnrollResponseSchema.safeParse(JSON.parse(text));
  const collector = (JSON.parse(text) as { collector?: unknown }).collector;
  if (!parsed.success || typeof collector !== 'string') throw new Error(`${FILE} is not a Haven device credential`);
  return { ...parsed.data, collector };
}

/** Writes the credential atomically, readable by the agent's user only. */
export function saveCredential(dir: string, credential: Credential): void {
  writeFileAtomic(path.join(dir, FILE), JSON.stringify(credential) + '\n', 0o600);
}

/** Trades a school's enrolment token for a device credential. */
export async function enroll(collector: string, token: string, agentVersion: string): Promise<Credential> {
  const base = collector.replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, hostname: hostname(), os: { platform: platform(), release: release(), arch: arch() }, agentVersion }),
    });
  } catch (err) {
    throw new EnrollError(`could not reach the collector at ${base}: ${(err as Error).message}`, false);
  }
  const body: unknown = await res.json().catch(() => null);
  if (res.status !== 201) {
    const e = ApiErrorSchema.safeParse(body);
    const why = e.success ? `${e.data.error}: ${e.data.message}` : `HTTP ${res.status}`;
    // Too many attempts (429) or a timeout (408) pass with time; any other 4xx is the token's
    // own fault and retrying it cannot help.
    const passing = res.status === 429 || res.status === 408;
    const retryAfter = Number(res.headers.get('retry-after'));
    const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 3600) * 1000 : undefined;
    throw new EnrollError(`enrolment refused (${why})`, res.status >= 400 && res.status < 500 && !passing, retryAfterMs);
  }
  const parsed = EnrollResponseSchema.safeParse(body);
  if (!parsed.success) throw new EnrollError('the collector answered enrolment with something that is not a credential', false);
  return { ...parsed.data, collector: base };
}

/**
 * The saved credential, or a new one from enrolling with the token (retried with backoff while
 * the collector cannot be reached or is busy; a refused token is fatal).
 */
export async function obtainCredential(options: {
  dataDir: string;
  collector: string;
  enrolToken: string | null;
  agentVersion: string;
  log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** Called once a new credential is saved: the token can be forgotten. */
  onEnrolled?: () => void;
}): Promise<Credential> {
  const { dataDir, collector, enrolToken, agentVersion, log } = options;
  const saved = loadCredential(dataDir);
  if (saved) return saved;
  if (!enrolToken) throw new EnrollError('this device is not enrolled: it needs an enrolment token (enrol_token in the agent configuration)', true);
  for (let attempt = 0; ; attempt++) {
    try {
      const credential = await enroll(collector, enrolToken, agentVersion);
      saveCredential(dataDir, credential);
      log('info', 'Enrolled this device.', { deviceId: credential.deviceId });
      options.onEnrolled?.();
      return credential;
    } catch (err) {
      if (err instanceof EnrollError && err.fatal) throw err;
      const wait = Math.max(Math.min(60_000, 1000 * 2 ** attempt), err instanceof EnrollError ? (err.retryAfterMs ?? 0) : 0);
      log('warn', `Enrolment failed (${(err as Error).message}); trying again in ${Math.round(wait / 1000)} s.`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
