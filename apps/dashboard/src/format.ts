// Shared display helpers: en-GB dates in school time, labels for API codes.

import type { EventSource, IncidentSummary, Option, Status, Subject } from './api';

/** UK schools: times are shown in UK time whatever the browser's zone. */
export const SCHOOL_TIME_ZONE = 'Europe/London';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const partsFormatter = new Intl.DateTimeFormat('en-GB', {
  timeZone: SCHOOL_TIME_ZONE,
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

const parts = (date: Date): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const p of partsFormatter.formatToParts(date)) out[p.type] = p.value;
  return out;
};

/** "24 Nov 2026, 10:42"; an empty string for a missing or unreadable time. */
export const formatDateTime = (iso: string | null | undefined): string => {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const p = parts(date);
  const month = MONTHS[Number(p.month) - 1] ?? p.month;
  return `${Number(p.day)} ${month} ${p.year}, ${p.hour}:${p.minute}`;
};

/** The UK calendar date (YYYY-MM-DD) of an instant, as the date filters compare it. */
export const schoolDate = (iso: string): string => {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const p = parts(date);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
};

export const SEVERITY_WORDS = ['None', 'Low', 'Moderate', 'High', 'Severe', 'Critical'] as const;

export const severityWord = (severity: number): string => SEVERITY_WORDS[severity] ?? 'Unknown';

export const SOURCE_LABELS: Record<EventSource, string> = {
  title: 'Window title',
  keys: 'Typed text',
  screen: 'Screen text',
};

export const sourceLabel = (source: string): string => SOURCE_LABELS[source as EventSource] ?? humanise(source);

const STATUS_FALLBACK: Record<Status, string> = {
  new: 'New',
  in_review: 'In review',
  escalated: 'Escalated',
  closed: 'Closed',
};

/** "self_harm" → "Self harm": for a code the reference data does not label. */
export const humanise = (code: string): string => {
  const words = code.replace(/[._-]+/g, ' ').trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : code;
};

export const labelFrom = (options: Option[] | undefined, value: string): string =>
  options?.find((o) => o.value === value)?.label ?? STATUS_FALLBACK[value as Status] ?? humanise(value);

export const routedToLabel = (routedTo: 'dsl' | 'head'): string =>
  routedTo === 'head' ? 'Head teacher' : 'Designated Safeguarding Lead';

/** The name shown for an incident's subject; a cluster has no one person. */
export const subjectName = (incident: Pick<IncidentSummary, 'kind' | 'deviceCount'> & { subject: Subject }): string =>
  incident.kind === 'cluster'
    ? `Cluster on ${incident.deviceCount} device${incident.deviceCount === 1 ? '' : 's'}`
    : personName(incident.subject);

export const personName = (subject: Subject): string => subject.displayName?.trim() || subject.key;

export const plural = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`;
