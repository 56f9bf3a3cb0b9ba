import { z } from 'zod';
import { LIMITS, PROTOCOL_VERSION } from './limits';
import { storedText, units } from './fields';
import { OsSchema } from './messages';

/** `POST /api/v1/enroll`: an agent trades a school's enrollment token for a device credential. */
export const EnrollRequestSchema = z.object({
  token: units(LIMITS.maxCredentialChars, 1),
  // Stored: made storable as agent strings are (lone surrogates to U+FFFD, NUL removed).
  hostname: storedText(LIMITS.maxHostnameChars, 1),
  os: OsSchema,
  agentVersion: storedText(LIMITS.maxAgentVersionChars, 1),
});
export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;

export const EnrollResponseSchema = z.object({
  deviceId: z.uuid(),
  /** Shown once; the collector keeps only a hash. The agent stores it readable by itself only. */
  deviceSecret: units(LIMITS.maxCredentialChars, 1),
  schoolId: z.uuid(),
  protocol: z.literal(PROTOCOL_VERSION),
  /** Path of the agent WebSocket on the same origin. */
  agentPath: z.string(),
});
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;

/** Error body of every 4xx/5xx from the collector's HTTP API. */
export const ApiErrorSchema = z.object({
  error: z.string(),
  message: z.string(),
  statusCode: z.int(),
});
export type ApiError = z.infer<typeof ApiErrorSchema>;

export const ENROLL_ERROR_CODES = {
  invalidBody: 'HAVEN_ERR_INVALID_BODY',
  tokenUnknown: 'HAVEN_ERR_ENROLL_TOKEN_UNKNOWN',
  tokenExpired: 'HAVEN_ERR_ENROLL_TOKEN_EXPIRED',
  tokenRevoked: 'HAVEN_ERR_ENROLL_TOKEN_REVOKED',
  tokenExhausted: 'HAVEN_ERR_ENROLL_TOKEN_EXHAUSTED',
} as const;
