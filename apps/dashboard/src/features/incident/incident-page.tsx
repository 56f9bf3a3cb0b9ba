import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import {
  acknowledgeIncident,
  ApiError,
  errorMessage,
  exportIncident,
  getIncident,
  revealEvidence,
  type Evidence,
  type IncidentDetail,
} from '../../api';
import { formatDateTime, labelFrom, routedToLabel, sourceLabel, subjectName, vulnerabilitySummary } from '../../format';
import { useMeta } from '../../meta-context';
import { useDocumentTitle } from '../layout/use-document-title';
import { chronologyPath } from '../people/people-path';
import { useLiveIncidents } from '../queue/live-context';
import { VulnerableBadge } from '../queue/incident-table';
import { SeverityBadge } from '../queue/severity-badge';
import { EventTimeline } from './event-timeline';
import { HistoryList } from './history-list';
import { ReasonDialog } from './reason-dialog';
import { SharedLogonSection } from './shared-logon-section';
import { WorkflowForm } from './workflow-form';

type Load = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; incident: IncidentDetail };

const download = (blob: Blob, filename: string): void => {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
};

export const IncidentPage = () => {
  const { id = '' } = useParams();
  const { meta, error: metaError } = useMeta();
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const [evidence, setEvidence] = useState<Evidence[] | null>(null);
  const [dialog, setDialog] = useState<'evidence' | 'export' | null>(null);
  const [notice, setNotice] = useState('');
  const [actionError, setActionError] = useState<string | null>(null);
  const [liveVersion, setLiveVersion] = useState(0);
  const evidenceRef = useRef<HTMLElement>(null);

  const incident = load.state === 'ready' ? load.incident : null;
  const title = incident ? `Incident: ${labelFrom(meta?.categories, incident.category)} — ${subjectName(incident)}` : null;
  useDocumentTitle(title ?? 'Incident');

  const fetchIncident = useCallback(
    async (signal?: AbortSignal): Promise<void> => {
      try {
        const fresh = await getIncident(id, signal);
        setLoad({ state: 'ready', incident: fresh });
      } catch (error) {
        if (signal?.aborted) return;
        // A failed reload keeps the page (and says why); a first load, or a 404, replaces it.
        setLoad((prev) => (prev.state === 'ready' && !(error instanceof ApiError && error.status === 404) ? prev : { state: 'error', error }));
        setActionError(errorMessage(error));
      }
    },
    [id],
  );

  useEffect(() => {
    const controller = new AbortController();
    setLoad({ state: 'loading' });
    setEvidence(null);
    setNotice('');
    setActionError(null);
    void fetchIncident(controller.signal);
    return () => controller.abort();
  }, [fetchIncident]);

  useEffect(() => {
    if (evidence) evidenceRef.current?.focus();
  }, [evidence]);

  useLiveIncidents((update) => {
    if (update.id === id) setLiveVersion((v) => Math.max(v, update.version));
  });

  if (load.state === 'loading') return <p role="status">Loading incident…</p>;
  if (load.state === 'error') {
    const { error } = load;
    const notFound = error instanceof ApiError && error.status === 404;
    return (
      <section className="page">
        <h1>{notFound ? 'Incident not found' : 'Incident could not be loaded'}</h1>
        <p role="alert">{notFound ? 'There is no such incident, or it is not one you can see.' : errorMessage(error)}</p>
        <p>
          <Link to="/">Back to incidents</Link>
        </p>
      </section>
    );
  }

  const inc = load.incident;
  const eventsById = new Map(inc.events.map((e) => [e.id, e]));
  const isCluster = inc.kind === 'cluster';
  const isShared = !isCluster && inc.subject.kind === 'shared';

  const acknowledge = async () => {
    setActionError(null);
    setNotice('');
    try {
      await acknowledgeIncident(inc.id);
      await fetchIncident();
      setNotice('Acknowledged.');
    } catch (error) {
      setActionError(errorMessage(error));
    }
  };

  return (
    <article className="page incident">
      <p className="breadcrumb">
        <Link to="/">Back to incidents</Link>
      </p>
      <h1>{title}</h1>
      <p className="badges">
        {(isCluster || inc.likelyLessonContent) && <span className="badge badge-lesson">Likely lesson content</span>}
        {isShared && <span className="badge badge-shared">Shared logon</span>}
        {!isCluster && inc.subject.kind === 'staff' && <span className="badge badge-staff">Staff</span>}
        {!isCluster && inc.vulnerability && <VulnerableBadge vulnerability={inc.vulnerability} />}
      </p>
      {!isCluster && inc.vulnerability && <p className="vulnerable-note">Vulnerable: {vulnerabilitySummary(inc.vulnerability)}</p>}

      {liveVersion > inc.version && (
        <div className="notice" role="status">
          <p>This incident has changed since you opened it.</p>
          <button type="button" onClick={() => void fetchIncident()}>
            Load the latest
          </button>
        </div>
      )}

      <dl className="summary">
        <div>
          <dt>Severity</dt>
          <dd>
            <SeverityBadge severity={inc.severity} />
          </dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>{labelFrom(meta?.statuses, inc.status)}</dd>
        </div>
        <div>
          <dt>Routed to</dt>
          <dd>{routedToLabel(inc.routedTo)}</dd>
        </div>
        <div>
          <dt>School</dt>
          <dd>{inc.schoolName}</dd>
        </div>
        {!isCluster && inc.subject.yearGroup && (
          <div>
            <dt>Year group</dt>
            <dd>{inc.subject.yearGroup}</dd>
          </div>
        )}
        <div>
          <dt>First seen</dt>
          <dd>
            <time dateTime={inc.firstSeenAt}>{formatDateTime(inc.firstSeenAt)}</time>
          </dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd>
            <time dateTime={inc.lastSeenAt}>{formatDateTime(inc.lastSeenAt)}</time>
          </dd>
        </div>
        <div>
          <dt>Events</dt>
          <dd>{inc.eventCount}</dd>
        </div>
        <div>
          <dt>Devices</dt>
          <dd>{inc.deviceCount}</dd>
        </div>
        <div>
          <dt>Assigned to</dt>
          <dd>{inc.assignee?.displayName ?? 'Unassigned'}</dd>
        </div>
        <div>
          <dt>Acknowledged</dt>
          <dd>{inc.acknowledgedAt ? <time dateTime={inc.acknowledgedAt}>{formatDateTime(inc.acknowledgedAt)}</time> : 'Not yet'}</dd>
        </div>
      </dl>

      <div className="button-row">
        {inc.acknowledgedAt === null && (
          <button type="button" className="primary" onClick={() => void acknowledge()}>
            Acknowledge
          </button>
        )}
        {evidence === null && (
          <button type="button" onClick={() => setDialog('evidence')}>
            Show evidence
          </button>
        )}
        <button type="button" onClick={() => setDialog('export')}>
          Export
        </button>
        {!isCluster && !isShared && (
          <Link className="button-link" to={chronologyPath(inc.schoolId, inc.subject.key)}>
            Chronology for {subjectName(inc)}
          </Link>
        )}
      </div>
      <p role="status" className="form-status">
        {notice}
      </p>
      <div role="alert" className="form-error">
        {actionError}
      </div>

      {evidence !== null && (
        <section aria-label="Evidence" className="evidence" ref={evidenceRef} tabIndex={-1}>
          <div className="section-heading">
            <h2>Evidence</h2>
            <button type="button" onClick={() => setEvidence(null)}>
              Hide evidence
            </button>
          </div>
          <p className="hint">Your viewing has been recorded in the audit log. Hide the evidence when you have finished.</p>
          {evidence.length === 0 ? (
            <p className="empty">No evidence is held for this incident.</p>
          ) : (
            <ol className="evidence-list">
              {evidence.map((item) => {
                const event = eventsById.get(item.eventId);
                return (
                  <li key={item.eventId}>
                    {event && (
                      <p className="timeline-meta">
                        <time dateTime={event.occurredAt}>{formatDateTime(event.occurredAt)}</time>
                        <span className="source">{sourceLabel(event.source)}</span>
                        <span>{event.device.hostname}</span>
                      </p>
                    )}
                    <p className="evidence-text">
                      {item.before}
                      <mark>{item.match}</mark>
                      {item.after}
                    </p>
                    <p>
                      <span className="muted">Window title: </span>
                      {item.windowTitle ?? <span className="muted">not recorded</span>}
                    </p>
                    {item.url && (
                      // Text, never a link: following it from here would visit the site as the school.
                      <p>
                        <span className="muted">Web address: </span>
                        <span className="evidence-url" translate="no">
                          {item.url}
                        </span>
                      </p>
                    )}
                  </li>
                );
              })}
            </ol>
          )}
        </section>
      )}

      <SharedLogonSection incident={inc} onReload={() => fetchIncident()} />

      <section aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        <EventTimeline events={inc.events} />
      </section>

      <section aria-labelledby="workflow-heading">
        <h2 id="workflow-heading">Record and decide</h2>
        {meta ? (
          <WorkflowForm
            incident={inc}
            meta={meta}
            onSaved={(updated) => setLoad({ state: 'ready', incident: updated })}
            onReload={() => fetchIncident()}
          />
        ) : metaError ? (
          <p role="alert">The workflow cannot be shown: {metaError}</p>
        ) : (
          <p role="status">Loading…</p>
        )}
      </section>

      <section aria-labelledby="notes-heading">
        <h2 id="notes-heading">Notes</h2>
        {inc.notes.length === 0 ? (
          <p className="empty">No notes yet.</p>
        ) : (
          <ol className="notes">
            {inc.notes.map((note, i) => (
              <li key={`${note.at}-${i}`}>
                <p className="note-meta">
                  <strong>{note.author.displayName}</strong> <time dateTime={note.at}>{formatDateTime(note.at)}</time>
                </p>
                <p className="note-text">{note.text}</p>
              </li>
            ))}
          </ol>
        )}
      </section>

      <section aria-labelledby="history-heading">
        <h2 id="history-heading">History</h2>
        <HistoryList history={inc.history} meta={meta} people={inc.assignable} />
      </section>

      {dialog === 'evidence' && (
        <ReasonDialog
          title="Show evidence"
          label="Reason for viewing"
          submitLabel="Reveal evidence"
          explanation="Evidence is the text Haven captured around each match. Give the reason you need to see it."
          onSubmit={async (reason) => {
            setEvidence(await revealEvidence(inc.id, reason));
            setNotice('');
          }}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === 'export' && (
        <ReasonDialog
          title="Export incident"
          label="Reason for export"
          submitLabel="Export evidence"
          explanation="The export is a JSON file of this incident with its evidence. Keep it as securely as the record itself. Give the reason you need it."
          onSubmit={async (reason) => {
            const file = await exportIncident(inc.id, reason);
            download(file.blob, file.filename);
            setNotice('Export downloaded.');
          }}
          onClose={() => setDialog(null)}
        />
      )}
    </article>
  );
};
