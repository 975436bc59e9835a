/**
 * `agp worker` entry: runs ONLY the BullMQ training worker (createRuntime(config, 'worker')), plus its HTTP
 * server on PORT/HOST (src/http/worker-app.ts: GET /metrics for Prometheus, GET /healthz for the kubelet).
 *
 * The port is bound first, so a port that cannot be bound fails the start before any connection is opened.
 * On SIGTERM/SIGINT (or `opts.signal`), running jobs stop between batches, keep their checkpoint and go back
 * to the queue (another worker resumes them); the runtime then closes its connections and, last, the HTTP
 * server (so the counters of jobs that end during the drain can still be scraped, and liveness keeps passing).
 */
import { pino } from 'pino';
import { loadConfig } from './config.js';
import type { TrainingWorkerTuning } from './jobs/bullmq-training-worker.js';
import { buildWorkerApp } from './http/worker-app.js';
import { loggerOptions } from './observability/logger.js';
import { createRuntime } from './runtime/index.js';

/** Options for tests and tooling; the CLI calls `runWorker()` with the environment and its signal. */
export interface RunWorkerOptions {
  /** Environment (default process.env). */
  env?: Record<string, string | undefined>;
  /** Stops the worker like SIGTERM does (default: SIGTERM/SIGINT only). */
  signal?: AbortSignal;
  tuning?: TrainingWorkerTuning;
}

/**
 * Runs the training worker until SIGTERM/SIGINT (or `opts.signal`), then shuts down gracefully.
 * @throws ConfigError when the queue or registry Redis is not configured, or the config is invalid.
 */
export async function runWorker(opts: RunWorkerOptions = {}): Promise<void> {
  const config = loadConfig(opts.env ?? process.env);
  const logger = pino(loggerOptions({ level: config.logLevel, logUserText: config.logUserText }));
  const runtime = await createRuntime(config, 'worker', { logger, overrides: { workerTuning: opts.tuning } });
  const http = await buildWorkerApp({ metrics: runtime.metrics, logger, timeouts: config.http.timeouts });
  try {
    await http.listen({ port: config.port, host: config.host });
  } catch (err) {
    await http.close();
    // Keeps err.code (EADDRINUSE, EACCES, ...); the message names the variables to change.
    if (err instanceof Error) err.message = `cannot serve /metrics and /healthz on ${config.host}:${config.port} (HOST/PORT): ${err.message}`;
    throw err;
  }
  try {
    await runtime.start();
    const reason = await stopped(opts.signal);
    logger.info({ reason }, 'training worker stopping: handing running jobs back to the queue');
  } finally {
    await runtime.close();
    await http.close();
  }
}

/** Resolves with the reason once SIGTERM, SIGINT or the signal asks the worker to stop. */
function stopped(signal: AbortSignal | undefined): Promise<string> {
  return new Promise<string>((resolve) => {
    const stop = (reason: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      signal?.removeEventListener('abort', onAbort);
      resolve(reason);
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    const onAbort = () => stop('abort');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    if (signal?.aborted) stop('abort');
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
