/**
 * What the tray shell's status window shows, and the one pure function that turns it into rows.
 *
 * ShellStatus is the whole input: connection states, times and source states. It has no field
 * for anything captured (typed phrases, window titles, screen text) and must never grow one: the
 * status window is seen by the pupil at the keyboard and by anyone looking over their shoulder.
 */

export type ShellStatus = {
  notice: { school: string | null; transparencyUrl: string | null };
  service: { state: 'connected' | 'connecting' | 'unreachable'; since: string | null };
  collector: { state: 'online' | 'connecting' | 'offline' | 'refused' | 'unknown'; lastDeliveryAt: string | null };
  sources: Record<'title' | 'keys' | 'screen', { state: 'ok' | 'degraded' | 'failed' | 'disabled' | 'paused'; detail?: string }>;
  updatedAt: string;
};

export type SourceName = keyof ShellStatus['sources'];
export type SourceState = ShellStatus['sources'][SourceName]['state'];

/** How a row looks: the words carry the meaning, the tone only adds colour. */
export type RowTone = 'ok' | 'waiting' | 'problem' | 'off';

export type StatusRow = {
  id: 'service' | 'collector' | 'last-delivery' | SourceName;
  label: string;
  value: string;
  tone: RowTone;
};

/** The status window, ready to render as text: the page adds no words of its own. */
export type StatusView = {
  /** One sentence on top: is everything working? */
  summary: string;
  summaryTone: RowTone;
  connection: StatusRow[];
  sources: StatusRow[];
  /** "Updated 14:05, 7 December 2026". */
  updated: string;
};

export const SOURCE_LABELS: Record<SourceName, string> = {
  title: 'Window titles',
  keys: 'Typed phrases',
  screen: 'Text on the screen',
};

const SOURCE_ORDER: SourceName[] = ['title', 'keys', 'screen'];

/** The UK school's clock, whatever the machine's time zone is set to. */
const TIME_ZONE = 'Europe/London';
const timeFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: TIME_ZONE });
const dateFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: TIME_ZONE });

/** "14:05, 7 December 2026" in Europe/London; null for a missing or unreadable time. */
export function formatLondonTime(iso: string | null | undefined): string | null {
  if (typeof iso !== 'string' || iso === '') return null;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return null;
  const d = new Date(t);
  return `${timeFormat.format(d)}, ${dateFormat.format(d)}`;
}

/** A reason from the core ("quiet hours", "no display"): one short line, no control characters. */
export function cleanDetail(detail: string | undefined): string | null {
  if (typeof detail !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const one = detail.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  if (one === '') return null;
  return one.length > 60 ? `${one.slice(0, 59)}…` : one;
}

function sourceRow(id: SourceName, source: ShellStatus['sources'][SourceName] | undefined, serviceUp: boolean): StatusRow {
  const label = SOURCE_LABELS[id];
  const detail = cleanDetail(source?.detail);
  const state = source?.state;
  if (!serviceUp && state !== 'disabled') return { id, label, value: 'not known while the monitoring service is not responding', tone: 'waiting' };
  switch (state) {
    case 'ok':
      return { id, label, value: 'watched', tone: 'ok' };
    case 'degraded':
      return { id, label, value: detail ? `watched, with problems (${detail})` : 'watched, with problems', tone: 'problem' };
    case 'failed':
      return { id, label, value: detail ? `not working (${detail})` : 'not working', tone: 'problem' };
    case 'paused':
      return { id, label, value: `paused (${detail ?? 'by the school'})`, tone: 'off' };
    case 'disabled':
      return { id, label, value: 'not watched (turned off by the school)', tone: 'off' };
    default:
      return { id, label, value: 'not known', tone: 'waiting' };
  }
}

function serviceRow(service: ShellStatus['service']): StatusRow {
  const label = 'Monitoring service';
  const since = formatLondonTime(service?.since);
  switch (service?.state) {
    case 'connected':
      return { id: 'service', label, value: 'running on this computer', tone: 'ok' };
    case 'connecting':
      return { id: 'service', label, value: 'starting…', tone: 'waiting' };
    case 'unreachable':
      return { id: 'service', label, value: since ? `not responding since ${since}` : 'not responding', tone: 'problem' };
    default:
      return { id: 'service', label, value: 'not known', tone: 'waiting' };
  }
}

function collectorRow(collector: ShellStatus['collector'], serviceUp: boolean): StatusRow {
  const label = "School's Haven server";
  if (!serviceUp) return { id: 'collector', label, value: 'not known while the monitoring service is not responding', tone: 'waiting' };
  switch (collector?.state) {
    case 'online':
      return { id: 'collector', label, value: 'connected', tone: 'ok' };
    case 'connecting':
      return { id: 'collector', label, value: 'connecting…', tone: 'waiting' };
    case 'offline':
      return { id: 'collector', label, value: 'not connected: anything to send is kept on this computer for later', tone: 'waiting' };
    case 'refused':
      return { id: 'collector', label, value: "refused this computer: please tell the school's IT team", tone: 'problem' };
    default:
      return { id: 'collector', label, value: 'not known yet', tone: 'waiting' };
  }
}

/** The status window's rows, in British English, times in Europe/London. Never any captured text. */
export function statusView(status: ShellStatus): StatusView {
  const serviceUp = status.service?.state === 'connected';
  const delivered = formatLondonTime(status.collector?.lastDeliveryAt);
  const connection: StatusRow[] = [
    serviceRow(status.service),
    collectorRow(status.collector, serviceUp),
    { id: 'last-delivery', label: 'Last delivery', value: delivered ?? 'none yet', tone: delivered ? 'ok' : 'off' },
  ];
  const sources = SOURCE_ORDER.map((id) => sourceRow(id, status.sources?.[id], serviceUp));
  const rows = [...connection, ...sources];
  const summaryTone: RowTone = rows.some((r) => r.tone === 'problem') ? 'problem' : rows.some((r) => r.tone === 'waiting') ? 'waiting' : 'ok';
  const summary =
    summaryTone === 'problem'
      ? "Something is not working. If it goes on, please tell the school's IT team."
      : summaryTone === 'waiting'
        ? 'Monitoring is starting or waiting for a connection.'
        : "Connected to the school's Haven server. Monitoring is working.";
  const updated = formatLondonTime(status.updatedAt);
  return { summary, summaryTone, connection, sources, updated: updated ? `Updated ${updated}` : 'Not updated yet' };
}

/** "Label: value" for each row, as a screen reader or a test reads them. */
export function rowSentences(view: StatusView): string[] {
  return [...view.connection, ...view.sources].map((r) => `${r.label}: ${r.value}`);
}
