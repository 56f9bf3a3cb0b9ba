import { Link } from 'react-router-dom';
import type { IncidentSummary } from '../../api';
import { formatDateTime, labelFrom, subjectName } from '../../format';
import { useMeta } from '../../meta-context';
import { SeverityBadge } from './severity-badge';

export const incidentPath = (id: string): string => `/incidents/${encodeURIComponent(id)}`;

/** The "Who" cell: a link to the incident, and the badges that change how it is read. */
export const WhoCell = ({ incident }: { incident: IncidentSummary }) => (
  <>
    <Link to={incidentPath(incident.id)}>{subjectName(incident)}</Link>
    {(incident.kind === 'cluster' || incident.likelyLessonContent) && <span className="badge badge-lesson">Likely lesson content</span>}
    {incident.kind !== 'cluster' && incident.subject.kind === 'staff' && <span className="badge badge-staff">Staff</span>}
    {incident.kind !== 'cluster' && incident.subject.yearGroup && <span className="who-detail">{incident.subject.yearGroup}</span>}
  </>
);

/** The incident columns shared by the queue and a person's chronology. */
export const IncidentTable = ({ caption, incidents }: { caption: string; incidents: IncidentSummary[] }) => {
  const { meta } = useMeta();
  return (
    <div className="table-scroll">
      <table className="data-table">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Severity</th>
            <th scope="col">Category</th>
            <th scope="col">Who</th>
            <th scope="col">Status</th>
            <th scope="col" className="numeric">
              Events
            </th>
            <th scope="col">First seen</th>
            <th scope="col">Last seen</th>
            <th scope="col">Assigned to</th>
          </tr>
        </thead>
        <tbody>
          {incidents.map((incident) => (
            <tr key={incident.id}>
              <td>
                <SeverityBadge severity={incident.severity} />
              </td>
              <td>{labelFrom(meta?.categories, incident.category)}</td>
              <td className="who">
                <WhoCell incident={incident} />
              </td>
              <td>
                <span className={`status status-${incident.status}`}>{labelFrom(meta?.statuses, incident.status)}</span>
              </td>
              <td className="numeric">{incident.eventCount}</td>
              <td>
                <time dateTime={incident.firstSeenAt}>{formatDateTime(incident.firstSeenAt)}</time>
              </td>
              <td>
                <time dateTime={incident.lastSeenAt}>{formatDateTime(incident.lastSeenAt)}</time>
              </td>
              <td>{incident.assignee?.displayName ?? <span className="muted">Unassigned</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
};
