/**
 * Request-duration metric on every route (by route template, never by raw URL) and the /metrics endpoint.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';

/** Registers the request timer hooks and GET /metrics (the API). */
export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (req, reply, done) => {
    // routeOptions.url is the template (/v1/profiles/:userId), so label cardinality stays bounded.
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { route, method: req.method, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });

  registerMetricsRoute(app, metrics);
}

/** GET /metrics alone: the worker serves its registry without timing its own scrapes. */
export function registerMetricsRoute(app: FastifyInstance, metrics: Pick<Metrics, 'registry'>): void {
  // Exempt from load shedding so Prometheus still sees an overloaded instance.
  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn', config: { pressureHandler: () => undefined } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
