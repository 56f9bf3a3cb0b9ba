import type { EventView, ReasonView } from '../../api';
import { formatDateTime, labelFrom, severityWord, sourceLabel } from '../../format';
import { useMeta } from '../../meta-context';
import { SeverityBadge } from '../queue/severity-badge';

/** +1, −3 (a minus sign, which screen readers read as "minus"), 0. */
const signed = (delta: number): string => (delta > 0 ? `+${delta}` : delta < 0 ? `\u2212${-delta}` : '0');

/** One rule the device matched: its id and kind, its own severity, what moved it, where it ended. */
const Reason = ({ reason }: { reason: ReasonView }) => (
  <li>
    <code>{reason.ruleId}</code> ({reason.kindLabel}
    {reason.confidence !== undefined && <>, {reason.confidence}% confident</>}), severity {reason.base}
    {reason.adjustments.length > 0 && (
      <ul aria-label={`What changed the severity of ${reason.ruleId}`}>
        {reason.adjustments.map((a, i) => (
          <li key={i}>
            {signed(a.delta)} {a.label}
            {a.name === 'corroborated' && reason.corroboratedBy && (
              <>
                {' '}
                (<code>{reason.corroboratedBy}</code>)
              </>
            )}
          </li>
        ))}
      </ul>
    )}
    <div>
      Final severity {reason.severity} ({severityWord(reason.severity)})
    </div>
  </li>
);

/** Rule ids, as the event lists them. */
const RuleList = ({ label, rules }: { label: string; rules: string[] }) =>
  rules.length === 0 ? null : (
    <p className="rules">
      <span className="muted">{label}</span>
      {rules.map((rule, i) => (
        <span key={rule}>
          {i > 0 && ', '}
          <code>{rule}</code>
        </span>
      ))}
    </p>
  );

/**
 * Why the device flagged an event: with the scorer's explanation, each rule and what raised or
 * lowered it; without (an older agent), the collector's sentence and the rule ids.
 */
const WhyFlagged = ({ event }: { event: EventView }) => {
  const explanation = event.explanation ?? [];
  if (explanation.length === 0) {
    return (
      <>
        <p className="why">{event.why}</p>
        <RuleList label="Rules: " rules={event.ruleIds} />
      </>
    );
  }
  const headingId = `why-${event.id}`;
  const explained = new Set(explanation.map((r) => r.ruleId));
  return (
    <>
      <p className="why" id={headingId}>
        Why flagged
      </p>
      <ol className="rules" aria-labelledby={headingId}>
        {explanation.map((reason, i) => (
          <Reason key={i} reason={reason} />
        ))}
      </ol>
      <RuleList label="Also matched: " rules={event.ruleIds.filter((r) => !explained.has(r))} />
    </>
  );
};

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
          <WhyFlagged event={event} />
        </li>
      ))}
    </ol>
  );
};
