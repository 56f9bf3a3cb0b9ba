import { LIMITS, uuidv7, type AgentEvent, type Policy } from '@haven/protocol';
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
  const ruleIds = [...new Set(result.matches.filter((m) => m.category === result.category).map((m) => m.ruleId.slice(0, LIMITS.maxRuleIdChars)))].slice(
    0,
    LIMITS.maxRuleIds,
  );
  const event: AgentEvent = {
    id: uuidv7(obs.at.getTime()),
    occurredAt: obs.at.toISOString(),
    source: obs.source,
    category: result.category,
    severity: result.severity,
    ruleIds,
    evidence: cutEvidence(obs.text, top.start, top.end),
    app: obs.app === null ? null : obs.app.slice(0, LIMITS.maxAppChars),
    windowTitle: obs.title === null ? null : maskText(obs.title).slice(0, LIMITS.maxWindowTitleChars),
    osUser: identity.osUser.slice(0, LIMITS.maxOsUserChars),
    deviceId: identity.deviceId,
  };
  return { event, result };
}
