// Shared display helpers: en-GB dates in school time, labels for API codes.

import type { EventSource, IncidentSummary, Option, SharedLogon, Status, Subject, Vulnerability } from './api';

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

type Named = Pick<IncidentSummary, 'kind' | 'deviceCount'> & { subject: Subject; sharedLogon?: SharedLogon | null };

/** The name shown for an incident's subject; a cluster has no one person, a class logon no name yet. */
export const subjectName = (incident: Named): string =>
  incident.kind === 'cluster'
    ? `Cluster on ${incident.deviceCount} device${incident.deviceCount === 1 ? '' : 's'}`
    : incident.subject.kind === 'shared'
      ? `Shared logon: ${incident.sharedLogon?.osUser ?? incident.subject.key}`
      : personName(incident.subject);

/** Where a shared logon was used: the device's room, or its hostname when it has no room. */
export const sharedLogonPlace = (shared: SharedLogon): string => shared.device.room?.trim() || shared.device.hostname;

/**
 * Why a pupil counts as vulnerable, only the reasons that hold: "SEND, looked after, flagged".
 * `long` spells out who flagged them, for a description read on its own.
 */
export const vulnerabilityReasons = (v: Vulnerability, long = false): string => {
  const reasons: string[] = [];
  if (v.send) reasons.push('SEND');
  if (v.lookedAfter) reasons.push('looked after');
  if (v.flagged) reasons.push(long ? 'flagged by the DSL' : 'flagged');
  return reasons.join(', ');
};

/** "SEND, looked after — severity raised by 1". */
export const vulnerabilitySummary = (v: Vulnerability, long = false): string => {
  const reasons = vulnerabilityReasons(v, long);
  const raised = v.severityRaisedBy > 0 ? `severity raised by ${v.severityRaisedBy}` : 'severity not raised';
  return reasons ? `${reasons} — ${raised}` : raised;
};

/** "Year 9", "Reception": a year group as stored, in words. */
export const yearGroupLabel = (yearGroup: string): string => (/^\d+$/.test(yearGroup) ? `Year ${yearGroup}` : yearGroup);

export const personName = (subject: Subject): string => subject.displayName?.trim() || subject.key;

export const plural = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`;
