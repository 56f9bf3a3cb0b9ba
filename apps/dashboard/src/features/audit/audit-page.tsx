import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { errorMessage, listAudit, type AuditEntry } from '../../api';
import { formatDateTime, humanise } from '../../format';
import { useMe } from '../auth/session-context';
import { incidentPath } from '../queue/incident-table';
import { useDocumentTitle } from '../layout/use-document-title';

const AUDIT_LIMIT = 500;

/** Known audit actions in words; anything else is shown tidied up. */
const ACTION_LABELS: Record<string, string> = {
  'evidence.reveal': 'Revealed evidence',
  'evidence.revealed': 'Revealed evidence',
  evidence_reveal: 'Revealed evidence',
  'evidence.export': 'Exported evidence',
  'incident.export': 'Exported incident',
  'incident.exported': 'Exported incident',
  incident_export: 'Exported incident',
  export: 'Exported incident',
  'auth.login': 'Signed in',
  login: 'Signed in',
  'auth.logout': 'Signed out',
  logout: 'Signed out',
};

const actorName = (actor: AuditEntry['actor']): string => {
  if (actor === null || actor === undefined) return 'Haven';
  if (typeof actor === 'string') return actor;
  return actor.displayName;
};

export const AuditPage = () => {
  useDocumentTitle('Audit log');
  const me = useMe();
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    listAudit(AUDIT_LIMIT, controller.signal)
      .then(setEntries)
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(errorMessage(e));
      });
    return () => controller.abort();
  }, [reload]);

  return (
    <section className="page">
      <h1>Audit log</h1>
      <p className="muted">Every time evidence was revealed or exported, by whom and why. Entries cannot be changed or deleted.</p>
      {error !== null ? (
        <div className="notice">
          <p role="alert">{error}</p>
          <button type="button" onClick={() => setReload((n) => n + 1)}>
            Try again
          </button>
        </div>
      ) : entries === null ? (
        <p role="status">Loading the audit log…</p>
      ) : entries.length === 0 ? (
        <p className="empty">Nothing has been recorded yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table">
            <caption>Audit log</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Incident</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={String(entry.id)}>
                  <td>
                    <time dateTime={entry.at}>{formatDateTime(entry.at)}</time>
                  </td>
                  <td>{actorName(entry.actor)}</td>
                  <td>{ACTION_LABELS[entry.action] ?? humanise(entry.action)}</td>
                  <td>
                    {entry.incidentId === null || entry.incidentId === undefined ? (
                      <span className="muted">—</span>
                    ) : me.can.incidents ? (
                      <Link to={incidentPath(entry.incidentId)}>Incident {entry.incidentId.slice(0, 8)}</Link>
                    ) : (
                      <span>Incident {entry.incidentId.slice(0, 8)}</span>
                    )}
                  </td>
                  <td className="reason">{entry.reason ?? <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
};
