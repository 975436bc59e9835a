/**
 * `agp worker`: runs ONLY the BullMQ training worker, plus a tiny HTTP server on PORT/HOST
 * (./worker-http.ts: GET /metrics for Prometheus, GET /healthz for the kubelet; no API routes). It needs
 * the queue Redis (QUEUE_REDIS_URL, else REDIS_URL, else the Cluster) and the registry's Redis (REDIS_URL
 * or REDIS_CLUSTER_NODES), the same as the API, so the versions it trains appear in every replica.
 *
 * On SIGTERM/SIGINT, running jobs stop between batches, keep their checkpoint and go back to the queue
 * (another worker resumes them); the process then closes its connections and, last, the HTTP server (so
 * the counters of jobs that end during the drain can still be scraped, and liveness keeps passing).
 */
import { pino } from 'pino';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, pipelineOptions } from '../config.js';
import type { Config, RedisTargetConfig } from '../config.js';
import { systemClock } from '../agp/ports.js';
import { BUILTIN_ACTIVE_PROMPT } from '../agp/prompts.js';
import { TRAINING_LLM_QUEUE_TIMEOUT_MS, createLlmFromConfig } from '../llm/llm-from-config.js';
import { createMetrics } from '../observability/metrics.js';
import type { Metrics } from '../observability/metrics.js';
import { loggerOptions } from '../observability/logger.js';
import { createRedis } from '../store/redis-connection.js';
import type { RedisClient } from '../store/redis-connection.js';
import { createPromptRegistry } from '../store/prompt-registry.js';
import { createRedisPromptStorage } from '../store/redis-prompt-storage.js';
import type { TrainingWorkerTuning } from './bullmq-training-worker.js';
import { startTrainingWorker } from './bullmq-training-worker.js';
import { trainingRunDeps } from './create-training-jobs.js';
import { createTrainingKeys } from './redis-checkpoint-store.js';
import { startWorkerHttp } from './worker-http.js';

/** Options for tests and tooling; the CLI calls `runWorker()` with none. */
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
  const regTarget = config.redis.cacheTarget;
  // The queue: QUEUE_REDIS_URL, else the cache target (the queue prefix is hash-tagged for a Cluster).
  const queueTarget = config.redis.queueTarget;
  if (!queueTarget) throw new ConfigError('invalid configuration: QUEUE_REDIS_URL: `agp worker` needs QUEUE_REDIS_URL or REDIS_URL');
  if (!regTarget) throw new ConfigError('invalid configuration: REDIS_URL: `agp worker` needs the prompt registry Redis (REDIS_URL or REDIS_CLUSTER_NODES)');
  try {
    createTrainingKeys(config.redis.keyPrefix);
  } catch (err) {
    throw new ConfigError(`invalid configuration: REDIS_KEY_PREFIX: ${(err as Error).message}`);
  }
  const logger = pino(loggerOptions({ level: config.logLevel, logUserText: config.logUserText }));
  const metrics = createMetrics();
  // Bound first: a port that cannot be bound fails the start before any connection is opened.
  const http = await startWorkerHttp({ port: config.port, host: config.host, metrics, logger });
  try {
    await trainUntilStopped({ config, logger, metrics, regTarget, queueTarget }, opts);
  } finally {
    await http.close();
  }
}

interface WorkerContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  regTarget: RedisTargetConfig;
  queueTarget: RedisTargetConfig;
}

/** The worker proper: connections, registry, BullMQ worker; returns once stopped and drained. */
async function trainUntilStopped(ctx: WorkerContext, opts: RunWorkerOptions): Promise<void> {
  const { config, logger, metrics, regTarget, queueTarget } = ctx;
  // Training is batch work: wait for an LLM slot instead of shedding like serving does.
  const llm = createLlmFromConfig(config, { metrics, logger, queueTimeoutMs: Math.max(config.llm.queueTimeoutMs, TRAINING_LLM_QUEUE_TIMEOUT_MS) });
  if (!llm.configured) logger.warn('no LLM configured (LLM_BASE_URL/LLM_API_KEY and LLM_MODEL): every training job will fail');

  const cache = createRedis(regTarget, { role: 'cache', logger });
  const subscriber = createRedis(regTarget, { role: 'subscriber', logger });
  const queue = createRedis(queueTarget, { role: 'queue', logger });
  const connections: RedisClient[] = [cache, subscriber, queue];
  const registry = createPromptRegistry({
    storage: createRedisPromptStorage({ redis: cache, subscriber, keyPrefix: config.redis.keyPrefix, logger }),
    builtin: BUILTIN_ACTIVE_PROMPT,
    refreshMs: config.prompts.refreshMs,
    clock: systemClock,
    logger,
  });
  await registry.start();
  const run = trainingRunDeps({ config, logger, clock: systemClock, llm, registry, pipeline: pipelineOptions(config) });
  const tuning = { lockDurationMs: config.training.lockDurationMs, stalledIntervalMs: config.training.stalledIntervalMs, ...opts.tuning };
  const worker = startTrainingWorker({ ...run, ...tuning, connection: queue, keyPrefix: config.redis.keyPrefix, metrics });
  logger.info({ queue: worker.worker.name, dataDir: config.training.dataDir }, 'training worker started');

  await new Promise<void>((resolve) => {
    const stop = (reason: string) => {
      logger.info({ reason }, 'training worker stopping: handing running jobs back to the queue');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    const onAbort = () => stop('abort');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    if (opts.signal?.aborted) stop('abort');
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
  });

  const grace = setTimeout(() => {
    logger.error('training worker: shutdown grace period exceeded; closing forcibly');
    void worker.close({ force: true });
  }, config.http.shutdownGraceMs);
  grace.unref();
  try {
    await worker.close();
  } finally {
    clearTimeout(grace);
    await registry.close();
    await Promise.allSettled([...connections.map((c) => c.quit()), llm.close()]);
    logger.info('training worker stopped');
  }
}
