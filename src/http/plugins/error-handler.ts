/**
 * The one error handler: every error leaves as `{error:{code,message,requestId}}` with a stable code.
 * A 5xx never leaks internals; the details go to the log only. It is also the ONE place where a domain
 * error's kind becomes an HTTP status (domain code throws src/errors.ts errors, which carry none).
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ErrorCodes, isDomainError } from '../../errors.js';
import type { AnyDomainError, ErrorKind } from '../../errors.js';

/** The HTTP status of each domain error kind. */
export const STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = Object.freeze({
  invalid_input: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
  permanent: 500,
});

/** A domain error as the HTTP response it becomes. */
export interface HttpErrorShape {
  status: number;
  code: string;
  message: string;
  /** Sent as Retry-After (whole seconds, at least 1). */
  retryAfterSeconds?: number | undefined;
}

/** Maps a domain error onto its response; `permanent` hides its message like any other 5xx. */
export function httpErrorOf(err: AnyDomainError): HttpErrorShape {
  const status = STATUS_OF_KIND[err.kind];
  const message = status >= 500 && err.kind !== 'unavailable' ? 'internal error' : err.message;
  const retryAfterSeconds = err.kind === 'unavailable' || err.kind === 'rate_limited' ? err.retryAfterSeconds : undefined;
  return { status, code: err.code, message, retryAfterSeconds };
}

/** Fastify's own error codes mapped onto ours. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ErrorCodes.BODY_TOO_LARGE,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ErrorCodes.UNSUPPORTED_MEDIA,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ErrorCodes.VALIDATION,
  FST_ERR_CTP_EMPTY_JSON_BODY: ErrorCodes.BAD_JSON,
  FST_ERR_CTP_INVALID_JSON_BODY: ErrorCodes.BAD_JSON,
  FST_ERR_VALIDATION: ErrorCodes.VALIDATION,
};

/** Writes an error body in the one public shape. */
export function sendError(
  reply: Pick<FastifyReply, 'code' | 'header' | 'send'>,
  status: number,
  code: string,
  message: string,
  requestId: string,
  retryAfterSeconds?: number,
): void {
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  reply.code(status);
  reply.send({ error: { code, message, requestId } });
}

/** Installs the error and not-found handlers. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (isDomainError(err)) {
      const out = httpErrorOf(err);
      if (out.status >= 500) req.log.error({ err }, 'request failed');
      return sendError(reply, out.status, out.code, out.message, req.id, out.retryAfterSeconds);
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const first = err.validation[0];
      const where = first?.instancePath ? `${err.validationContext ?? 'body'}${first.instancePath.replace(/\//g, '.')}` : err.validationContext ?? 'body';
      return sendError(reply, 400, ErrorCodes.VALIDATION, `${where}: ${first?.message ?? 'invalid'}`, req.id);
    }
    const fe = err as FastifyError;
    const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (fe.validation) {
      return sendError(reply, 400, ErrorCodes.VALIDATION, fe.message, req.id);
    }
    if (status >= 400 && status < 500) {
      const code = (fe.code && FASTIFY_CODES[fe.code]) ?? (status === 429 ? ErrorCodes.RATE_LIMITED : ErrorCodes.VALIDATION);
      const retry = status === 429 ? Number(reply.getHeader('retry-after') ?? 1) : undefined;
      return sendError(reply, status, status === 413 ? ErrorCodes.BODY_TOO_LARGE : code, fe.message, req.id, retry);
    }
    if (status === 503) {
      return sendError(reply, 503, ErrorCodes.OVERLOADED, 'service is overloaded, retry later', req.id, 1);
    }
    req.log.error({ err }, 'unhandled error');
    return sendError(reply, 500, ErrorCodes.INTERNAL, 'internal error', req.id);
  });

  app.setNotFoundHandler((req, reply) => {
    sendError(reply, 404, ErrorCodes.NOT_FOUND, `route ${req.method} ${req.url.split('?')[0]} not found`, req.id);
  });
}
