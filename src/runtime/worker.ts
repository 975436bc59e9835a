/**
 * The `worker` role (`agp worker`): the BullMQ training worker, and the loop's run worker (LOOP_ENABLED).
 * It needs the queue Redis (QUEUE_REDIS_URL, else REDIS_URL, else the Cluster) and the registry's Redis (REDIS_URL or
 * REDIS_CLUSTER_NODES), the same as the API, so the versions it trains appear in every replica.
 *
 * Building the role checks the configuration and creates the metrics only; start() opens the connections.
 * The entry binds its HTTP port in between, so a port that cannot be bound fails before Redis is touched.
 */
import type { Config } from '../config.js';
import { ConfigError, llmUnconfiguredReason, pipelineOptions } from '../config.js';
import type { Logger } from '../agp/ports.js';
import { systemClock } from '../agp/ports.js';
import { startTrainingWorker, type TrainingWorker } from '../jobs/bullmq-training-worker.js';
import { createTrainingKeys } from '../jobs/redis-checkpoint-store.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import type { RedisTarget } from '../store/redis-connection.js';
import { trainingRunDeps, workerTuning } from './jobs.js';
import { ownLlm } from './llm.js';
import type { RuntimeOptions } from './options.js';
import { createClosers } from './closers.js';
import { setUpTracing } from './tracing.js';
import { createLoopParts, type LoopRuntimeParts } from './loop.js';
import { createRedisLoopStore } from '../store/redis-loop-store.js';
import { createWorkerLoopServices } from './loop-worker-services.js';
import { connectRedis, createRegistry } from './stores.js';

/** The training worker, wired. */
export interface WorkerRuntime {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Opens the connections, loads the registry and starts taking jobs. Call once. */
  start(): Promise<void>;
  /**
   * Stops taking jobs (running ones stop between batches, keep their checkpoint and go back to the queue;
   * forcibly after SHUTDOWN_GRACE_MS), then closes the registry, the LLM client and the connections.
   */
  close(): Promise<void>;
}

/** Checks what the worker needs. @throws ConfigError naming the variable. */
function workerTargets(config: Config): { registry: RedisTarget; queue: RedisTarget } {
  const registry = config.redis.cacheTarget;
  // The queue: QUEUE_REDIS_URL, else the cache target (the queue prefix is hash-tagged for a Cluster).
  const queue = config.redis.queueTarget;
  if (!queue) throw new ConfigError('invalid configuration: QUEUE_REDIS_URL: `agp worker` needs QUEUE_REDIS_URL or REDIS_URL');
  if (!registry) throw new ConfigError('invalid configuration: REDIS_URL: `agp worker` needs the prompt registry Redis (REDIS_URL or REDIS_CLUSTER_NODES)');
  try {
    createTrainingKeys(config.redis.keyPrefix);
  } catch (err) {
    throw new ConfigError(`invalid configuration: REDIS_KEY_PREFIX: ${(err as Error).message}`);
  }
  return { registry, queue };
}

/** Builds the worker role. @throws ConfigError when the queue or registry Redis is not configured. */
export async function createWorkerRuntime(config: Config, opts: RuntimeOptions): Promise<WorkerRuntime> {
  const { logger, overrides = {} } = opts;
  const targets = workerTargets(config);
  const metrics = overrides.metrics ?? createMetrics();
  const clock = overrides.clock ?? systemClock;
  const closers = createClosers(logger);
  setUpTracing(config.tracing, closers);
  let worker: TrainingWorker | undefined;
  let loop: LoopRuntimeParts | undefined;
  let closing: Promise<void> | undefined;

  return {
    config,
    logger,
    metrics,
    async start() {
      const unconfigured = llmUnconfiguredReason(config, 'training');
      if (unconfigured) logger.warn({ reason: unconfigured }, 'the LLM is not configured for training: every training job will fail');
      const cache = connectRedis(targets.registry, 'cache', logger, closers);
      const subscriber = connectRedis(targets.registry, 'subscriber', logger, closers);
      const queue = connectRedis(targets.queue, 'queue', logger, closers);
      // Training is batch work: its client waits for an LLM slot instead of shedding like serving does.
      const llm = overrides.llm ?? ownLlm(config, 'training', { metrics, logger }, closers);
      const registry = createRegistry({ config, logger, clock, closers, redis: cache, subscriber });
      await registry.start();
      const pipeline = pipelineOptions(config);
      // Pins are read from the loop's store (the API's PUT /admin/v1/pins): a pinned domain is never activated by a job.
      const pins = createRedisLoopStore({ redis: cache, keyPrefix: config.redis.keyPrefix });
      const run = trainingRunDeps({ config, logger, clock, llm, registry, pipeline, isPinned: async (domain) => (await pins.getPin(domain)) !== null });
      worker = startTrainingWorker({ ...run, ...workerTuning(config, overrides.workerTuning), connection: queue, keyPrefix: config.redis.keyPrefix, metrics });
      logger.info({ queue: worker.worker.name, dataDir: config.training.dataDir }, 'training worker started');
      if (config.loop.enabled) {
        // The loop's runs (issue 11), beside the training jobs they submit.
        const recorder = connectRedis(targets.registry, 'recorder', logger, closers);
        const services = createWorkerLoopServices({ config, clock, logger, closers, redis: cache, recorder, queue, registry, llm, pipeline });
        loop = createLoopParts({ config, logger, clock, metrics, redis: cache, services, workerTuning: overrides.workerTuning });
      }
    },
    close() {
      closing ??= (async () => {
        const w = worker;
        const l = loop;
        const grace = setTimeout(() => {
          logger.error({}, 'training worker: shutdown grace period exceeded; closing forcibly');
          void w?.close({ force: true });
        }, config.http.shutdownGraceMs);
        grace.unref();
        try {
          // A loop step in progress finishes (or is cut at the grace), and its run goes back to the queue.
          await Promise.all([w?.close(), l?.close()]);
        } finally {
          clearTimeout(grace);
          await closers.closeAll();
          logger.info({}, 'training worker stopped');
        }
      })();
      return closing;
    },
  };
}
