import { severityWord } from '../../format';

/** Severity as number and word, with a colour that is never the only signal. */
export const SeverityBadge = ({ severity }: { severity: number }) => (
  <span className={`severity severity-${Math.max(0, Math.min(5, Math.round(severity)))}`}>
    {severity} {severityWord(severity)}
  </span>
);
