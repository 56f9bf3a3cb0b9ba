/**
 * The monitoring notice for a session part without the tray shell (`haven-agent session`: kiosks,
 * Linux suites). Same words as the shell's (shell/notice.ts) and the same rules for when to show
 * it, sent through the desktop's notification service with `notify-send` where there is one (a
 * D-Bus session bus), otherwise written once to stderr.
 *
 * A desktop notification has no "I understand" button, so here the notice counts as seen once it
 * has been shown: it then shows again at the next login, after a reboot, or (where no login
 * session id exists) an hour later, exactly as the shell does after an acknowledgement.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CaptureSession, Logger, SessionView } from '@haven/agent-core';
import { loginSessionId, noticeShown, noticeView, readNoticeState, shouldShowNotice, writeNoticeState, type NoticeDecision, type NoticeState } from './shell/notice';

export type HeadlessNoticePlan = { via: 'notify-send'; command: string; args: string[] } | { via: 'stderr'; text: string };

/** The executable `name` on the PATH, or null. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** Notification bodies may be read as a small markup language: the school's name is text, not markup. */
function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * How to show the notice: through notify-send when it exists and there is a session bus to reach
 * the notification service on, otherwise as text for stderr. Never through a shell: the school's
 * name is one argument, after `--` so that no part of it is read as an option.
 */
export function headlessNoticePlan(notice: SessionView['notice'] | null, env: NodeJS.ProcessEnv, notifySend: string | null): HeadlessNoticePlan {
  const view = noticeView(notice);
  const link = view.link ? `${view.link.label}: ${view.link.href}` : null;
  if (notifySend && env.DBUS_SESSION_BUS_ADDRESS) {
    const body = [view.text, view.explanation, link].filter((x): x is string => x !== null).map(escapeMarkup).join('\n');
    return { via: 'notify-send', command: notifySend, args: ['--app-name=Haven', '--urgency=normal', '--', view.heading, body] };
  }
  return { via: 'stderr', text: noticeStderrText(notice) };
}

/** The notice as plain lines for stderr (no markup). */
export function noticeStderrText(notice: SessionView['notice'] | null): string {
  const view = noticeView(notice);
  const link = view.link ? `${view.link.label}: ${view.link.href}` : null;
  return [`${view.heading}. ${view.text}`, view.explanation, link].filter((x): x is string => x !== null).join('\n') + '\n';
}

/** The shell's rule (shouldShowNotice), with "shown" standing for "acknowledged" (see the top of this file). */
export function headlessShouldShow(state: NoticeState | null, at: { now: Date; bootedAt: Date | null; session: string | null }): NoticeDecision {
  return shouldShowNotice(state ? { ...state, acknowledgedAt: state.acknowledgedAt ?? state.lastShownAt } : null, at);
}

/** Where the headless session remembers the notice (per account); null without a home directory. */
export function headlessStateDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string | null): string | null {
  if (platform === 'win32') return env.LOCALAPPDATA ? path.join(env.LOCALAPPDATA, 'Haven', 'session') : null;
  if (!home) return null;
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Haven', 'session');
  return path.join(env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(home, '.local', 'state'), 'haven-agent');
}

export type HeadlessNoticeOptions = {
  log: Logger;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Default: headlessStateDir for this account. */
  stateDir?: string | null;
  /** How long to wait for the service's welcome (the school's name) before showing the notice without it. */
  waitMs?: number;
  /** Where the stderr fallback goes. */
  writeStderr?: (text: string) => void;
  now?: () => Date;
};

export type HeadlessNoticeOutcome = { shown: false; reason: NoticeDecision['reason'] } | { shown: true; reason: NoticeDecision['reason']; via: 'notify-send' | 'stderr' };

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

function homeDir(): string | null {
  try {
    return os.homedir() || null;
  } catch {
    return null;
  }
}

/** The school's notice details once the service has welcomed the session, or null after `ms`. */
function noticeFromService(session: Pick<CaptureSession, 'view' | 'onChange'>, ms: number): Promise<SessionView['notice'] | null> {
  const now = session.view();
  if (now.service.state === 'connected') return Promise.resolve(now.notice);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(null);
    }, ms);
    timer.unref();
    const off = session.onChange((v) => {
      if (v.service.state !== 'connected') return;
      clearTimeout(timer);
      off();
      resolve(v.notice);
    });
  });
}

function runNotifySend(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ok: true } | { ok: false; detail: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (err.length < 500) err += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: e.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? { ok: true } : { ok: false, detail: `${signal ? `killed by ${signal}` : `exit ${code}`}${err.trim() ? `: ${err.trim().slice(0, 200)}` : ''}` });
    });
  });
}

/**
 * At a headless session's start: decides whether the notice is due, waits (briefly) for the
 * service's welcome for the school's name and link, shows it, and remembers that it did.
 * Never throws; resolves with what it did (for tests and the log).
 */
export async function showHeadlessNotice(session: Pick<CaptureSession, 'view' | 'onChange'>, options: HeadlessNoticeOptions): Promise<HeadlessNoticeOutcome> {
  const { log } = options;
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const now = options.now ?? (() => new Date());
  const stateDir = options.stateDir !== undefined ? options.stateDir : headlessStateDir(platform, env, homeDir());
  const loginSession = loginSessionId(platform, env, platform === 'linux' ? bootId() : null);
  const state = stateDir ? readNoticeState(stateDir) : null;
  const decision = headlessShouldShow(state, { now: now(), bootedAt: new Date(now().getTime() - os.uptime() * 1000), session: loginSession });
  log('info', 'Monitoring notice.', { show: decision.show, reason: decision.reason });
  if (!decision.show) return { shown: false, reason: decision.reason };

  const notice = await noticeFromService(session, options.waitMs ?? 10_000);
  const plan = headlessNoticePlan(notice, env, findOnPath('notify-send', env));
  let via: 'notify-send' | 'stderr' = plan.via;
  if (plan.via === 'notify-send') {
    const sent = await runNotifySend(plan.command, plan.args, env);
    if (!sent.ok) {
      log('warn', 'The desktop notification service did not take the monitoring notice; writing it to stderr instead.', { detail: sent.detail });
      via = 'stderr';
    }
  }
  if (via === 'stderr') {
    (options.writeStderr ?? ((t: string) => process.stderr.write(t)))(noticeStderrText(notice));
  }
  if (stateDir) {
    try {
      writeNoticeState(stateDir, noticeShown(state, now(), loginSession));
    } catch (err) {
      log('warn', 'Could not remember that the monitoring notice was shown.', { error: (err as Error).message });
    }
  }
  return { shown: true, reason: decision.reason, via };
}
