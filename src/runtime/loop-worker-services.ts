/**
 * What the loop worker needs in the `worker` role (`agp worker`), which serves no traffic: the stores the
 * API writes (exposures, item catalogue, experiments) read over the worker's own connections, the experiments
 * admin service with the API's settings (its canaries are the API's experiments; API replicas pick them up
 * within EXPERIMENT_POLL_MS), the dataset builder, and a producer of training jobs on the training queue.
 */
import type { PipelineOptions } from '../agp/pipeline.js';
import type { Clock, LlmClient, Logger, PromptRegistry } from '../agp/ports.js';
import type { Config } from '../config.js';
import { createExperimentAdmin } from '../experiments/experiment-admin.js';
import { createBullmqTrainingJobs } from '../jobs/bullmq-training-jobs.js';
import { createRedisExperimentStore } from '../store/redis-experiment-store.js';
import { createRedisExposureStore } from '../store/redis-exposure-store.js';
import { createRedisItemCatalogue } from '../store/redis-item-catalogue.js';
import type { RedisClient } from '../store/redis-connection.js';
import type { Closers } from './closers.js';
import { createDatasetService } from './datasets.js';
import { experimentAdminSettings } from './experiments.js';
import { trainingRunDeps } from './jobs.js';
import type { LoopServices } from './loop.js';

/** The worker role's connections and parts. */
export interface WorkerLoopServicesParts {
  config: Config;
  clock: Clock;
  logger: Logger;
  closers: Closers;
  /** The cache connection (registry, experiments). */
  redis: RedisClient;
  /** A connection for the exposure scans and catalogue reads (role `recorder`, as the API's). */
  recorder: RedisClient;
  /** A `queue`-role connection to the training queue. */
  queue: RedisClient;
  registry: PromptRegistry;
  llm: LlmClient;
  pipeline: PipelineOptions;
}

/** Builds the loop's services for the worker role. */
export function createWorkerLoopServices(p: WorkerLoopServicesParts): LoopServices {
  const { config, clock } = p;
  const keyPrefix = config.redis.keyPrefix;
  const exposures = createRedisExposureStore({ redis: p.recorder, keyPrefix, clock });
  const catalogue = createRedisItemCatalogue({ redis: p.recorder, keyPrefix });
  const experiments = createExperimentAdmin({
    store: createRedisExperimentStore({ redis: p.redis, keyPrefix }),
    exposures,
    registry: p.registry,
    clock,
    ...experimentAdminSettings(config),
  });
  const datasets = createDatasetService({ exposures, catalogue, dataDir: config.training.dataDir, clock, defaultWindowMs: config.exposures.ttlSeconds * 1_000 });
  const run = trainingRunDeps({ config, logger: p.logger, clock, llm: p.llm, registry: p.registry, pipeline: p.pipeline });
  const jobs = createBullmqTrainingJobs({ ...run, connection: p.queue, keyPrefix, logger: p.logger, maxQueued: config.training.maxQueued });
  p.closers.push(() => jobs.close());
  return { registry: p.registry, experiments, datasets, jobs, llm: p.llm, pipeline: p.pipeline };
}
