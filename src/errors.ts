/**
 * The domain errors. Each has a `kind` (what went wrong, in domain terms) and a stable public `code`
 * (part of the API; clients switch on it). None carries an HTTP status: the HTTP error handler
 * (src/http/plugins/error-handler.ts) is the one place that maps a kind onto a status, and the job engines
 * decide retries from the kind (src/jobs/job-semantics.ts). No fastify import here.
 */

/** What went wrong, independent of any transport. */
export const ERROR_KINDS = [
  'invalid_input',
  'unauthorized',
  'not_found',
  'conflict',
  'rate_limited',
  'unavailable',
  'permanent',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Stable error codes. Clients switch on these; never rename one. */
export const ErrorCodes = {
  VALIDATION: 'VALIDATION_ERROR',
  DUPLICATE_CANDIDATE: 'DUPLICATE_CANDIDATE_ID',
  BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** The request line and headers are over Node's maxHeaderSize (431). */
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  /** The request did not arrive in full within HTTP_REQUEST_TIMEOUT_MS / HTTP_HEADERS_TIMEOUT_MS (408). */
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  UNSUPPORTED_MEDIA: 'UNSUPPORTED_MEDIA_TYPE',
  BAD_JSON: 'INVALID_JSON',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  CONFLICT: 'CONFLICT',
  /** A domain already has a running experiment (409). */
  EXPERIMENT_RUNNING: 'EXPERIMENT_ALREADY_RUNNING',
  /** EXPERIMENTS_MAX_RUNNING experiments are running (409). */
  TOO_MANY_EXPERIMENTS: 'TOO_MANY_RUNNING_EXPERIMENTS',
  /** Stop or promote of an experiment that is no longer running (409). */
  EXPERIMENT_NOT_RUNNING: 'EXPERIMENT_NOT_RUNNING',
  /** An experiment arm names a prompt version the registry does not hold (400). */
  UNKNOWN_PROMPT_VERSION: 'UNKNOWN_PROMPT_VERSION',
  /** A domain already has a loop run that is not done (409; POST /admin/v1/schedules/{domain}/run). */
  RUN_IN_PROGRESS: 'RUN_IN_PROGRESS',
  /** The domain is pinned: the loop does not start a run or change its active version (409). */
  DOMAIN_PINNED: 'DOMAIN_PINNED',
  /** Scheduled retraining needs the queue's Redis; the embedded default has none (409). */
  SCHEDULES_UNAVAILABLE: 'SCHEDULES_UNAVAILABLE',
  /** A rerank request names a `model` outside LLM_MODELS (400). */
  UNKNOWN_MODEL: 'UNKNOWN_MODEL',
  RATE_LIMITED: 'RATE_LIMITED',
  OVERLOADED: 'SERVICE_OVERLOADED',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL: 'INTERNAL_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** An error that is safe to show to the caller: its message is written for them, its code is stable. */
export abstract class DomainError extends Error {
  abstract readonly kind: ErrorKind;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Structured detail for the caller (e.g. numbered dataset issues). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The input can never be accepted as it is (bad request body, bad dataset, bad parameters). */
export class InvalidInputError extends DomainError {
  override readonly name = 'InvalidInputError';
  readonly kind = 'invalid_input' as const;
  constructor(message: string, details?: unknown, code: ErrorCode = ErrorCodes.VALIDATION) {
    super(code, message, details);
  }
}

/** The caller did not prove who it is. */
export class UnauthorizedError extends DomainError {
  override readonly name = 'UnauthorizedError';
  readonly kind = 'unauthorized' as const;
  constructor(message = 'missing or invalid bearer token') {
    super(ErrorCodes.UNAUTHORIZED, message);
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends DomainError {
  override readonly name = 'NotFoundError';
  readonly kind = 'not_found' as const;
  constructor(message: string) {
    super(ErrorCodes.NOT_FOUND, message);
  }
}

/** The request contradicts the current state (a different version under a taken name, a finished job). */
export class ConflictError extends DomainError {
  override readonly name = 'ConflictError';
  readonly kind = 'conflict' as const;
  constructor(message: string, code: ErrorCode = ErrorCodes.CONFLICT) {
    super(code, message);
  }
}

/** The caller is over its quota; it may retry after `retryAfterSeconds`. */
export class RateLimitedError extends DomainError {
  override readonly name = 'RateLimitedError';
  readonly kind = 'rate_limited' as const;
  constructor(message: string, readonly retryAfterSeconds = 1) {
    super(ErrorCodes.RATE_LIMITED, message);
  }
}

/** A dependency or the service itself cannot serve this now; the same request may succeed later. */
export class UnavailableError extends DomainError {
  override readonly name = 'UnavailableError';
  readonly kind = 'unavailable' as const;
  constructor(message: string, readonly retryAfterSeconds = 1, code: ErrorCode = ErrorCodes.UNAVAILABLE) {
    super(code, message);
  }
}

/** A failure that no retry can fix, though the input was accepted (e.g. a checkpoint from another run). */
export class PermanentError extends DomainError {
  override readonly name = 'PermanentError';
  readonly kind = 'permanent' as const;
  constructor(message: string) {
    super(ErrorCodes.INTERNAL, message);
  }
}

/** Any of the domain errors above, narrowed by `kind`. */
export type AnyDomainError =
  | InvalidInputError
  | UnauthorizedError
  | NotFoundError
  | ConflictError
  | RateLimitedError
  | UnavailableError
  | PermanentError;

/** True for the errors of this module (narrowed so a `switch (err.kind)` is exhaustive). */
export function isDomainError(err: unknown): err is AnyDomainError {
  return err instanceof DomainError;
}

export const validationError = (message: string, details?: unknown): InvalidInputError => new InvalidInputError(message, details);
export const notFound = (what: string): NotFoundError => new NotFoundError(`${what} not found`);
export const conflict = (message: string): ConflictError => new ConflictError(message);
export const unauthorized = (): UnauthorizedError => new UnauthorizedError();
export const unavailable = (message: string, retryAfterSeconds = 1): UnavailableError => new UnavailableError(message, retryAfterSeconds);

/** Retry-After of a dependency that failed or did not answer in time (seconds). */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

/**
 * Runs one operation on a dependency (Redis) for at most `timeoutMs`. A domain error passes through; any
 * other failure (connection closed, command timeout, OOM under `noeviction`), or no answer in time, becomes
 * an UnavailableError (503 + Retry-After at the porch) instead of a 500 or a request that hangs. The
 * operation is not cancelled: a command already sent may still run, so callers must be safe to retry.
 */
export async function boundedDependencyCall<T>(what: string, timeoutMs: number, operation: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable(`${what} did not answer within ${timeoutMs} ms`, DEPENDENCY_RETRY_AFTER_SECONDS)), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([operation(), timeout]);
  } catch (err) {
    if (isDomainError(err)) throw err;
    const wrapped = unavailable(`${what} is unavailable`, DEPENDENCY_RETRY_AFTER_SECONDS);
    // The driver's message stays in the log (the error handler logs 5xx with the cause), not in the answer.
    wrapped.cause = err;
    throw wrapped;
  } finally {
    clearTimeout(timer);
  }
}
