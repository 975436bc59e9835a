/**
 * buildApp(runtime): the API's Fastify application, on the common base (./http/base-app.ts). Reads no
 * environment and does no I/O of its own; everything it needs arrives in the API runtime
 * (createRuntime(config, 'api')), so tests build the real app and drive it with inject.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import underPressure from '@fastify/under-pressure';
import rateLimit from '@fastify/rate-limit';
import type { ApiRuntime } from './runtime/index.js';
import { createBaseApp } from './http/base-app.js';
import { sendError } from './http/plugins/error-handler.js';
import { redisRateLimitStore } from './http/plugins/bounded-rate-limit-store.js';
import { registerMetrics } from './http/plugins/metrics-plugin.js';
import { registerTracing } from './http/plugins/tracing-plugin.js';
import { registerSwagger } from './http/plugins/swagger.js';
import { registerRerankRoutes } from './http/routes/rerank-routes.js';
import { registerProfileRoutes } from './http/routes/profile-routes.js';
import { registerHealthRoutes } from './http/routes/health-routes.js';
import { registerAdminRoutes } from './http/routes/admin-routes.js';
import { registerEventRoutes } from './http/routes/event-routes.js';
import { registerConsoleRoutes } from './http/routes/console-routes.js';
import { registerApiKeyAuth, rateLimitBucket, routeRateLimit } from './http/plugins/api-key-auth.js';
import { registerApiKeyRoutes } from './http/routes/admin-api-key-routes.js';
import { ErrorCodes, RateLimitedError } from './errors.js';
import { requestModels } from './config.js';

/** Options for building the app. */
export interface BuildAppOptions {
  /** pino logger instance shared with the runtime's adapters. */
  logger: FastifyBaseLogger;
}

/** Builds the fully wired application (not listening). */
export async function buildApp(c: ApiRuntime, opts: BuildAppOptions): Promise<FastifyInstance> {
  const { config } = c;
  const app = createBaseApp({ logger: opts.logger, bodyLimitBytes: config.http.bodyLimitBytes, timeouts: config.http.timeouts });

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
  const keysOn = c.apiKeys !== undefined;
  // First onRequest hook after the base ones: the rate limiter below buckets by the verified key.
  if (c.apiKeys) registerApiKeyAuth(app, c.apiKeys);
  if (config.http.rateLimitMax > 0 || keysOn) {
    await app.register(rateLimit, {
      global: false,
      // Fails open: a Redis fault or a 100 ms stall lets the request through and is counted, never a 5xx.
      ...(c.rateLimitRedis
        ? {
            store: redisRateLimitStore(c.rateLimitRedis, `${config.redis.keyPrefix}:rl:`, {
              onFailure: (reason) => c.metrics.rateLimitErrors.inc({ reason }),
              logger: app.log,
            }),
            skipOnError: true,
          }
        : {}),
      keyGenerator: rateLimitBucket(keysOn),
      // Thrown by the plugin; the error handler turns the rate_limited kind into 429 with Retry-After.
      errorResponseBuilder: (_req, ctx) =>
        new RateLimitedError(`rate limit of ${ctx.max} requests per ${ctx.after} exceeded`, Math.ceil(ctx.ttl / 1000)),
    });
  }

  await registerSwagger(app);
  registerMetrics(app, c.metrics);
  registerTracing(app);
  registerHealthRoutes(app, { registry: c.registry, llmConfigured: c.llm.configured, pingRedis: c.pingRedis });
  const rateLimitRoute = routeRateLimit(config.http.rateLimitMax, config.http.rateLimitWindowMs, keysOn);
  registerRerankRoutes(app, {
    serving: c.experiments.serving,
    metrics: c.metrics,
    clock: c.clock,
    defaultDeadlineMs: config.rerank.defaultDeadlineMs,
    maxDeadlineMs: config.rerank.maxDeadlineMs,
    shuffles: config.rerank.shuffles,
    models: requestModels(config),
    rateLimit: rateLimitRoute,
    apiKeys: c.apiKeys,
    baseline: c.reranker,
  });
  registerProfileRoutes(app, { store: c.profileStore, rankings: c.rankingCache });
  registerEventRoutes(app, { ingestion: c.experiments.ingestion, eraseUser: (id) => c.experiments.eraseUser(id), rateLimit: rateLimitRoute });
  if (config.admin.token) {
    registerAdminRoutes(app, { token: config.admin.token, registry: c.registry, jobs: c.jobs, experiments: c.experiments.admin, datasets: c.experiments.datasets, loop: c.loop });
    if (c.apiKeys) registerApiKeyRoutes(app, { token: config.admin.token, keys: c.apiKeys });
    // The browser console at /admin: static files plus CSP reports; its API calls carry the same token.
    registerConsoleRoutes(app);
  } else {
    app.log.info('ADMIN_TOKEN not set: admin routes are disabled');
  }
  return app;
}
