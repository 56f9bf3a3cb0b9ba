/**
 * Hard limits of protocol version 1. Both sides enforce them: the agent never builds a frame
 * that breaks one, and the collector refuses any frame that does (see docs/protocol.md).
 */
export const PROTOCOL_VERSION = 1;

export const LIMITS = {
  /** Largest WebSocket message, in bytes, either direction. */
  maxFrameBytes: 256 * 1024,
  /** Most events in one `events` batch. */
  maxEventsPerBatch: 500,
  /** Longest matched span of evidence, in characters. */
  maxEvidenceMatchChars: 200,
  /** Most context around the match, before and after together, in characters. */
  maxEvidenceContextChars: 200,
  maxRuleIds: 32,
  maxRuleIdChars: 64,
  maxAppChars: 256,
  maxWindowTitleChars: 512,
  /** A browser window's address: scheme, host and path only (no query, no fragment). */
  maxUrlChars: 2048,
  maxOsUserChars: 128,
  maxAgentVersionChars: 64,
  maxOsFieldChars: 128,
  maxHostnameChars: 255,
  maxCredentialChars: 128,
  maxReasonChars: 512,
  maxSourceDetailChars: 256,
  /** Seconds the collector waits for `hello` after the socket opens. */
  helloTimeoutSeconds: 10,
  /** Seconds between heartbeats an agent SHOULD keep to. */
  heartbeatIntervalSeconds: 60,
} as const;
