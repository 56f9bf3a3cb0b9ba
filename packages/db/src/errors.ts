/**
 * One answer to "is the database down, or did this statement fail for a reason of its own?".
 *
 * Only an outage (or a conflict that a retry resolves) is worth "try again later": a value
 * the database cannot store (NUL in text, year 0000), a broken constraint or a bug in a query
 * fails again on every retry, so treating it as an outage makes a client resend for ever and
 * tells the operator the database is down when it is not.
 *
 * Works on errors from postgres-js, PGlite and node's sockets, also when drizzle wraps them
 * (`DrizzleQueryError` keeps the driver's error as `cause`).
 */

/**
 * - `unavailable`: the database cannot be reached or is refusing work (connection lost or
 *   refused, server shutting down, out of resources). Retry the same work later.
 * - `conflict`: a serialisation failure or deadlock (40001, 40P01). Retry the same work now.
 * - `data`: the value cannot be stored (SQLSTATE class 22: NUL in text, invalid dates, out of
 *   range). Retrying fails again.
 * - `constraint`: an integrity constraint refused the row (class 23). Retrying fails again.
 * - `internal`: anything else — a bug in a query (class 42), an error without a SQLSTATE.
 */
export type DatabaseErrorKind = 'unavailable' | 'conflict' | 'data' | 'constraint' | 'internal';

/** postgres-js's own codes for a connection that failed or went away. */
const DRIVER_CONNECTION_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);

/** node socket and resolver errors: the server could not be reached. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Messages of drivers that throw without a code when their connection is gone. */
const CLOSED_MESSAGES = [/^PGlite is closed$/, /^database is closed$/];

const SQLSTATE = /^[0-9A-Z]{5}$/;

type ErrorLike = { code?: unknown; errno?: unknown; message?: unknown; cause?: unknown; errors?: unknown; severity?: unknown };

/**
 * A server error at FATAL or PANIC ends the session: it is how PostgreSQL refuses a connection
 * (the database does not accept connections, 55000; too many clients, 53300; starting up,
 * 57P03; authentication, 28xxx) or ends one (terminated, 57P01). Whatever its SQLSTATE, the
 * database cannot be used just now.
 */
const SESSION_ENDING = new Set(['FATAL', 'PANIC']);

function sqlstateKind(state: string): DatabaseErrorKind {
  if (state === '40001' || state === '40P01') return 'conflict';
  const cls = state.slice(0, 2);
  // 08 connection exception; 53 insufficient resources (disk full, too many connections);
  // 57P01-57P03 admin/crash shutdown, cannot connect now; 58 system error (I/O);
  // 57014 query cancelled (statement timeout, or cancelled by an operator).
  if (cls === '08' || cls === '53' || cls === '58') return 'unavailable';
  if (state === '57P01' || state === '57P02' || state === '57P03' || state === '57P04' || state === '57P05' || state === '57014') {
    return 'unavailable';
  }
  if (cls === '22') return 'data';
  if (cls === '23') return 'constraint';
  return 'internal';
}

/** The errors to look at: the error itself, then its causes (drizzle wraps the driver's). */
function* chain(err: unknown): Generator<ErrorLike> {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    yield e as ErrorLike;
    queue.push((e as ErrorLike).cause);
    // node's happy-eyeballs connect throws an AggregateError of one error per address.
    const errors = (e as ErrorLike).errors;
    if (Array.isArray(errors)) queue.push(...errors);
  }
}

/** The SQLSTATE of a database error, looking through wrappers; undefined if there is none. */
export function sqlstateOf(err: unknown): string | undefined {
  for (const e of chain(err)) {
    if (typeof e.code === 'string' && SQLSTATE.test(e.code) && !SOCKET_CODES.has(e.code)) return e.code;
  }
  return undefined;
}

/** Sorts a failed database call into one of the kinds above. */
export function classifyDatabaseError(err: unknown): DatabaseErrorKind {
  let kind: DatabaseErrorKind | undefined;
  for (const e of chain(err)) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && (DRIVER_CONNECTION_CODES.has(code) || SOCKET_CODES.has(code))) return 'unavailable';
    if (typeof e.severity === 'string' && SESSION_ENDING.has(e.severity)) return 'unavailable';
    if (code && SQLSTATE.test(code)) {
      kind ??= sqlstateKind(code);
      continue;
    }
    if (typeof e.message === 'string' && CLOSED_MESSAGES.some((re) => re.test(e.message as string))) return 'unavailable';
  }
  return kind ?? 'internal';
}

/** True when the database is down or refusing work, so the same work should be retried later. */
export function isDatabaseUnavailable(err: unknown): boolean {
  return classifyDatabaseError(err) === 'unavailable';
}

/** True when retrying the same statement can succeed (an outage or a serialisation conflict). */
export function isTransientDatabaseError(err: unknown): boolean {
  const kind = classifyDatabaseError(err);
  return kind === 'unavailable' || kind === 'conflict';
}

/**
 * What may be logged about a database error: its kind, SQLSTATE and the driver's error name.
 * Never the message — PostgreSQL quotes the offending value in some messages (`invalid input
 * syntax for type timestamp: "…"`) and drizzle puts every bound parameter in its own.
 */
export function describeDatabaseError(err: unknown): { kind: DatabaseErrorKind; sqlstate?: string; code?: string; type?: string } {
  const kind = classifyDatabaseError(err);
  const out: { kind: DatabaseErrorKind; sqlstate?: string; code?: string; type?: string } = { kind };
  const sqlstate = sqlstateOf(err);
  if (sqlstate) out.sqlstate = sqlstate;
  for (const e of chain(err)) {
    if (typeof e.code === 'string' && !out.code && !SQLSTATE.test(e.code)) out.code = e.code;
  }
  const root = [...chain(err)].pop() as { name?: unknown } | undefined;
  if (root && typeof root.name === 'string') out.type = root.name;
  return out;
}
