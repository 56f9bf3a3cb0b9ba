import type { AlertRecord, HistoryEntry, Meta, Option, StaffRef } from '../../api';
import { formatDateTime, labelFrom, severityWord } from '../../format';

const FIELD_LABELS: Record<string, string> = {
  status: 'status',
  involvement: 'who is involved',
  activityType: 'type of activity',
  concernLevel: 'level of concern',
  actions: 'actions',
  outcome: 'outcome',
  assignee: 'assignee',
  assigneeId: 'assignee',
  severity: 'severity',
  category: 'category',
  routedTo: 'routing',
  kind: 'kind',
};

const optionsFor = (field: string, meta: Meta | null): Option[] | undefined => {
  if (!meta) return undefined;
  switch (field) {
    case 'status':
      return meta.statuses;
    case 'involvement':
      return meta.involvement;
    case 'activityType':
      return meta.activityTypes;
    case 'concernLevel':
      return meta.concernLevels;
    case 'actions':
      return meta.actions;
    case 'outcome':
      return meta.outcomes;
    case 'category':
      return meta.categories;
    default:
      return undefined;
  }
};

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

const isStaffRef = (value: unknown): value is StaffRef =>
  value !== null && typeof value === 'object' && typeof (value as { displayName?: unknown }).displayName === 'string';

/** A history value in words: labels for codes, names for people, "none" for nothing. */
export const describeValue = (field: string, value: unknown, meta: Meta | null, people: StaffRef[]): string => {
  if (value === null || value === undefined || value === '') return 'none';
  if (Array.isArray(value)) {
    if (value.length === 0) return 'none';
    return value.map((v) => describeValue(field, v, meta, people)).join(', ');
  }
  if (isStaffRef(value)) return value.displayName;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return field === 'severity' ? `${value} ${severityWord(value)}` : String(value);
  if (typeof value === 'string') {
    if (field === 'assignee' || field === 'assigneeId') return people.find((p) => p.id === value)?.displayName ?? value;
    if (field === 'routedTo') return value === 'head' ? 'Head teacher' : value === 'dsl' ? 'DSL' : value;
    if (ISO_TIME.test(value)) return formatDateTime(value) || value;
    const options = optionsFor(field, meta);
    return options ? labelFrom(options, value) : value;
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
};

type AttributionFrom = { osUser?: unknown; device?: unknown; room?: unknown } | null;
type AttributionTo = { displayName?: unknown; reason?: unknown } | null;

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);

/** "… (was class5b in Room 12)": the account and where it was used, the room or else the device. */
const describeAttribution = (who: string, entry: HistoryEntry): string => {
  const from = entry.from as AttributionFrom;
  const to = entry.to as AttributionTo;
  const name = text(to?.displayName) ?? 'someone';
  const account = text(from?.osUser);
  const place = text(from?.room) ?? text(from?.device);
  const was = account ? ` (was ${account}${place ? ` in ${place}` : ''})` : '';
  return `${who} attributed the incident to ${name}${was}`;
};

const isAlertRecord = (value: unknown): value is AlertRecord =>
  value !== null && typeof value === 'object' && typeof (value as { channel?: unknown }).channel === 'string' && typeof (value as { outcome?: unknown }).outcome === 'string';

/** What one channel of an urgent alert really did, in words: never "sent" unless it was. */
const describeAlert = (entry: HistoryEntry): string => {
  const record = entry.to;
  if (!isAlertRecord(record)) return 'Haven recorded an alert';
  const what = record.kind === 'escalation' ? 'the escalation' : 'the urgent alert';
  const by = record.channel === 'email' ? 'by e-mail' : 'to the webhook';
  switch (record.outcome) {
    case 'sent':
      return record.channel === 'email'
        ? `Haven e-mailed ${what} to ${record.recipients} ${record.recipients === 1 ? 'person' : 'people'}`
        : `Haven sent ${what} to the webhook`;
    case 'not_configured':
      return `Haven could not send ${what} ${by}: no mail server is set up, so nothing was sent`;
    case 'no_recipient':
      return `Haven could not send ${what} ${by}: nobody at the school has the role to receive it`;
    case 'failed':
      return `Sending ${what} ${by} failed${record.retrying ? '; Haven is trying again every minute' : ''}`;
    default:
      return `Haven recorded ${what} ${by}`;
  }
};

/** How the person attributing knew, when they said. */
export const attributionReason = (entry: HistoryEntry): string | null =>
  entry.field === 'attribution' ? text((entry.to as AttributionTo)?.reason) : null;

export const describeEntry = (entry: HistoryEntry, meta: Meta | null, people: StaffRef[]): string => {
  const who = entry.actor?.displayName ?? 'Haven';
  switch (entry.field) {
    case 'created': {
      const severity = (entry.to as { severity?: unknown } | null)?.severity;
      return typeof severity === 'number' ? `${who} created the incident at severity ${severity} ${severityWord(severity)}` : `${who} created the incident`;
    }
    case 'merged':
      return `${who} merged this incident into a cluster`;
    case 'absorbed': {
      const count = (entry.to as { incidents?: unknown } | null)?.incidents;
      return typeof count === 'number' ? `${who} grouped ${count} incident${count === 1 ? '' : 's'} into this cluster` : `${who} grouped incidents into this cluster`;
    }
    case 'note':
      return `${who} added a note`;
    case 'attribution':
      return describeAttribution(who, entry);
    case 'alert':
      return describeAlert(entry);
    case 'escalation':
      return 'Nobody acknowledged the urgent alert in time: Haven escalated it';
    case 'acknowledged':
    case 'acknowledgedAt':
      return `${who} acknowledged the incident`;
    default: {
      const field = FIELD_LABELS[entry.field] ?? entry.field.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[._-]+/g, ' ').toLowerCase();
      return `${who} changed ${field} from ${describeValue(entry.field, entry.from, meta, people)} to ${describeValue(entry.field, entry.to, meta, people)}`;
    }
  }
};

export const HistoryList = ({ history, meta, people }: { history: HistoryEntry[]; meta: Meta | null; people: StaffRef[] }) => {
  if (history.length === 0) return <p className="empty">No changes yet.</p>;
  return (
    <ol className="history">
      {history.map((entry, i) => {
        const reason = attributionReason(entry);
        return (
          <li key={`${entry.at}-${i}`}>
            <time dateTime={entry.at}>{formatDateTime(entry.at)}</time> — {describeEntry(entry, meta, people)}
            {reason && <span className="history-reason"> — how they knew: {reason}</span>}
          </li>
        );
      })}
    </ol>
  );
};
