import createError from '@fastify/error';
import { ENROLL_ERROR_CODES } from '@haven/protocol';

export const InvalidBodyError = createError(ENROLL_ERROR_CODES.invalidBody, 'Request body is invalid: %s', 400);
export const TokenUnknownError = createError(ENROLL_ERROR_CODES.tokenUnknown, 'Enrolment token is not recognised', 401);
export const TokenExpiredError = createError(ENROLL_ERROR_CODES.tokenExpired, 'Enrolment token has expired', 401);
export const TokenRevokedError = createError(ENROLL_ERROR_CODES.tokenRevoked, 'Enrolment token has been revoked', 401);
export const TokenExhaustedError = createError(ENROLL_ERROR_CODES.tokenExhausted, 'Enrolment token has been used the maximum number of times', 401);
export const UnavailableError = createError('HAVEN_ERR_UNAVAILABLE', 'The service is temporarily unavailable; try again shortly', 503);

// ---- staff API (docs/api.md) ----------------------------------------------------------------
export const ValidationError = createError('HAVEN_ERR_VALIDATION', '%s', 400);
export const UnauthenticatedError = createError('HAVEN_ERR_UNAUTHENTICATED', 'Sign in to continue', 401);
export const BadLoginError = createError('HAVEN_ERR_BAD_LOGIN', 'Email or password is incorrect', 401);
export const TotpRequiredError = createError('HAVEN_ERR_TOTP_REQUIRED', 'Enter the code from your authenticator app', 401);
export const ForbiddenError = createError('HAVEN_ERR_FORBIDDEN', 'Your role does not allow this', 403);
export const NotFoundError = createError('HAVEN_ERR_NOT_FOUND', 'No such %s', 404);
export const ConflictError = createError('HAVEN_ERR_CONFLICT', 'The incident was changed by someone else; reload it', 409);
export const ContentTypeError = createError('HAVEN_ERR_CONTENT_TYPE', 'Changes must be sent as application/json', 415);
export const IllegalTransitionError = createError('HAVEN_ERR_ILLEGAL_TRANSITION', '%s', 422);
export const RateLimitedError = createError('HAVEN_ERR_RATE_LIMITED', 'Too many failed sign-ins; try again later', 429);
export const RefusedError = createError('HAVEN_ERR_REFUSED', '%s', 409);
