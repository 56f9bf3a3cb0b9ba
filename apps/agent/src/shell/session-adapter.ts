/**
 * The tray shell's SessionCore over a running CaptureSession: what the session part knows about
 * itself (SessionView) turned into what the status window shows (ShellStatus).
 *
 * The two shapes are nearly the same, but this copies them field by field rather than passing
 * the view through: a field added to SessionView later (or one a source puts in its health, such
 * as lastCaptureAt) does not reach the pupil's screen unless it is added here on purpose. The
 * state tables below are typed both ways, so if either side gains or loses a state the build
 * fails here instead of the status window showing "not known".
 */
import type { CaptureSession, SessionView } from '@haven/agent-core';
import type { SessionCore } from './session-core';
import type { ShellStatus, SourceName } from './status-model';

type ViewServiceState = SessionView['service']['state'];
type ViewLinkState = SessionView['collector']['state'];
type ViewSourceState = SessionView['sources'][SourceName]['state'];

const SERVICE_STATES: { [S in ViewServiceState]: ShellStatus['service']['state'] } = {
  connected: 'connected',
  connecting: 'connecting',
  unreachable: 'unreachable',
};

const LINK_STATES: { [S in ViewLinkState]: ShellStatus['collector']['state'] } = {
  online: 'online',
  connecting: 'connecting',
  offline: 'offline',
  refused: 'refused',
  unknown: 'unknown',
};

const SOURCE_STATES: { [S in ViewSourceState]: ShellStatus['sources'][SourceName]['state'] } = {
  ok: 'ok',
  degraded: 'degraded',
  failed: 'failed',
  disabled: 'disabled',
  paused: 'paused',
};

const SOURCES: readonly SourceName[] = ['title', 'keys', 'screen'];

/** Longest source detail passed on (the status window shortens it further to one line). */
const MAX_DETAIL = 200;

function lookup<T extends string, U>(table: Record<T, U>, key: unknown, fallback: U): U {
  return typeof key === 'string' && Object.prototype.hasOwnProperty.call(table, key) ? table[key as T] : fallback;
}

const stringOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** SessionView → ShellStatus. Pending and dropped counts are not shown to the pupil. */
export function shellStatus(view: SessionView): ShellStatus {
  const sources = {} as ShellStatus['sources'];
  for (const name of SOURCES) {
    const s = view.sources?.[name];
    const state = lookup(SOURCE_STATES, s?.state, 'failed');
    const detail = typeof s?.detail === 'string' && s.detail !== '' ? s.detail.slice(0, MAX_DETAIL) : undefined;
    sources[name] = detail !== undefined ? { state, detail } : { state };
  }
  return {
    notice: { school: stringOrNull(view.notice?.school), transparencyUrl: stringOrNull(view.notice?.transparencyUrl) },
    service: { state: lookup(SERVICE_STATES, view.service?.state, 'unreachable'), since: stringOrNull(view.service?.since) },
    collector: { state: lookup(LINK_STATES, view.collector?.state, 'unknown'), lastDeliveryAt: stringOrNull(view.collector?.lastDeliveryAt) },
    sources,
    updatedAt: typeof view.updatedAt === 'string' ? view.updatedAt : new Date().toISOString(),
  };
}

/** The shell's core: a started CaptureSession seen through shellStatus. stop() stops the session. */
export function sessionCore(session: Pick<CaptureSession, 'view' | 'onChange' | 'stop'>): SessionCore {
  return {
    status: () => shellStatus(session.view()),
    onChange(cb) {
      const off = session.onChange((view) => cb(shellStatus(view)));
      return () => {
        off();
      };
    },
    stop: () => session.stop(),
  };
}
