import { errorCodes, type FastifyInstance } from 'fastify';
import { EnrollRequestSchema, PROTOCOL_VERSION, type EnrollResponse } from '@haven/protocol';
import {
  EnrolmentRateLimitedError,
  InvalidBodyError,
  TokenExhaustedError,
  TokenExpiredError,
  TokenRevokedError,
  TokenUnknownError,
  UnavailableError,
} from '../errors';
import { enrollDevice } from './repository';

const FAILURES = {
  unknown: TokenUnknownError,
  expired: TokenExpiredError,
  revoked: TokenRevokedError,
  exhausted: TokenExhaustedError,
} as const;

export async function enrollmentRoutes(app: FastifyInstance): Promise<void> {
  app.post(
    '/api/v1/enroll',
    {
      bodyLimit: 16 * 1024,
      // Only JSON is an enrolment (docs/protocol.md §3.4): any other type is 415 before the body is read.
      // (Fastify would otherwise parse text/plain and answer 400.) No Content-Type at all is a
      // missing body, 400 as before.
      onRequest: async (request) => {
        const header = request.headers['content-type'];
        if (header === undefined) return;
        const type = header.split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/json') throw new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(type.slice(0, 100));
      },
    },
    async (request, reply) => {
      const parsed = EnrollRequestSchema.safeParse(request.body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new InvalidBodyError(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
      }
      // Token guessing is slowed per client address (as the trusted proxy saw it).
      const refusal = await app.attemptLimits.enrolmentRefusal(request.ip).catch((err: unknown) => {
        request.log.error({ err }, 'Enrollment failed: the database is unavailable.');
        throw new UnavailableError();
      });
      if (refusal) {
        reply.header('retry-after', String(Math.ceil(refusal.retryAfterMs / 1000)));
        request.log.info({ reason: 'rate-limited' }, 'Enrollment refused.');
        throw new EnrolmentRateLimitedError();
      }
      let outcome;
      try {
        outcome = await enrollDevice(app.database.db, parsed.data);
      } catch (err) {
        request.log.error({ err }, 'Enrollment failed: the database is unavailable.');
        throw new UnavailableError();
      }
      if (!outcome.ok) {
        request.log.info({ reason: outcome.reason }, 'Enrollment refused.');
        await app.attemptLimits.record('enrolment', false, request.ip).catch((err: unknown) => request.log.warn({ err }, 'A failed enrolment could not be counted.'));
        throw new FAILURES[outcome.reason]();
      }
      request.log.info({ deviceId: outcome.deviceId, schoolId: outcome.schoolId }, 'Device enrolled.');
      const body: EnrollResponse = {
        deviceId: outcome.deviceId,
        deviceSecret: outcome.deviceSecret,
        schoolId: outcome.schoolId,
        protocol: PROTOCOL_VERSION,
        agentPath: '/agent',
      };
      return reply.code(201).send(body);
    },
  );
}
