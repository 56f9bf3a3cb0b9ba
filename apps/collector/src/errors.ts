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
export const EnrolmentRateLimitedError = createError('HAVEN_ERR_RATE_LIMITED', 'Too many failed enrolments from this address; try again later', 429);
export const TotpReusedError = createError('HAVEN_ERR_TOTP_REQUIRED', 'That code has been used already; enter the next code from your authenticator app', 401);
/** The operator's fault, not the user's: encrypted TOTP secrets cannot be read without the key they were sealed with. */
export const SecretKeyUnavailableError = createError(
  'HAVEN_ERR_SECRET_KEY',
  "Two-factor sign-in cannot be checked: the collector's secret key is missing or has changed. Tell your administrator.",
  503,
);
export const ForbiddenOriginError = createError('HAVEN_ERR_FORBIDDEN_ORIGIN', "The live feed is only for pages served from Haven's own address", 403);
export const RefusedError = createError('HAVEN_ERR_REFUSED', '%s', 409);
