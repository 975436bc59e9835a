/**
 * The Fastify instance every HTTP server of the service starts from (the API, src/app.ts, and the worker's
 * /metrics and /healthz, ./worker-app.ts): request ids, one access-log line per request, the error envelope
 * `{error:{code,message,requestId}}` for every error and unknown route, the JSON body parser, and a
 * graceful close. One stack, so the two servers cannot drift apart.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { ErrorCodes } from '../errors.js';
import { registerErrorHandler, sendError } from './plugins/error-handler.js';
import { fastSerializerCompiler } from './plugins/fast-serializer.js';
import { registerJsonBodyParser } from './plugins/json-body.js';

/** Options of the base instance. */
export interface BaseAppOptions {
  /** pino logger shared with the runtime's adapters. */
  logger: FastifyBaseLogger;
  /** BODY_LIMIT_BYTES (Fastify's default, 1 MiB, when absent). */
  bodyLimitBytes?: number | undefined;
  /** Longest a request may take to arrive in full (default: no limit beyond Node's). */
  requestTimeoutMs?: number | undefined;
}

/** A Fastify instance with the service's common plugins and hooks; routes are the caller's. */
export function createBaseApp(opts: BaseAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger,
    ...(opts.bodyLimitBytes !== undefined ? { bodyLimit: opts.bodyLimitBytes } : {}),
    ...(opts.requestTimeoutMs !== undefined ? { requestTimeout: opts.requestTimeoutMs } : {}),
    requestIdHeader: 'x-request-id',
    // One access-log line per request (written in onResponse below) instead of Fastify's two.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    // Let in-flight requests finish on close, but answer new ones on kept-alive sockets with 503.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false } },
    // Above every path parameter's schema maximum (userId: 256), so over-long ids get the schema's 400 and
    // every id the API accepts elsewhere can be erased; the router's default (100) answered 414.
    routerOptions: { maxParamLength: 1024 },
    // Router-level errors (undecodable `%ZZ` paths, over-long parameters) in the one public error shape.
    frameworkErrors: (err, req, reply) => {
      const status = err.statusCode !== undefined && err.statusCode < 500 ? 400 : 500;
      reply.header('x-request-id', req.id);
      sendError(reply, status, status === 400 ? ErrorCodes.VALIDATION : ErrorCodes.INTERNAL, err.message, req.id);
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(fastSerializerCompiler);
  registerErrorHandler(app);
  registerJsonBodyParser(app);
  // During shutdown, answer in-flight requests with `Connection: close` so keep-alive sockets end with
  // their last response and close() can finish instead of waiting for clients to hang up.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  app.addHook('onSend', (_req, reply, _payload, done) => {
    if (closing) reply.header('connection', 'close');
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    // req.log carries the route's log level, so probe and scrape routes (logLevel 'warn') stay quiet.
    req.log.info(
      { req: { method: req.method, url: req.url }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime },
      'request completed',
    );
    done();
  });
  return app;
}
