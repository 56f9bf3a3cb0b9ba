import {
  cleanCapturedText,
  ExplanationEntrySchema,
  isCleanUrl,
  LIMITS,
  MAX_EXPLANATION_ENTRIES,
  MAX_EXPLANATION_NAMES,
  parseProtocolTime,
  truncateUnits,
  uuidv7,
  type AgentEvent,
  type ExplanationEntry,
  type Policy,
} from '@haven/protocol';
import { score as defaultScore, type Reason, type ScoreOptions, type ScoreResult } from '@haven/risk';
import { cutEvidence, maskText, type TextSpan } from './evidence';

/** What a source saw: a window title, a typed phrase or a screen's text. */
export type Observation = {
  source: 'title' | 'keys' | 'screen';
  text: string;
  /** The application in the foreground, e.g. "chrome.exe". */
  app: string | null;
  /** The foreground window's title (for a title observation, the same as `text`). */
  title: string | null;
  /** The browser window's address, already cleaned (see cleanUrl); absent or null: none. */
  url?: string | null;
  at: Date;
  /** Screen text: the words OCR was unsure of, left out of the evidence's context. */
  unsure?: TextSpan[];
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

/**
 * The scorer's reasons as the wire takes them: the reported category's first, at most ten,
 * each with only the fields the protocol knows. An entry the protocol would refuse (a rule id
 * or a name outside its pattern, from a lexicon or scorer newer than this protocol) is left
 * out: a refused explanation would cost the whole event, and the explanation only says why.
 */
export function toExplanation(reasons: readonly Reason[], category: string): ExplanationEntry[] {
  const ordered = [...reasons.filter((r) => r.category === category), ...reasons.filter((r) => r.category !== category)];
  const out: ExplanationEntry[] = [];
  for (const r of ordered) {
    if (out.length === MAX_EXPLANATION_ENTRIES) break;
    const entry = {
      ruleId: r.ruleId,
      category: r.category,
      kind: r.kind,
      base: r.base,
      adjustments: r.adjustments.map(({ name, delta }) => ({ name, delta })),
      severity: r.severity,
      // Which classes and needs a frame named is description, not the score: a long list is cut.
      ...(r.classes?.length ? { classes: [...new Set(r.classes)].slice(0, MAX_EXPLANATION_NAMES) } : {}),
      ...(r.needs?.length ? { needs: [...new Set(r.needs)].slice(0, MAX_EXPLANATION_NAMES) } : {}),
      ...(r.corroboratedBy ? { corroboratedBy: r.corroboratedBy } : {}),
      // The learned model's words (r.features) are captured text: never sent; its confidence is a number.
      ...(r.confidence !== undefined ? { confidence: r.confidence } : {}),
    };
    const checked = ExplanationEntrySchema.safeParse(entry);
    if (checked.success) out.push(checked.data);
  }
  return out;
}

export type Scored = { event: AgentEvent; result: ScoreResult } | { event: null; result: ScoreResult };

/**
 * Scores an observation on the device. Below the policy's threshold nothing is kept: the
 * text is dropped here and never leaves the device. At or above it, an event with the matched
 * words, a little masked context, the rule ids and the scorer's explanation (ids and names, no text).
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
    evidence: cutEvidence(obs.text, top.start, top.end, obs.unsure),
    app: obs.app === null ? null : eventText(obs.app, LIMITS.maxAppChars),
    windowTitle: obs.title === null ? null : eventText(maskText(obs.title), LIMITS.maxWindowTitleChars),
    // Never empty: the protocol requires a user, and control characters alone are none.
    osUser: eventText(identity.osUser, LIMITS.maxOsUserChars) || 'unknown',
    deviceId: identity.deviceId,
  };
  // Cleaned where it was read; checked again so a careless caller cannot send a query string.
  if (obs.url && isCleanUrl(obs.url) && obs.url.length <= LIMITS.maxUrlChars) event.url = obs.url;
  // A scorer that gives no reasons (a stand-in in tests, an older build) sends none.
  const explanation = toExplanation(result.reasons ?? [], result.category);
  if (explanation.length) event.explanation = explanation;
  return { event, result };
}
