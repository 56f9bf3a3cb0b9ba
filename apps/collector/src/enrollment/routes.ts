import type { FastifyInstance } from 'fastify';
import { EnrollRequestSchema, PROTOCOL_VERSION, type EnrollResponse } from '@haven/protocol';
import {
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
  app.post('/api/v1/enroll', { bodyLimit: 16 * 1024 }, async (request, reply) => {
    const parsed = EnrollRequestSchema.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidBodyError(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
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
  });
}
