import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { codePoints } from '@haven/protocol';
import { z } from 'zod';
import { UUID_PATTERN } from '../db-rows';
import { ValidationError } from '../errors';

/**
 * The staff API's input rules, shared by every route (docs/api.md, "Input"):
 *
 * - a length is counted in Unicode code points, the same for every field (an emoji such as 😀
 *   is one, where JavaScript's `String.length` says two);
 * - no string may hold a NUL character or a lone UTF-16 surrogate (half of a cut emoji): the
 *   database cannot store either, and neither is text a person meant to send;
 * - a date is a real calendar day, `YYYY-MM-DD`, between 1900-01-01 and 9999-12-31;
 * - a reason for reading evidence or personal data is words, not filler.
 *
 * Routes declare their query and body as zod schemas in the route's `schema`; the validator
 * compiler below applies them before the handler runs, so bad input is a 400 with a message
 * before anything reaches the database. The schemas stay readable on each route, which is how
 * the tests find every field of every route.
 */

/** How many Unicode code points a string holds: Haven's one length rule, in this API as in the agent protocol. */
export { codePoints };

const LONE_SURROGATE = /\p{Cs}/u;

/** Why a string cannot be taken, or null when it can. */
export function unstorable(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain a NUL character';
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode (it holds half of a character, as a cut emoji leaves)';
  return null;
}

const plural = (n: number) => `${n.toLocaleString('en-GB')} character${n === 1 ? '' : 's'}`;

/** A string of the staff API: storable, its length in code points within [min, max], optionally trimmed first. */
export function text(options: { min?: number; max?: number; trim?: boolean; tooShort?: string } = {}) {
  const { min = 0, max, trim = false } = options;
  const base = trim ? z.string().trim() : z.string();
  return base.superRefine((value, ctx) => {
    const problem = unstorable(value);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return;
    }
    const n = codePoints(value);
    if (n < min) ctx.addIssue({ code: 'custom', message: options.tooShort ?? (min === 1 ? 'must not be empty' : `must be at least ${plural(min)}`) });
    else if (max !== undefined && n > max) ctx.addIssue({ code: 'custom', message: `must be at most ${plural(max)}` });
  });
}

/** Characters that show nothing: zero-width spaces and joiners, direction marks, controls. */
const INVISIBLE = /[\p{Cf}\p{Cc}]/gu;
const WORD = /\p{L}[\p{L}\p{M}'’-]*\p{L}/gu;

/**
 * Why a reason is not one, or null: after removing invisible characters it must hold at least
 * `min` characters, two words of letters, and not be one character repeated.
 */
export function reasonProblem(value: string, min = 10): string | null {
  const visible = value.replace(INVISIBLE, '').replace(/[\p{Z}\s]+/gu, ' ').trim();
  if (codePoints(visible) < min) return `give a reason of at least ${min} characters`;
  if (new Set(visible.toLowerCase().replace(/ /g, '')).size < 2) return 'give a reason in words, not one character repeated';
  if ((visible.match(WORD) ?? []).length < 2) return 'give a reason in words (at least two)';
  return null;
}

/** Why someone reads evidence or personal data: recorded in the audit log, so it must say something. */
export function reason(options: { min?: number; max?: number } = {}) {
  const { min = 10, max = 500 } = options;
  return text({ max, trim: true }).superRefine((value, ctx) => {
    if (unstorable(value)) return;
    const problem = reasonProblem(value, min);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** The earliest and latest dates the API takes: PostgreSQL and people both understand them. */
const FIRST_YEAR = 1900;
const LAST_YEAR = 9999;

/** A calendar date, YYYY-MM-DD, that exists (no 30 February), in 1900–9999. */
export function isoDate() {
  return z.string().superRefine((value, ctx) => {
    const problem = unstorable(value);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return;
    }
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: 'must be a date YYYY-MM-DD' });
      return;
    }
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (year < FIRST_YEAR || year > LAST_YEAR) {
      ctx.addIssue({ code: 'custom', message: `must be a date between ${FIRST_YEAR}-01-01 and ${LAST_YEAR}-12-31` });
      return;
    }
    const date = new Date(Date.UTC(year, month - 1, day));
    if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
      ctx.addIssue({ code: 'custom', message: 'must be a date that exists' });
    }
  });
}

/** A UUID from a query or body (path ids are checked by each route, which answers 404). */
export function uuid(what: string) {
  return z.string().regex(UUID_PATTERN, `must be ${what}`);
}

/** A whole number from a query string, in [min, max]. */
export function queryInt(min: number, max: number) {
  return z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
}

/** The message of a refusal: the first problems, each with its field, never the value sent. */
export function describeIssues(error: z.ZodError, root: string): string {
  const shown = error.issues.slice(0, 3).map((issue) => `${issue.path.map(String).join('.') || root}: ${issue.message}`);
  const more = error.issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? ` (and ${more} more)` : '');
}

/** Parses a value against a schema, or throws the API's 400 (for input a route reads itself). */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, root = 'body'): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(describeIssues(parsed.error, root));
  return parsed.data;
}

const PARTS: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'headers' };

/**
 * Fastify validates route `schema.body` and `schema.querystring` with zod: a refusal is
 * HAVEN_ERR_VALIDATION (400) naming the field, before the handler runs.
 */
export const inputPlugin = fp(
  async (app: FastifyInstance) => {
    app.setValidatorCompiler(({ schema, httpPart }) => {
      const zod = schema as unknown as z.ZodType;
      const root = PARTS[httpPart ?? 'body'] ?? 'body';
      return (data: unknown) => {
        const parsed = zod.safeParse(data);
        return parsed.success ? { value: parsed.data } : { error: new ValidationError(describeIssues(parsed.error, root)) };
      };
    });
  },
  { name: 'haven-input' },
);
