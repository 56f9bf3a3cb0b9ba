import { createHash, randomBytes } from 'node:crypto';
import cookie from '@fastify/cookie';
import { staff, staffSessions } from '@haven/db';
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import {
  BadLoginError,
  ContentTypeError,
  RateLimitedError,
  TotpRequiredError,
  UnauthenticatedError,
  ValidationError,
} from '../errors';
import { normaliseEmail, loadPrincipal } from '../staff/repository';
import { capabilities, type Principal } from './access';
import { checkPassword } from './passwords';
import { LoginLimiter } from './rate-limit';
import { newTotpSecret, otpauthUrl, verifyTotp } from './totp';

declare module 'fastify' {
  // eslint-disable-next-line @typescript-eslint/consistent-type-definitions -- declaration merging needs an interface
  interface FastifyRequest {
    principal: Principal | null;
  }
  // eslint-disable-next-line @typescript-eslint/consistent-type-definitions -- declaration merging needs an interface
  interface FastifyInstance {
    loginLimiter: { byEmail: LoginLimiter; byClient: LoginLimiter };
  }
}

export const SESSION_COOKIE = 'haven_session';
/** A session ends 12 hours after sign-in, or after an hour without use. */
const SESSION_MAX_MS = 12 * 3600_000;
const SESSION_IDLE_MS = 3600_000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

const LoginSchema = z.object({
  email: z.string().min(3).max(254),
  password: z.string().min(1).max(1024),
  totp: z.string().max(12).optional(),
});

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** The signed-in member of staff, or a 401. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthenticatedError();
  return request.principal;
}

/**
 * Staff sign-in: argon2id passwords, optional TOTP, an opaque session token in an HttpOnly,
 * SameSite=Strict cookie (only its SHA-256 is stored), failed sign-ins limited per address and
 * per client. Every /api request gets `request.principal` (null when signed out).
 */
export const authPlugin = fp(
  async (app: FastifyInstance, options: { secureCookies?: boolean }) => {
    await app.register(cookie);
    // Five wrong passwords lock one account for a while; a whole school may sit behind one
    // address, so a client address gets more room before it is stopped.
    app.decorate('loginLimiter', { byEmail: new LoginLimiter(5), byClient: new LoginLimiter(50) });
    app.decorateRequest('principal', null);
    const db = app.database.db;

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

    app.post('/api/auth/login', { bodyLimit: 4096 }, async (request, reply) => {
      const body = parseBody(LoginSchema, request.body);
      const email = normaliseEmail(body.email);
      const limits = app.loginLimiter;
      const wait = Math.max(limits.byEmail.retryAfterMs([email]), limits.byClient.retryAfterMs([request.ip]));
      const failed = () => {
        limits.byEmail.fail([email]);
        limits.byClient.fail([request.ip]);
      };
      if (wait > 0) {
        reply.header('retry-after', String(Math.ceil(wait / 1000)));
        throw new RateLimitedError();
      }
      const [person] = await db.select().from(staff).where(eq(staff.email, email));
      const ok = await checkPassword(person && !person.disabledAt ? person.passwordHash : null, body.password);
      if (!ok || !person) {
        failed();
        request.log.info({ reason: 'password' }, 'Sign-in refused.');
        throw new BadLoginError();
      }
      if (person.totpEnabled && person.totpSecret) {
        if (!body.totp) throw new TotpRequiredError();
        if (!verifyTotp(person.totpSecret, body.totp.trim())) {
          failed();
          request.log.info({ reason: 'totp' }, 'Sign-in refused.');
          throw new TotpRequiredError();
        }
      }
      limits.byEmail.succeed([email]);
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
      if (token) await db.delete(staffSessions).where(eq(staffSessions.id, hashToken(token)));
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send();
    });

    app.get('/api/me', async (request) => ({ me: meOf(requirePrincipal(request)) }));

    app.post('/api/me/totp', async (request) => {
      const me = requirePrincipal(request);
      const secret = newTotpSecret();
      await db.update(staff).set({ totpSecret: secret, totpEnabled: false }).where(eq(staff.id, me.staffId));
      return { secret, otpauthUrl: otpauthUrl(secret, me.email) };
    });

    app.post('/api/me/totp/enable', async (request, reply) => {
      const me = requirePrincipal(request);
      const { code } = parseBody(z.object({ code: z.string().max(12) }), request.body);
      const [row] = await db.select({ secret: staff.totpSecret }).from(staff).where(eq(staff.id, me.staffId));
      if (!row?.secret || !verifyTotp(row.secret, code.trim())) throw new ValidationError('code: does not match; check the time on your device');
      await db.update(staff).set({ totpEnabled: true }).where(eq(staff.id, me.staffId));
      // Other sessions were opened without the second factor: end them.
      await db.execute(sql`delete from staff_sessions where staff_id = ${me.staffId} and id <> ${hashToken(request.cookies[SESSION_COOKIE] ?? '')}`);
      return reply.code(204).send();
    });
  },
  { name: 'haven-auth' },
);

export function meOf(p: Principal) {
  return { id: p.staffId, email: p.email, displayName: p.displayName, totpEnabled: p.totpEnabled, roles: p.roles, can: capabilities(p) };
}
