/**
 * The catalogue of coded errors. Each has a stable `code` (part of the API) and an HTTP status.
 * No fastify import: the error handler plugin maps these onto responses.
 */

/** An error that is safe to show to the caller. */
export class AppError extends Error {
  override readonly name: string = 'AppError';
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
    /** Seconds, for 429/503. */
    readonly retryAfterSeconds?: number,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Stable error codes. Clients switch on these; never rename one. */
export const ErrorCodes = {
  VALIDATION: 'VALIDATION_ERROR',
  DUPLICATE_CANDIDATE: 'DUPLICATE_CANDIDATE_ID',
  BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA: 'UNSUPPORTED_MEDIA_TYPE',
  BAD_JSON: 'INVALID_JSON',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  OVERLOADED: 'SERVICE_OVERLOADED',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL: 'INTERNAL_ERROR',
} as const;

export const validationError = (message: string, details?: unknown) =>
  new AppError(ErrorCodes.VALIDATION, 400, message, undefined, details);
export const notFound = (what: string) => new AppError(ErrorCodes.NOT_FOUND, 404, `${what} not found`);
export const conflict = (message: string) => new AppError(ErrorCodes.CONFLICT, 409, message);
export const unauthorized = () => new AppError(ErrorCodes.UNAUTHORIZED, 401, 'missing or invalid bearer token');
export const unavailable = (message: string, retryAfterSeconds = 1) =>
  new AppError(ErrorCodes.UNAVAILABLE, 503, message, retryAfterSeconds);
