import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * Fields that may hold captured content or secrets. Haven's own code logs ids, counts,
 * categories and rule ids only; this list is the safety net behind that rule.
 */
const SENSITIVE = ['text', 'evidence', 'windowTitle', 'title', 'credential', 'secret', 'deviceSecret', 'token', 'body', 'events'];

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...SENSITIVE,
  ...SENSITIVE.map((k) => `*.${k}`),
];

type ErrorLike = { name?: unknown; message?: unknown; code?: unknown; cause?: unknown; stack?: unknown };

/**
 * Serialises an error without what it may carry of the data being written: drizzle's query
 * errors put every bound parameter (evidence, titles) in their message, so only the
 * driver's own error — the cause — is described, and messages are cut short.
 */
export function safeError(err: unknown): Record<string, unknown> {
  const e = (err ?? {}) as ErrorLike;
  const wrapped = e.name === 'DrizzleQueryError' || (typeof e.message === 'string' && e.message.startsWith('Failed query'));
  const root = (wrapped ? e.cause : e) as ErrorLike | undefined;
  const out: Record<string, unknown> = { type: typeof root?.name === 'string' ? root.name : typeof err };
  if (root && typeof root.code === 'string') out.code = root.code;
  if (root && typeof root.message === 'string') out.message = root.message.slice(0, 200);
  if (!wrapped && typeof e.stack === 'string') out.stack = e.stack.split('\n').slice(1, 6).join('\n');
  return out;
}

type RequestLike = { method?: string; url?: string; host?: string; hostname?: string; ip?: string; socket?: { remoteAddress?: string } };

/**
 * A request as a log line shows it: method and path, never the query string — the staff API
 * takes pupils' account names and searches there (`?subject=`, `?q=`).
 */
export function safeRequest(req: RequestLike): Record<string, unknown> {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? req.url.split('?')[0] + (req.url.includes('?') ? '?…' : '') : undefined,
    host: req.host ?? req.hostname,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
  };
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: safeError, error: safeError, req: safeRequest },
  };
}

export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}
