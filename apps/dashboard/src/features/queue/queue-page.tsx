import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useLocation, useSearchParams } from 'react-router-dom';
import { errorMessage, getQueue, type AlertDelivery, type IncidentQuery, type IncidentSummary, type Status } from '../../api';
import { labelFrom, schoolDate } from '../../format';
import { useMeta } from '../../meta-context';
import { useMe } from '../auth/session-context';
import { useDocumentTitle } from '../layout/use-document-title';
import { IncidentTable } from './incident-table';
import { LiveIndicator, useLiveIncidents, useLiveRemovals } from './live-context';

const QUEUE_LIMIT = 200;
const ALL_STATUSES: Status[] = ['new', 'in_review', 'escalated', 'closed'];

type StatusFilter = 'open' | Status | 'all';

const STATUS_OPTIONS: { value: StatusFilter; label: string }[] = [
  { value: 'open', label: 'Open' },
  { value: 'new', label: 'New' },
  { value: 'in_review', label: 'In review' },
  { value: 'escalated', label: 'Escalated' },
  { value: 'closed', label: 'Closed' },
  { value: 'all', label: 'All' },
];

type Filters = {
  status: StatusFilter;
  category: string;
  schoolId: string;
  yearGroup: string;
  from: string;
  to: string;
};

const isStatusFilter = (value: string | null): value is StatusFilter => STATUS_OPTIONS.some((o) => o.value === value);
const isDate = (value: string | null): value is string => value !== null && /^\d{4}-\d{2}-\d{2}$/.test(value);

const readFilters = (params: URLSearchParams): Filters => {
  const status = params.get('status');
  const from = params.get('from');
  const to = params.get('to');
  return {
    status: isStatusFilter(status) ? status : 'open',
    category: params.get('category') ?? '',
    schoolId: params.get('schoolId') ?? '',
    yearGroup: params.get('yearGroup') ?? '',
    from: isDate(from) ? from : '',
    to: isDate(to) ? to : '',
  };
};

const toQuery = (f: Filters): IncidentQuery => ({
  status: f.status === 'all' ? ALL_STATUSES : [f.status],
  category: f.category || undefined,
  schoolId: f.schoolId || undefined,
  yearGroup: f.yearGroup.trim() || undefined,
  from: f.from || undefined,
  to: f.to || undefined,
  limit: QUEUE_LIMIT,
});

/** Whether a live update belongs in the list the current filters asked the API for. */
const matches = (incident: IncidentSummary, f: Filters): boolean => {
  // Absorbed into a cluster: the cluster's own row stands for it now.
  if (incident.mergedInto) return false;
  if (f.status === 'open' && incident.status === 'closed') return false;
  if (f.status !== 'open' && f.status !== 'all' && incident.status !== f.status) return false;
  if (f.category && incident.category !== f.category) return false;
  if (f.schoolId && incident.schoolId !== f.schoolId) return false;
  // The API compares the year group exactly, so the live feed does too.
  const year = f.yearGroup.trim();
  if (year && incident.subject.yearGroup !== year) return false;
  const day = schoolDate(incident.lastSeenAt);
  if (f.from && day < f.from) return false;
  if (f.to && day > f.to) return false;
  return true;
};

/** The API's order: highest severity first, then the longest waiting (earliest first seen). */
const byQueueOrder = (a: IncidentSummary, b: IncidentSummary): number =>
  b.severity - a.severity || Date.parse(a.firstSeenAt) - Date.parse(b.firstSeenAt) || a.id.localeCompare(b.id);

export const QueuePage = () => {
  useDocumentTitle('Incidents');
  const me = useMe();
  const { meta } = useMeta();
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => readFilters(params), [params]);
  const queryKey = JSON.stringify(toQuery(filters));

  const [incidents, setIncidents] = useState<IncidentSummary[] | null>(null);
  const [alertDelivery, setAlertDelivery] = useState<AlertDelivery | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const [announcement, setAnnouncement] = useState('');
  // A message from the page the user came from (an incident that is no longer theirs, say).
  const location = useLocation();
  const [notice, setNotice] = useState('');
  useEffect(() => {
    const state = location.state as { notice?: unknown } | null;
    setNotice(typeof state?.notice === 'string' ? state.notice : '');
  }, [location.key, location.state]);
  const current = useRef<IncidentSummary[] | null>(null);
  current.current = incidents;

  const schools = useMemo(() => {
    const seen = new Map<string, string>();
    for (const r of me.roles) if (r.role === 'dsl' || r.role === 'deputy_dsl' || r.role === 'head') seen.set(r.schoolId, r.schoolName);
    return [...seen].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name, 'en-GB'));
  }, [me.roles]);

  // Year group is typed: follow the input at once, ask the API after a pause.
  const [yearGroup, setYearGroup] = useState(filters.yearGroup);
  useEffect(() => setYearGroup(filters.yearGroup), [filters.yearGroup]);

  const setFilter = useCallback(
    (name: keyof Filters, value: string) => {
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          if (value === '' || (name === 'status' && value === 'open')) next.delete(name);
          else next.set(name, value);
          return next;
        },
        { replace: true },
      );
    },
    [setParams],
  );

  useEffect(() => {
    if (yearGroup === filters.yearGroup) return;
    const timer = setTimeout(() => setFilter('yearGroup', yearGroup), 400);
    return () => clearTimeout(timer);
  }, [yearGroup, filters.yearGroup, setFilter]);

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    getQueue(JSON.parse(queryKey) as IncidentQuery, controller.signal)
      .then((queue) => {
        setIncidents(queue.incidents);
        setAlertDelivery(queue.alertDelivery);
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(errorMessage(e));
      });
    return () => controller.abort();
  }, [queryKey, reload]);

  useLiveRemovals((id) => {
    const list = current.current;
    if (list === null || !list.some((i) => i.id === id)) return;
    const next = list.filter((i) => i.id !== id);
    current.current = next;
    setIncidents(next);
  });

  const liveStatus = useLiveIncidents((incident) => {
    const list = current.current;
    if (list === null) return;
    const existing = list.find((i) => i.id === incident.id);
    if (existing && existing.version > incident.version) return;
    const fits = matches(incident, filters);
    if (!existing && !fits) return;
    const next = list.filter((i) => i.id !== incident.id);
    if (fits) next.push(incident);
    next.sort(byQueueOrder);
    current.current = next;
    setIncidents(next);
    if (fits && !existing) {
      setAnnouncement(`New incident: ${labelFrom(meta?.categories, incident.category)}, severity ${incident.severity}`);
    }
  });

  return (
    <section className="page">
      <div className="page-heading">
        <h1>Incidents</h1>
        <LiveIndicator status={liveStatus} />
      </div>
      {alertDelivery && !alertDelivery.working && alertDelivery.message && (
        // Without a working channel nobody hears of a severe concern away from this page.
        <div className="notice alert-delivery" role="alert">
          <p>{alertDelivery.message}</p>
        </div>
      )}
      <p className="announcement" aria-live="polite">
        {announcement}
      </p>
      <p role="status" className="form-status">
        {notice}
      </p>

      <form className="filters" role="search" aria-label="Filter incidents" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="filter-category">Category</label>
          <select id="filter-category" value={filters.category} onChange={(e) => setFilter('category', e.target.value)}>
            <option value="">All categories</option>
            {meta?.categories.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
            {filters.category && !meta?.categories.some((c) => c.value === filters.category) && (
              <option value={filters.category}>{labelFrom(undefined, filters.category)}</option>
            )}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select id="filter-status" value={filters.status} onChange={(e) => setFilter('status', e.target.value)}>
            {STATUS_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </div>
        {schools.length > 1 && (
          <div className="field">
            <label htmlFor="filter-school">School</label>
            <select id="filter-school" value={filters.schoolId} onChange={(e) => setFilter('schoolId', e.target.value)}>
              <option value="">All schools</option>
              {schools.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field field-narrow">
          <label htmlFor="filter-year">Year group</label>
          <input
            id="filter-year"
            type="text"
            maxLength={20}
            value={yearGroup}
            onChange={(e) => setYearGroup(e.target.value)}
            onBlur={() => {
              if (yearGroup !== filters.yearGroup) setFilter('yearGroup', yearGroup);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && yearGroup !== filters.yearGroup) setFilter('yearGroup', yearGroup);
            }}
          />
        </div>
        <div className="field">
          <label htmlFor="filter-from">From</label>
          <input id="filter-from" type="date" value={filters.from} max={filters.to || undefined} onChange={(e) => setFilter('from', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="filter-to">To</label>
          <input id="filter-to" type="date" value={filters.to} min={filters.from || undefined} onChange={(e) => setFilter('to', e.target.value)} />
        </div>
      </form>

      {error !== null ? (
        <div className="notice">
          <p role="alert">{error}</p>
          <button type="button" onClick={() => setReload((n) => n + 1)}>
            Try again
          </button>
        </div>
      ) : incidents === null ? (
        <p role="status">Loading incidents…</p>
      ) : incidents.length === 0 ? (
        <p className="empty">Nothing needs your attention.</p>
      ) : (
        <>
          <IncidentTable caption="Incident queue" incidents={incidents} />
          {incidents.length >= QUEUE_LIMIT && (
            <p className="hint">Showing the first {QUEUE_LIMIT} incidents. Narrow the filters to see the rest.</p>
          )}
        </>
      )}
    </section>
  );
};
