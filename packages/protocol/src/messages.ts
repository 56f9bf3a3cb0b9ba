import { z } from 'zod';
import { CATEGORIES, SOURCES } from './categories';
import { ERROR_CODES, HELLO_REJECTION_REASONS } from './close-codes';
import { LIMITS, PROTOCOL_VERSION } from './limits';
import { storedText, units } from './fields';
import { codePoints } from './text';
import { parseProtocolTime } from './time';
import { isUuidV7 } from './uuid';

/** A stored agent string of at most `max` characters (see fields.ts). */
const text = (max: number) => storedText(max);
/** The same, but at least one character once made storable. */
const word = (max: number) => storedText(max, 1);
/** Any RFC 9562 UUID, read in lower case so that ids compare as strings. */
const uuid = z.uuid().transform((s) => s.toLowerCase());
const uuidV7 = z.string().refine(isUuidV7, { message: 'must be a lower-case UUIDv7' });
/** Longer than any RFC 3339 time the protocol allows (nine fraction digits and an offset). */
const MAX_TIME_CHARS = 40;
const isoTime = units(MAX_TIME_CHARS).refine((s) => parseProtocolTime(s) !== null, {
    message: 'must be an RFC 3339 time with seconds: a real date and time in the years 0001–9999, offset within ±14:00',
  });

/**
 * An event's `url` as the protocol allows it: http:// or https://, a host, then a path at
 * most — no user name or password, no `?query`, no `#fragment`, no spaces or control characters.
 */
export function isCleanUrl(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^https?:\/\/[^/?#\s@]+(\/[^?#]*)?$/i.test(s) && !/[\s\u0000-\u001f\u007f]/.test(s);
}

export const CategorySchema = z.enum(CATEGORIES);
export const SourceSchema = z.enum(SOURCES);
export const SeveritySchema = z.int().min(0).max(5);
export const AgeBandSchema = z.enum(['primary', 'secondary', 'staff']);

/**
 * What was matched and a little around it. The agent masks e-mail addresses, phone numbers
 * and card-like numbers in all three parts before the event leaves the device.
 */
export const EvidenceSchema = z
  .object({
    match: word(LIMITS.maxEvidenceMatchChars),
    before: text(LIMITS.maxEvidenceContextChars),
    after: text(LIMITS.maxEvidenceContextChars),
  })
  .refine((e) => codePoints(e.before) + codePoints(e.after) <= LIMITS.maxEvidenceContextChars, {
    message: `context before and after together must be at most ${LIMITS.maxEvidenceContextChars} characters`,
    path: ['after'],
  });

/** Most entries in an event's `explanation`: the scorer reports at most ten reasons. */
export const MAX_EXPLANATION_ENTRIES = 10;
/** Most adjustments in one entry (the scorer applies far fewer; the bound keeps the frame small). */
export const MAX_EXPLANATION_ADJUSTMENTS = 16;
/** Most word classes, and most context kinds, one entry may name. */
export const MAX_EXPLANATION_NAMES = 8;

/**
 * A rule id as the lexicon makes them, `category.lang.slug` (e.g. `suicide.en.kill_myself`):
 * letters, digits, `_`, `.` and `-` only. Letters of any script are allowed for a lexicon
 * that names its rules in its own language; spaces and punctuation are not, so no sentence
 * of captured text can pass for an id.
 */
const RULE_ID = /^[\p{L}\p{N}_.-]+$/u;
/** A name the scorer chose (an adjustment, a word class, a context kind): a lower-case identifier. */
const NAME = /^[a-z][a-z0-9_]{0,39}$/;
const ruleId = units(LIMITS.maxRuleIdChars, 1).regex(RULE_ID, { message: 'must be a rule id (letters, digits, "_", "." and "-")' });
const name = z.string().regex(NAME, { message: 'must be a lower-case name of at most 40 letters, digits and "_"' });

/**
 * Why one rule fired, as the scorer's `Reason` (packages/risk/README.md, "The explanation"):
 * rule ids, names and numbers only, never captured text. Every string is held to an id or
 * name pattern for that reason.
 */
export const ExplanationEntrySchema = z.object({
  ruleId,
  category: CategorySchema,
  /**
   * term: a listed phrase; pair: two words near each other; frame: word classes near each other;
   * learned: the learned model (the words it relied on are the event's matches, in the evidence).
   */
  kind: z.enum(['term', 'pair', 'frame', 'learned']),
  /** The rule's own severity, before context. */
  base: SeveritySchema,
  /** Each context rule that moved the severity, in the order applied (delta 0 for a cap). */
  adjustments: z.array(z.object({ name, delta: z.int().min(-5).max(5) })).max(MAX_EXPLANATION_ADJUSTMENTS),
  /** The severity after context. */
  severity: SeveritySchema,
  classes: z.array(name).max(MAX_EXPLANATION_NAMES).optional(),
  needs: z.array(name).max(MAX_EXPLANATION_NAMES).optional(),
  /** The other rule of the category that raised this one. */
  corroboratedBy: ruleId.optional(),
  /** learned: the model's probability for the category, in whole per cent. */
  confidence: z.int().min(0).max(100).optional(),
});
export type ExplanationEntry = z.infer<typeof ExplanationEntrySchema>;

/** One flagged observation, made and identified on the device. */
export const EventSchema = z.object({
  id: uuidV7,
  occurredAt: isoTime,
  source: SourceSchema,
  category: CategorySchema,
  severity: SeveritySchema,
  ruleIds: z.array(word(LIMITS.maxRuleIdChars)).max(LIMITS.maxRuleIds),
  evidence: EvidenceSchema,
  app: text(LIMITS.maxAppChars).nullable(),
  windowTitle: text(LIMITS.maxWindowTitleChars).nullable(),
  /**
   * The address in the foreground browser window, where the platform gives one (Windows and
   * macOS): http or https, host and path only. Query strings and fragments (search terms,
   * tokens) are removed on the device; an address with either is refused.
   */
  url: word(LIMITS.maxUrlChars)
    .refine(isCleanUrl, { message: 'must be an http(s) address without user, query or fragment' })
    .optional(),
  osUser: word(LIMITS.maxOsUserChars),
  deviceId: uuid,
  /** Why the scorer flagged it, reported category first; older agents leave it out. */
  explanation: z.array(ExplanationEntrySchema).max(MAX_EXPLANATION_ENTRIES).optional(),
});
export type AgentEvent = z.infer<typeof EventSchema>;

export const OsSchema = z.object({
  platform: word(LIMITS.maxOsFieldChars),
  release: text(LIMITS.maxOsFieldChars),
  arch: text(LIMITS.maxOsFieldChars).optional(),
});

// ---- agent -> collector ------------------------------------------------------------------

export const HelloSchema = z.object({
  type: z.literal('hello'),
  protocol: z.int(),
  deviceId: uuid,
  // Compared as sent (only its hash is ever stored).
  credential: units(LIMITS.maxCredentialChars, 1),
  agentVersion: word(LIMITS.maxAgentVersionChars),
  os: OsSchema,
});
export type Hello = z.infer<typeof HelloSchema>;

export const EventsSchema = z.object({
  type: z.literal('events'),
  batchId: uuid,
  events: z.array(EventSchema).min(1).max(LIMITS.maxEventsPerBatch),
});
export type EventsBatch = z.infer<typeof EventsSchema>;

export const SourceHealthSchema = z.object({
  state: z.enum(['ok', 'degraded', 'failed', 'disabled', 'paused']),
  detail: text(LIMITS.maxSourceDetailChars).optional(),
  lastCaptureAt: isoTime.nullable().optional(),
});
export type SourceHealth = z.infer<typeof SourceHealthSchema>;

/**
 * The per-user session part of an agent, as its service sees it: `running`; `ended` when the
 * user logged out; `stopped` when it stopped while the user was still logged in — a pupil
 * killing it, a crash — which the school should treat as a tamper signal.
 */
export const SESSION_STATES = ['running', 'ended', 'stopped'] as const;
export const SessionReportSchema = z.object({
  osUser: word(LIMITS.maxOsUserChars),
  state: z.enum(SESSION_STATES),
  since: isoTime,
  detail: text(LIMITS.maxSourceDetailChars).optional(),
});
export type SessionReport = z.infer<typeof SessionReportSchema>;
/** At most this many session reports in one heartbeat (a shared computer-room machine). */
export const MAX_SESSION_REPORTS = 64;

export const HeartbeatSchema = z.object({
  type: z.literal('heartbeat'),
  agentVersion: word(LIMITS.maxAgentVersionChars),
  /** Keyed by source name; names this version does not know are kept, for newer agents. */
  sources: z
    .record(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/), SourceHealthSchema)
    .refine((r) => Object.keys(r).length <= 16, { message: 'at most 16 sources' }),
  outboxDepth: z.int().min(0),
  droppedEvents: z.int().min(0).default(0),
  /** The device's per-user session parts (agents split into service + session); older agents leave it out. */
  sessions: z.array(SessionReportSchema).max(MAX_SESSION_REPORTS).optional(),
  sentAt: isoTime,
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

export const AgentMessageSchema = z.discriminatedUnion('type', [HelloSchema, EventsSchema, HeartbeatSchema]);
export type AgentMessage = z.infer<typeof AgentMessageSchema>;
export const AGENT_MESSAGE_TYPES = ['hello', 'events', 'heartbeat'] as const;

// ---- collector -> agent ------------------------------------------------------------------

export const HelloOkSchema = z.object({
  type: z.literal('hello-ok'),
  protocol: z.literal(PROTOCOL_VERSION),
  deviceId: uuid,
  schoolId: uuid,
  serverTime: isoTime,
  heartbeatIntervalSeconds: z.int().positive(),
  limits: z.object({ maxFrameBytes: z.int().positive(), maxEventsPerBatch: z.int().positive() }),
});
export type HelloOk = z.infer<typeof HelloOkSchema>;

export const HelloRejectedSchema = z.object({
  type: z.literal('hello-rejected'),
  reason: z.enum(HELLO_REJECTION_REASONS),
  message: text(LIMITS.maxReasonChars),
  supportedProtocols: z.array(z.int()),
});
export type HelloRejected = z.infer<typeof HelloRejectedSchema>;

export const AckSchema = z.object({
  type: z.literal('ack'),
  batchId: uuid,
  /** Every event id of the batch: newly stored and already held alike. */
  ids: z.array(uuidV7),
  /** How many of `ids` the collector already held. */
  duplicates: z.int().min(0),
});
export type Ack = z.infer<typeof AckSchema>;

/**
 * Languages the agent can read screen text in: the languages the scorer knows and whose
 * Tesseract data ships with the agent (there is none for Somali). English, Polish, Romanian,
 * Portuguese, Arabic, Urdu, Bengali, Punjabi (Gurmukhi), Spanish, French, Turkish, Lithuanian.
 */
export const OCR_LANGUAGES = ['eng', 'pol', 'ron', 'por', 'ara', 'urd', 'ben', 'pan', 'spa', 'fra', 'tur', 'lit'] as const;
export type OcrLanguage = (typeof OCR_LANGUAGES)[number];
/** Each OCR language's name in English, for people choosing them. */
export const OCR_LANGUAGE_NAMES: Record<OcrLanguage, string> = {
  eng: 'English',
  pol: 'Polish',
  ron: 'Romanian',
  por: 'Portuguese',
  ara: 'Arabic',
  urd: 'Urdu',
  ben: 'Bengali',
  pan: 'Punjabi (Gurmukhi)',
  spa: 'Spanish',
  fra: 'French',
  tur: 'Turkish',
  lit: 'Lithuanian',
};
/** Most OCR languages a policy may choose. */
export const MAX_OCR_LANGUAGES = 4;
export const OcrLanguagesSchema = z
  .array(z.enum(OCR_LANGUAGES))
  .min(1)
  .max(MAX_OCR_LANGUAGES)
  .refine((langs) => new Set(langs).size === langs.length, { message: 'each language at most once' });

export const PolicySchema = z.object({
  /** Lowest severity that leaves the device. */
  threshold: z.int().min(1).max(5),
  sources: z.object({ title: z.boolean(), keys: z.boolean(), screen: z.boolean() }),
  /** Local times (HH:MM, device clock) when no capture happens, e.g. evenings on take-home laptops. */
  quietHours: z.array(
    z.object({
      start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
      end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
    }),
  ),
  /** The band for a user without an entry in userAgeBands. */
  ageBand: AgeBandSchema,
  /**
   * Age band per OS user name (lower case), from the school's directory, so the scorer fits
   * whoever is at the keyboard: a shared laptop serves Year 3 and Year 10 alike.
   */
  userAgeBands: z.record(units(LIMITS.maxOsUserChars, 1), AgeBandSchema).optional(),
  /**
   * Languages screen text is read in (Tesseract codes); absent means English only. At most
   * four: each language adds to every OCR's time and to the worker's memory.
   */
  ocrLanguages: OcrLanguagesSchema.optional(),
});
export type Policy = z.infer<typeof PolicySchema>;

export const PolicyMessageSchema = z.object({
  type: z.literal('policy'),
  version: z.int().min(1),
  policy: PolicySchema,
});
export type PolicyMessage = z.infer<typeof PolicyMessageSchema>;

export const ErrorMessageSchema = z.object({
  type: z.literal('error'),
  code: z.enum(ERROR_CODES),
  message: text(LIMITS.maxReasonChars),
  batchId: uuid.optional(),
  /** For `invalid-batch`: the position of the first offending event in `events`. */
  index: z.int().min(0).optional(),
  /** For `unavailable`: how long the agent SHOULD wait before resending. */
  retryAfterMs: z.int().min(0).optional(),
});
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;

export const CollectorMessageSchema = z.discriminatedUnion('type', [
  HelloOkSchema,
  HelloRejectedSchema,
  AckSchema,
  PolicyMessageSchema,
  ErrorMessageSchema,
]);
export type CollectorMessage = z.infer<typeof CollectorMessageSchema>;
