/**
 * The Fastify instance every HTTP server of the service starts from (the API, src/app.ts, and the worker's
 * /metrics and /healthz, ./worker-app.ts): request ids, one access-log line per request, the error envelope
 * `{error:{code,message,requestId}}` for every error and unknown route (and for what the HTTP parser
 * rejects), the JSON body parser, the socket timeouts, and a graceful close. One stack, so the two servers
 * cannot drift apart.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import { ErrorCodes } from '../errors.js';
import { withoutQuery } from '../observability/logger.js';
import { createClientErrorHandler } from './plugins/client-errors.js';
import { registerErrorHandler, sendError } from './plugins/error-handler.js';
import { fastSerializerCompiler } from './plugins/fast-serializer.js';
import { registerJsonBodyParser } from './plugins/json-body.js';
import { trackReceivingSockets } from './receiving-sockets.js';

/** HTTP_REQUEST_TIMEOUT_MS, HTTP_HEADERS_TIMEOUT_MS and HTTP_KEEP_ALIVE_TIMEOUT_MS. */
export type HttpTimeouts = Config['http']['timeouts'];

/**
 * How often Node checks the request and headers timeouts. Its default (30 s) let a 5 s timeout fire
 * anywhere between 5 and 35 s; the check walks only the sockets that are mid-request, so once a second
 * (or a quarter of the headers timeout, if shorter) costs nothing.
 */
export function timeoutCheckIntervalMs(t: HttpTimeouts): number {
  return Math.max(25, Math.min(1_000, Math.floor(t.headersMs / 4)));
}

/** Options of the base instance. */
export interface BaseAppOptions {
  /** pino logger shared with the runtime's adapters. */
  logger: FastifyBaseLogger;
  /** BODY_LIMIT_BYTES (Fastify's default, 1 MiB, when absent). */
  bodyLimitBytes?: number | undefined;
  /** How long a request may take to arrive, and an idle kept-alive socket may stay open. */
  timeouts: HttpTimeouts;
}

/** A Fastify instance with the service's common plugins and hooks; routes are the caller's. */
export function createBaseApp(opts: BaseAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger,
    ...(opts.bodyLimitBytes !== undefined ? { bodyLimit: opts.bodyLimitBytes } : {}),
    // A client that sends its headers or body a byte at a time is cut off (408) once the request has taken
    // requestMs: Fastify's default (0) left such a socket open indefinitely. Handling time is not counted.
    requestTimeout: opts.timeouts.requestMs,
    keepAliveTimeout: opts.timeouts.keepAliveMs,
    http: {
      requestTimeout: opts.timeouts.requestMs,
      headersTimeout: opts.timeouts.headersMs,
      connectionsCheckingInterval: timeoutCheckIntervalMs(opts.timeouts),
    },
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
    // What the HTTP parser rejects before there is a request (431, 400, 408) in the same shape.
    clientErrorHandler: createClientErrorHandler(opts.logger),
  });
  const sockets = trackReceivingSockets(app.server);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(fastSerializerCompiler);
  registerErrorHandler(app);
  registerJsonBodyParser(app);
  // During shutdown, answer in-flight requests with `Connection: close` so keep-alive sockets end with
  // their last response and close() can finish instead of waiting for clients to hang up.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    // server.close() stops enforcing the request timeouts: close the sockets still sending a request now.
    sockets.closeReceiving();
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
      { req: { method: req.method, url: withoutQuery(req.url) }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime },
      'request completed',
    );
    done();
  });
  return app;
}
