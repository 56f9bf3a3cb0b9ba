import { useId } from 'react';
import { Link } from 'react-router-dom';
import type { IncidentSummary, Vulnerability } from '../../api';
import { formatDateTime, labelFrom, sharedLogonPlace, subjectName, vulnerabilitySummary } from '../../format';
import { useMeta } from '../../meta-context';
import { SeverityBadge } from './severity-badge';

export const incidentPath = (id: string): string => `/incidents/${encodeURIComponent(id)}`;

/** "Vulnerable", described (for a screen reader, and on hover) by why and by how much it raised the severity. */
export const VulnerableBadge = ({ vulnerability }: { vulnerability: Vulnerability }) => {
  const descriptionId = useId();
  const description = `Vulnerable: ${vulnerabilitySummary(vulnerability, true)}`;
  return (
    <>
      <span className="badge badge-vulnerable" title={description} aria-describedby={descriptionId}>
        Vulnerable
      </span>
      <span id={descriptionId} hidden>
        {description}
      </span>
    </>
  );
};

/** The "Who" cell: a link to the incident, and the badges that change how it is read. */
export const WhoCell = ({ incident }: { incident: IncidentSummary }) => {
  const person = incident.kind !== 'cluster';
  const shared = person && incident.subject.kind === 'shared';
  return (
    <>
      <Link to={incidentPath(incident.id)}>{subjectName(incident)}</Link>
      {(incident.kind === 'cluster' || incident.likelyLessonContent) && <span className="badge badge-lesson">Likely lesson content</span>}
      {shared && <span className="badge badge-shared">Shared logon</span>}
      {person && incident.subject.kind === 'staff' && <span className="badge badge-staff">Staff</span>}
      {person && incident.vulnerability && <VulnerableBadge vulnerability={incident.vulnerability} />}
      {person && incident.subject.yearGroup && <span className="who-detail">{incident.subject.yearGroup}</span>}
      {shared && incident.sharedLogon && <span className="who-place">{sharedLogonPlace(incident.sharedLogon)}</span>}
      {!shared && person && incident.sharedLogon && (
        <span className="who-place">
          via {incident.sharedLogon.osUser} in {sharedLogonPlace(incident.sharedLogon)}
        </span>
      )}
    </>
  );
};

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
