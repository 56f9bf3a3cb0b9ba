import createError from '@fastify/error';
import { ENROLL_ERROR_CODES } from '@haven/protocol';

export const InvalidBodyError = createError(ENROLL_ERROR_CODES.invalidBody, 'Request body is invalid: %s', 400);
export const TokenUnknownError = createError(ENROLL_ERROR_CODES.tokenUnknown, 'Enrolment token is not recognised', 401);
export const TokenExpiredError = createError(ENROLL_ERROR_CODES.tokenExpired, 'Enrolment token has expired', 401);
export const TokenRevokedError = createError(ENROLL_ERROR_CODES.tokenRevoked, 'Enrolment token has been revoked', 401);
export const TokenExhaustedError = createError(ENROLL_ERROR_CODES.tokenExhausted, 'Enrolment token has been used the maximum number of times', 401);
export const UnavailableError = createError('HAVEN_ERR_UNAVAILABLE', 'The service is temporarily unavailable; try again shortly', 503);
