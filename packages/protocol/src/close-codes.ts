/**
 * WebSocket close codes used on the agent link. 1xxx are RFC 6455 codes; 4xxx are Haven's.
 * `retry` tells the agent whether reconnecting with the same credential can help.
 * docs/protocol.md lists the same table; keep them in step.
 */
export const CloseCode = {
  /** The agent or collector ended the session on purpose. */
  Normal: 1000,
  /** The collector is shutting down or restarting; in-flight batches were finished first. */
  GoingAway: 1001,
  /** A frame exceeded LIMITS.maxFrameBytes (sent by the ws library itself). */
  MessageTooBig: 1009,
  /** The collector failed in a way that is not the agent's fault. */
  InternalError: 1011,
  /**
   * RFC 6455's "Try Again Later": the agent's address sent too many hellos with a bad
   * credential; the hello was not checked. Reconnect after a delay.
   */
  TryAgainLater: 1013,
  /** The frame was not valid UTF-8 JSON, or not a JSON object with a string `type`. */
  MalformedFrame: 4000,
  /** The frame's `type` is not one this protocol version defines for agents. */
  UnknownType: 4001,
  /** A non-batch message (hello, heartbeat) broke its schema. */
  InvalidMessage: 4002,
  /** Something other than `hello` arrived before the session was authenticated. */
  HelloRequired: 4003,
  /** No `hello` arrived within LIMITS.helloTimeoutSeconds. */
  HelloTimeout: 4004,
  /** `hello` arrived twice on one connection. */
  DuplicateHello: 4005,
  /** The agent speaks a protocol version the collector does not. */
  UnsupportedProtocol: 4010,
  /** Unknown device id or wrong device secret. */
  BadCredential: 4011,
  /** The device or its credential has been revoked by the school. */
  DeviceRevoked: 4012,
  /** A newer connection authenticated as the same device. */
  Replaced: 4013,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which the agent SHOULD NOT reconnect with the same credential. */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.UnsupportedProtocol,
  CloseCode.BadCredential,
  CloseCode.DeviceRevoked,
]);

/** Machine-readable reasons in `hello-rejected`, one per fatal hello outcome. */
export const HELLO_REJECTION_REASONS = ['unsupported-protocol', 'bad-credential', 'device-revoked'] as const;
export type HelloRejectionReason = (typeof HELLO_REJECTION_REASONS)[number];

export const REJECTION_CLOSE_CODE: Record<HelloRejectionReason, CloseCode> = {
  'unsupported-protocol': CloseCode.UnsupportedProtocol,
  'bad-credential': CloseCode.BadCredential,
  'device-revoked': CloseCode.DeviceRevoked,
};

/** Codes in the `error` message, which do not end the connection. */
export const ERROR_CODES = [
  /** A batch failed validation; `index` names the first offending event. Nothing was stored. */
  'invalid-batch',
  /** The collector could not store the batch (e.g. database down). Retry later; nothing acked. */
  'unavailable',
  /** The batch's events claim a different device than the authenticated one. */
  'device-mismatch',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
