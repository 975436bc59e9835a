/**
 * buildApp(container): the Fastify application. Reads no environment and does no I/O of its own;
 * everything it needs arrives in the container, so tests build the real app and drive it with inject.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import underPressure from '@fastify/under-pressure';
import rateLimit from '@fastify/rate-limit';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { Container } from './container.js';
import { registerErrorHandler, sendError } from './http/plugins/error-handler.js';
import { fastSerializerCompiler } from './http/plugins/fast-serializer.js';
import { registerJsonBodyParser } from './http/plugins/json-body.js';
import { registerMetrics } from './http/plugins/metrics-plugin.js';
import { registerSwagger } from './http/plugins/swagger.js';
import { registerRerankRoutes } from './http/routes/rerank-routes.js';
import { registerProfileRoutes } from './http/routes/profile-routes.js';
import { registerHealthRoutes } from './http/routes/health-routes.js';
import { registerAdminRoutes } from './http/routes/admin-routes.js';
import { ErrorCodes, RateLimitedError } from './errors.js';

/** Options for building the app. */
export interface BuildAppOptions {
  /** pino logger instance shared with the container's adapters. */
  logger: FastifyBaseLogger;
}

/** Builds the fully wired application (not listening). */
export async function buildApp(c: Container, opts: BuildAppOptions): Promise<FastifyInstance> {
  const { config } = c;
  const app = Fastify({
    loggerInstance: opts.logger,
    bodyLimit: config.http.bodyLimitBytes,
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

  if (config.http.maxEventLoopDelayMs > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: config.http.maxEventLoopDelayMs,
      retryAfter: 1,
      exposeStatusRoute: false,
      pressureHandler: (req, reply) => {
        sendError(reply, 503, ErrorCodes.OVERLOADED, 'service is overloaded, retry later', req.id, 1);
      },
    });
  }
  if (config.http.rateLimitMax > 0) {
    await app.register(rateLimit, {
      global: false,
      ...(c.rateLimitRedis ? { redis: c.rateLimitRedis, nameSpace: `${config.redis.keyPrefix}:rl:` } : {}),
      keyGenerator: (req) => (req.headers['x-client-id'] as string | undefined) ?? req.ip,
      // Thrown by the plugin; the error handler turns the rate_limited kind into 429 with Retry-After.
      errorResponseBuilder: (_req, ctx) =>
        new RateLimitedError(`rate limit of ${ctx.max} requests per ${ctx.after} exceeded`, Math.ceil(ctx.ttl / 1000)),
    });
  }

  await registerSwagger(app);
  registerMetrics(app, c.metrics);
  registerHealthRoutes(app, { registry: c.registry, llmConfigured: c.llm.configured, pingRedis: c.pingRedis });
  registerRerankRoutes(app, {
    reranker: c.reranker,
    metrics: c.metrics,
    defaultDeadlineMs: config.rerank.defaultDeadlineMs,
    maxDeadlineMs: config.rerank.maxDeadlineMs,
    rateLimit: config.http.rateLimitMax > 0 ? { max: config.http.rateLimitMax, timeWindow: config.http.rateLimitWindowMs } : undefined,
  });
  registerProfileRoutes(app, { store: c.profileStore });
  if (config.admin.token) {
    registerAdminRoutes(app, { token: config.admin.token, registry: c.registry, jobs: c.jobs });
  } else {
    app.log.info('ADMIN_TOKEN not set: admin routes are disabled');
  }
  return app;
}
