import type { EventView } from '../../api';
import { formatDateTime, labelFrom, sourceLabel } from '../../format';
import { useMeta } from '../../meta-context';
import { SeverityBadge } from '../queue/severity-badge';

/** Events as a list: when, where it was seen, and why it was flagged. Never captured text. */
export const EventTimeline = ({ events, showCategory = false }: { events: EventView[]; showCategory?: boolean }) => {
  const { meta } = useMeta();
  if (events.length === 0) return <p className="empty">No events.</p>;
  return (
    <ol className="timeline">
      {events.map((event) => (
        <li key={event.id} className="timeline-item">
          <div className="timeline-meta">
            <time dateTime={event.occurredAt}>{formatDateTime(event.occurredAt)}</time>
            <span className="source">{sourceLabel(event.source)}</span>
            <span>
              <span className="muted">Device </span>
              {event.device.hostname}
            </span>
            {event.app && (
              <span>
                <span className="muted">App </span>
                {event.app}
              </span>
            )}
            {showCategory && <span>{labelFrom(meta?.categories, event.category)}</span>}
            <SeverityBadge severity={event.severity} />
          </div>
          <p className="why">{event.why}</p>
          {event.ruleIds.length > 0 && (
            <p className="rules">
              <span className="muted">Rules: </span>
              {event.ruleIds.map((rule, i) => (
                <span key={rule}>
                  {i > 0 && ', '}
                  <code>{rule}</code>
                </span>
              ))}
            </p>
          )}
        </li>
      ))}
    </ol>
  );
};
