import { cleanCapturedText, LIMITS, parseProtocolTime, truncateUnits, uuidv7, type AgentEvent, type Policy } from '@haven/protocol';
import { score as defaultScore, type ScoreOptions, type ScoreResult } from '@haven/risk';
import { cutEvidence, maskText } from './evidence';

/** What a source saw: a window title, a typed phrase or a screen's text. */
export type Observation = {
  source: 'title' | 'keys' | 'screen';
  text: string;
  /** The application in the foreground, e.g. "chrome.exe". */
  app: string | null;
  /** The foreground window's title (for a title observation, the same as `text`). */
  title: string | null;
  at: Date;
};

export type Identity = { deviceId: string; osUser: string };

/**
 * Text as the event carries it: without NUL or other control characters (tab and newline
 * stay), with no half of an astral character, within `max` UTF-16 units. A window title or a
 * process name can hold anything, and PostgreSQL stores neither NUL nor a lone surrogate.
 */
export function eventText(text: string, max: number): string {
  return truncateUnits(cleanCapturedText(text), max);
}

/** The observation's time in the protocol's form; an impossible one (an invalid Date) becomes now. */
function eventTime(at: Date): string {
  const iso = Number.isNaN(at.getTime()) ? '' : at.toISOString();
  return parseProtocolTime(iso) === null ? new Date().toISOString() : iso;
}

export type Scored = { event: AgentEvent; result: ScoreResult } | { event: null; result: ScoreResult };

/**
 * Scores an observation on the device. Below the policy's threshold nothing is kept: the
 * text is dropped here and never leaves the device. At or above it, an event with the matched
 * words, a little masked context and the rule ids.
 */
export function toEvent(
  obs: Observation,
  policy: Pick<Policy, 'threshold' | 'ageBand' | 'userAgeBands'>,
  identity: Identity,
  score: (text: string, options: ScoreOptions) => ScoreResult = defaultScore,
): Scored {
  // The band of the user at the keyboard, when the school's directory gave one.
  const ageBand = policy.userAgeBands?.[identity.osUser.toLowerCase()] ?? policy.ageBand;
  const options: ScoreOptions = { source: obs.source, ageBand };
  if (obs.app) options.app = obs.app;
  if (obs.source !== 'title' && obs.title) options.title = obs.title;
  const result = score(obs.text, options);
  if (result.category === null || result.severity < policy.threshold || result.matches.length === 0) return { event: null, result };
  const top = result.matches[0]!;
  const ruleIds = [...new Set(result.matches.filter((m) => m.category === result.category).map((m) => eventText(m.ruleId, LIMITS.maxRuleIdChars)))].slice(
    0,
    LIMITS.maxRuleIds,
  );
  const event: AgentEvent = {
    id: uuidv7(Number.isNaN(obs.at.getTime()) ? Date.now() : obs.at.getTime()),
    occurredAt: eventTime(obs.at),
    source: obs.source,
    category: result.category,
    severity: result.severity,
    ruleIds,
    evidence: cutEvidence(obs.text, top.start, top.end),
    app: obs.app === null ? null : eventText(obs.app, LIMITS.maxAppChars),
    windowTitle: obs.title === null ? null : eventText(maskText(obs.title), LIMITS.maxWindowTitleChars),
    // Never empty: the protocol requires a user, and control characters alone are none.
    osUser: eventText(identity.osUser, LIMITS.maxOsUserChars) || 'unknown',
    deviceId: identity.deviceId,
  };
  return { event, result };
}
