/**
 * The `agp worker` process's HTTP server: what Kubernetes and Prometheus need from a process that otherwise
 * serves nothing, on the same base as the API (request ids, the error envelope, graceful close).
 *
 * - GET /metrics: the worker's prom-client registry (agp_training_jobs_total, agp_llm_*, process metrics);
 * - GET /healthz: liveness (it does not check Redis: a Redis outage must not make Kubernetes restart every
 *   worker);
 * - anything else: 404 `{error:{code,message,requestId}}`. HEAD is answered like GET, without a body.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Metrics } from '../observability/metrics.js';
import { createBaseApp, type HttpTimeouts } from './base-app.js';
import { registerMetricsRoute } from './plugins/metrics-plugin.js';
import { registerLivenessRoute } from './routes/health-routes.js';

/** What the worker's server shows. */
export interface WorkerAppOptions {
  metrics: Pick<Metrics, 'registry'>;
  logger: FastifyBaseLogger;
  /** The same socket timeouts as the API (config.http.timeouts). */
  timeouts: HttpTimeouts;
}

/** Builds the worker's server (not listening). */
export async function buildWorkerApp(opts: WorkerAppOptions): Promise<FastifyInstance> {
  // Probes and scrapes are tiny: the API's request timeouts fit them too.
  const app = createBaseApp({ logger: opts.logger, timeouts: opts.timeouts });
  registerLivenessRoute(app);
  registerMetricsRoute(app, opts.metrics);
  await app.ready();
  return app;
}
