/**
 * The monitoring notice: its words, its link, and when the shell shows it.
 *
 * The schools Haven serves must tell pupils and staff that their computer is monitored, so the
 * shell shows the notice at the first run on each account and again at each login. The shell is
 * started at login, so "each login" is "each shell start", except that a shell restarted in the
 * same login (it crashed, or someone killed it) does not show it again: see shouldShowNotice.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ShellStatus } from './status-model';

export type NoticeView = {
  heading: string;
  /** "This computer is monitored by <school> to keep pupils safe." */
  text: string;
  /** What is watched and who sees it, in one short paragraph. */
  explanation: string;
  /** Only an http(s) URL, or null: the page shows no link then. */
  link: { href: string; label: string } | null;
  acknowledge: string;
};

/** The school's name as one line of text, or null when it is missing or empty. */
function schoolName(school: string | null | undefined): string | null {
  if (typeof school !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const one = school.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return one === '' ? null : one.slice(0, 200);
}

export function noticeText(school: string | null | undefined): string {
  const name = schoolName(school);
  return name ? `This computer is monitored by ${name} to keep pupils safe.` : 'This computer is monitored by your school to keep pupils safe.';
}

/**
 * The transparency notice's address if it is an absolute http: or https: URL with a host and no
 * credentials in it; anything else (javascript:, data:, file:, relative, garbage) is no link.
 */
export function transparencyLink(url: string | null | undefined): string | null {
  if (typeof url !== 'string') return null;
  const trimmed = url.trim();
  if (trimmed === '' || trimmed.length > 2048) return null;
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  if (parsed.hostname === '' || parsed.username !== '' || parsed.password !== '') return null;
  return parsed.href;
}

export function noticeView(notice: ShellStatus['notice'] | null | undefined): NoticeView {
  const href = transparencyLink(notice?.transparencyUrl);
  return {
    heading: 'This computer is monitored',
    text: noticeText(notice?.school),
    explanation:
      "Haven checks what is typed and shown on this computer for signs that someone may be at risk, and sends only what it flags to the school's safeguarding staff.",
    link: href ? { href, label: "Read the school's notice about monitoring" } : null,
    acknowledge: 'I understand',
  };
}

/* ---------------------------------------------------------------- when to show it */

/** What the shell remembers about the notice, per account, in notice.json in its state directory. */
export type NoticeState = {
  version: 1;
  firstShownAt: string;
  lastShownAt: string;
  /** The login session it was last shown in (see loginSessionId), or null when unknown. */
  lastSession: string | null;
  acknowledgedAt: string | null;
};

export type NoticeReason = 'first-run' | 'not-acknowledged' | 'rebooted' | 'new-login' | 'hours-passed' | 'clock-changed' | 'same-login' | 'shown-recently';

export type NoticeDecision = { show: boolean; reason: NoticeReason };

/**
 * Without a login session id (Windows, or a desktop that sets none), a shell restarted within
 * this many hours does not show the notice again, so a restart loop shows it at most once an hour.
 */
export const NOTICE_MIN_GAP_HOURS = 1;

/**
 * Whether to show the notice at this shell start.
 *
 * - No state (first run on this account, or the file is corrupt): show.
 * - Never acknowledged: show (until the pupil has pressed "I understand" once).
 * - Shown before the machine last booted, or the clock moved back: show (a new login).
 * - The login session is known: show if it is not the one the notice was last shown in; a shell
 *   restarted in the same login does not show it again.
 * - The login session is unknown: show if the last time was at least `minGapHours` ago.
 */
export function shouldShowNotice(
  state: NoticeState | null,
  at: { now: Date; bootedAt: Date | null; session: string | null },
  minGapHours = NOTICE_MIN_GAP_HOURS,
): NoticeDecision {
  if (!state) return { show: true, reason: 'first-run' };
  if (!state.acknowledgedAt) return { show: true, reason: 'not-acknowledged' };
  const last = Date.parse(state.lastShownAt);
  const now = at.now.getTime();
  if (!Number.isFinite(last) || last > now) return { show: true, reason: 'clock-changed' };
  if (at.bootedAt && at.bootedAt.getTime() > last) return { show: true, reason: 'rebooted' };
  if (at.session) return at.session === state.lastSession ? { show: false, reason: 'same-login' } : { show: true, reason: 'new-login' };
  return now - last >= minGapHours * 3_600_000 ? { show: true, reason: 'hours-passed' } : { show: false, reason: 'shown-recently' };
}

/** The state after showing the notice now. */
export function noticeShown(state: NoticeState | null, now: Date, session: string | null): NoticeState {
  const at = now.toISOString();
  return { version: 1, firstShownAt: state?.firstShownAt ?? at, lastShownAt: at, lastSession: session, acknowledgedAt: state?.acknowledgedAt ?? null };
}

/** The state after the pupil pressed "I understand". */
export function noticeAcknowledged(state: NoticeState | null, now: Date, session: string | null): NoticeState {
  return { ...(state ?? noticeShown(null, now, session)), acknowledgedAt: now.toISOString() };
}

/**
 * An id for this login session, from what the platform tells a process started in it:
 * Linux's boot id with logind's XDG_SESSION_ID; macOS's SECURITYSESSIONID. Windows gives no such
 * thing to a plain process, so null there (the time rule applies).
 */
export function loginSessionId(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, bootId: string | null): string | null {
  if (platform === 'linux') {
    const id = env.XDG_SESSION_ID?.trim();
    return id && bootId ? `${bootId.trim()}/${id}` : null;
  }
  if (platform === 'darwin') {
    const id = env.SECURITYSESSIONID?.trim();
    return id ? `${id}` : null;
  }
  return null;
}

/* ---------------------------------------------------------------- the state file */

export const NOTICE_STATE_FILE = 'notice.json';

const isIso = (v: unknown): v is string => typeof v === 'string' && Number.isFinite(Date.parse(v));

/** The remembered state, or null when there is none or it cannot be read (then the notice shows again). */
export function readNoticeState(stateDir: string): NoticeState | null {
  let raw: string;
  try {
    raw = readFileSync(path.join(stateDir, NOTICE_STATE_FILE), 'utf8');
  } catch {
    return null;
  }
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (o.version !== 1 || !isIso(o.firstShownAt) || !isIso(o.lastShownAt)) return null;
  if (o.lastSession !== null && typeof o.lastSession !== 'string') return null;
  if (o.acknowledgedAt !== null && !isIso(o.acknowledgedAt)) return null;
  return { version: 1, firstShownAt: o.firstShownAt, lastShownAt: o.lastShownAt, lastSession: o.lastSession, acknowledgedAt: o.acknowledgedAt };
}

/** Writes the state so that a crash leaves the old file or the new one, never half of one. */
export function writeNoticeState(stateDir: string, state: NoticeState): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, NOTICE_STATE_FILE);
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(state) + '\n', { mode: 0o600, flush: true });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
