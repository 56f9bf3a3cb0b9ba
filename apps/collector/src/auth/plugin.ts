import { randomBytes } from 'node:crypto';
import cookie from '@fastify/cookie';
import { staff, staffSessions } from '@haven/db';
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { queryRows } from '../db-rows';
import {
  BadLoginError,
  ContentTypeError,
  RateLimitedError,
  RefusedError,
  SecretKeyUnavailableError,
  TotpRequiredError,
  TotpReusedError,
  UnauthenticatedError,
  ValidationError,
} from '../errors';
import { text } from '../input/schemas';
import { normaliseEmail, loadPrincipal } from '../staff/repository';
import { capabilities, type Principal } from './access';
import { checkPassword } from './passwords';
import { accountKey, type AttemptLimits } from './rate-limit';
import { isSealed, SecretBox, SecretKeyError } from './secret-box';
import { hashToken, SESSION_IDLE_MS, SESSION_MAX_MS } from './sessions';
import { matchTotp, newTotpSecret, otpauthUrl } from './totp';

declare module 'fastify' {
  // eslint-disable-next-line @typescript-eslint/consistent-type-definitions -- declaration merging needs an interface
  interface FastifyRequest {
    principal: Principal | null;
    /** The session's id (the SHA-256 of its token) when signed in: the live feed closes with it. */
    sessionId: string | null;
  }
  // eslint-disable-next-line @typescript-eslint/consistent-type-definitions -- declaration merging needs an interface
  interface FastifyInstance {
    /** Failed sign-ins and enrolments, counted in the database (decorated in app.ts for enrolment too). */
    attemptLimits: AttemptLimits;
  }
}

export const SESSION_COOKIE = 'haven_session';

const LoginSchema = z
  .object({
    email: text({ min: 3, max: 254 }),
    password: text({ min: 1, max: 1024 }),
    totp: text({ max: 12 }).optional(),
  })
  .strict();
type Login = z.infer<typeof LoginSchema>;

const TotpEnableSchema = z.object({ code: text({ max: 12 }) }).strict();
type TotpEnable = z.infer<typeof TotpEnableSchema>;

/** The signed-in member of staff, or a 401. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthenticatedError();
  return request.principal;
}

export type AuthOptions = {
  secureCookies?: boolean;
  /** The operator's 32-byte key: TOTP secrets are sealed with it. Without it TOTP cannot be turned on. */
  secretKey?: Buffer;
};

/**
 * Staff sign-in: argon2id passwords, optional TOTP (secrets sealed with the operator's key, each
 * code accepted once), an opaque session token in an HttpOnly, SameSite=Strict cookie (only its
 * SHA-256 is stored), failed sign-ins limited in the database (rate-limit.ts). Every /api
 * request gets `request.principal` (null when signed out).
 */
export const authPlugin = fp(
  async (app: FastifyInstance, options: AuthOptions) => {
    await app.register(cookie);
    app.decorateRequest('principal', null);
    app.decorateRequest('sessionId', null);
    const db = app.database.db;
    const box = options.secretKey ? new SecretBox(options.secretKey) : null;

    // Secrets stored before encryption are sealed at the first start with a key; without a key
    // they keep working (nobody is locked out) and the log says so.
    app.addHook('onReady', async () => {
      const plain = await queryRows<{ id: string; totp_secret: string }>(
        db,
        sql`select id, totp_secret from staff where totp_secret is not null and totp_secret not like 'v1:%'`,
      );
      if (plain.length === 0) return;
      if (!box) {
        app.log.warn({ accounts: plain.length }, 'TOTP secrets are stored unencrypted: set HAVEN_SECRET_KEY (or HAVEN_SECRET_KEY_FILE) to encrypt them.');
        return;
      }
      for (const row of plain) {
        await db.execute(sql`update staff set totp_secret = ${box.seal(row.totp_secret, row.id)} where id = ${row.id} and totp_secret = ${row.totp_secret}`);
      }
      app.log.info({ accounts: plain.length }, 'TOTP secrets encrypted with the secret key.');
    });

    /** The plain TOTP secret of an account, whether sealed or from before encryption. */
    const openSecret = (stored: string, staffId: string): string => {
      if (!isSealed(stored)) return stored;
      if (!box) throw new SecretKeyUnavailableError();
      try {
        return box.open(stored, staffId);
      } catch (err) {
        if (err instanceof SecretKeyError) throw new SecretKeyUnavailableError();
        throw err;
      }
    };

    /** Accepts a code once: its step must come after the last one used on this account. */
    const useCode = async (staffId: string, secret: string, code: string): Promise<'ok' | 'wrong' | 'reused'> => {
      const step = matchTotp(secret, code.trim());
      if (step === null) return 'wrong';
      const [taken] = await queryRows<{ id: string }>(
        db,
        sql`update staff set totp_last_step = ${step} where id = ${staffId} and (totp_last_step is null or totp_last_step < ${step}) returning id`,
      );
      return taken ? 'ok' : 'reused';
    };

    app.addHook('onRequest', async (request) => {
      if (!request.url.startsWith('/api/') || request.url.startsWith('/api/v1/')) return;
      // A form on another site can post text/plain or form data, never JSON without CORS.
      if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS') {
        const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/json') throw new ContentTypeError();
      }
      const token = request.cookies[SESSION_COOKIE];
      if (!token || token.length > 100) return;
      const id = hashToken(token);
      const now = new Date();
      const [row] = await db
        .select({ staffId: staffSessions.staffId, lastSeenAt: staffSessions.lastSeenAt })
        .from(staffSessions)
        .where(and(eq(staffSessions.id, id), gt(staffSessions.expiresAt, now), gt(staffSessions.lastSeenAt, new Date(now.getTime() - SESSION_IDLE_MS))));
      if (!row) return;
      if (now.getTime() - row.lastSeenAt.getTime() > 60_000) {
        await db.update(staffSessions).set({ lastSeenAt: now }).where(eq(staffSessions.id, id));
      }
      request.principal = await loadPrincipal(db, row.staffId);
      if (request.principal) request.sessionId = id;
    });

    const setSession = (request: FastifyRequest, reply: FastifyReply, token: string) =>
      reply.setCookie(SESSION_COOKIE, token, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        // Behind a TLS-terminating proxy the request itself is plain HTTP: the public address decides.
        secure: options.secureCookies === true || request.protocol === 'https',
        maxAge: SESSION_MAX_MS / 1000,
      });

    app.post<{ Body: Login }>('/api/auth/login', { bodyLimit: 4096, schema: { body: LoginSchema } }, async (request, reply) => {
      const body = request.body;
      const email = normaliseEmail(body.email);
      const account = accountKey(email);
      const limits = app.attemptLimits;
      // request.ip is the client as the trusted proxy saw it (HAVEN_TRUST_PROXY), never a value the client chose.
      const refusal = await limits.signInRefusal(account, request.ip);
      if (refusal) {
        reply.header('retry-after', String(Math.ceil(refusal.retryAfterMs / 1000)));
        request.log.info({ limit: refusal.limit }, 'Sign-in refused: too many failures.');
        throw new RateLimitedError();
      }
      const failed = () => limits.record('sign_in', false, request.ip, account);
      const [person] = await db.select().from(staff).where(eq(staff.email, email));
      const ok = await checkPassword(person && !person.disabledAt ? person.passwordHash : null, body.password);
      if (!ok || !person) {
        await failed();
        request.log.info({ reason: 'password' }, 'Sign-in refused.');
        throw new BadLoginError();
      }
      if (person.totpEnabled && person.totpSecret) {
        if (!body.totp) throw new TotpRequiredError();
        const used = await useCode(person.id, openSecret(person.totpSecret, person.id), body.totp);
        if (used !== 'ok') {
          await failed();
          request.log.info({ reason: used === 'reused' ? 'totp-reused' : 'totp' }, 'Sign-in refused.');
          throw used === 'reused' ? new TotpReusedError() : new TotpRequiredError();
        }
      }
      await limits.record('sign_in', true, request.ip, account);
      const token = randomBytes(32).toString('base64url');
      const now = new Date();
      await db.insert(staffSessions).values({ id: hashToken(token), staffId: person.id, expiresAt: new Date(now.getTime() + SESSION_MAX_MS) });
      await db.delete(staffSessions).where(and(eq(staffSessions.staffId, person.id), lt(staffSessions.expiresAt, now)));
      setSession(request, reply, token);
      request.log.info({ staffId: person.id }, 'Signed in.');
      const me = (await loadPrincipal(db, person.id))!;
      return { me: { ...meOf(me) } };
    });

    app.post('/api/auth/logout', async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token) {
        const id = hashToken(token);
        await db.delete(staffSessions).where(eq(staffSessions.id, id));
        // The session's live feed ends with it, not at the next periodic check.
        app.live.endSession(id);
      }
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send();
    });

    app.get('/api/me', async (request) => ({ me: meOf(requirePrincipal(request)) }));

    app.post('/api/me/totp', async (request) => {
      const me = requirePrincipal(request);
      if (!box) {
        throw new RefusedError(
          'Two-factor sign-in cannot be turned on yet: the administrator must first give Haven a secret key (HAVEN_SECRET_KEY) to keep authenticator secrets encrypted.',
        );
      }
      const secret = newTotpSecret();
      await db.update(staff).set({ totpSecret: box.seal(secret, me.staffId), totpEnabled: false, totpLastStep: null }).where(eq(staff.id, me.staffId));
      return { secret, otpauthUrl: otpauthUrl(secret, me.email) };
    });

    app.post<{ Body: TotpEnable }>('/api/me/totp/enable', { schema: { body: TotpEnableSchema } }, async (request, reply) => {
      const me = requirePrincipal(request);
      const [row] = await db.select({ secret: staff.totpSecret }).from(staff).where(eq(staff.id, me.staffId));
      if (!row?.secret || (await useCode(me.staffId, openSecret(row.secret, me.staffId), request.body.code)) !== 'ok') {
        throw new ValidationError('code: does not match; check the time on your device');
      }
      await db.update(staff).set({ totpEnabled: true }).where(eq(staff.id, me.staffId));
      // Other sessions were opened without the second factor: end them, and their live feeds.
      await db.execute(sql`delete from staff_sessions where staff_id = ${me.staffId} and id <> ${request.sessionId ?? ''}`);
      await app.live.recheck();
      return reply.code(204).send();
    });
  },
  { name: 'haven-auth' },
);

export function meOf(p: Principal) {
  return { id: p.staffId, email: p.email, displayName: p.displayName, totpEnabled: p.totpEnabled, roles: p.roles, can: capabilities(p) };
}
