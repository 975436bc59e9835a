/**
 * The job engines, wired. The API role's choice: BullMQ when a queue Redis is configured (QUEUE_REDIS_URL,
 * else REDIS_URL; BullMQ needs `maxmemory-policy noeviction`, hence its own URL), with a worker in this
 * process when WORKER_ENABLED; otherwise the in-process runner (which always runs its jobs itself).
 * The worker role uses trainingRunDeps and workerTuning from here too, so both run jobs alike.
 */
import type { Clock, LlmClient, Logger, PromptRegistry } from '../agp/ports.js';
import type { PipelineOptions } from '../agp/pipeline.js';
import type { Config } from '../config.js';
import type { Metrics } from '../observability/metrics.js';
import { createRedis } from '../store/redis-connection.js';
import type { RedisClient, RedisTarget } from '../store/redis-connection.js';
import type { TrainingJobs } from '../jobs/training-jobs.js';
import type { TrainingRunDeps } from '../jobs/run-training-job.js';
import { createInProcessTrainingJobs } from '../jobs/in-process-training-jobs.js';
import type { TrainingWorker, TrainingWorkerTuning } from '../jobs/bullmq-training-worker.js';
import { createBullmqTrainingJobs } from '../jobs/bullmq-training-jobs.js';
import { startTrainingWorker } from '../jobs/bullmq-training-worker.js';

/** What the API role's job engine is built from. */
export interface CreateTrainingJobsDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  llm: LlmClient;
  registry: PromptRegistry;
  pipeline: PipelineOptions;
  /** The queue Redis; undefined selects the in-process runner. */
  redisTarget?: RedisTarget | undefined;
  /** Worker timings (tests shorten them). */
  worker?: TrainingWorkerTuning | undefined;
  /** Whether a domain is pinned (the loop's store): `activate: 'if-better'` then does not activate. */
  isPinned?: ((domain: string) => Promise<boolean>) | undefined;
}

/** The dependencies every runner shares, from config. */
export function trainingRunDeps(d: Pick<CreateTrainingJobsDeps, 'config' | 'logger' | 'clock' | 'llm' | 'registry' | 'pipeline' | 'isPinned'>): TrainingRunDeps {
  return {
    isPinned: d.isPinned,
    llm: d.llm,
    registry: d.registry,
    pipeline: d.pipeline,
    dataDir: d.config.training.dataDir,
    defaultConcurrency: d.config.training.concurrency,
    clock: d.clock,
    logger: d.logger,
  };
}

/** The BullMQ worker's timings: config, then the test's overrides. */
export function workerTuning(config: Config, overrides?: TrainingWorkerTuning): TrainingWorkerTuning {
  return { lockDurationMs: config.training.lockDurationMs, stalledIntervalMs: config.training.stalledIntervalMs, ...overrides };
}

/** Builds the training job service. Resolves without waiting for Redis (connections are lazy). */
export async function createTrainingJobs(deps: CreateTrainingJobsDeps): Promise<TrainingJobs | undefined> {
  const run = trainingRunDeps(deps);
  const { config, logger } = deps;
  if (!deps.redisTarget) {
    logger.info({ dataDir: config.training.dataDir }, 'training jobs: in-process runner (no queue Redis configured)');
    return createInProcessTrainingJobs({ ...run, metrics: deps.metrics, maxQueued: config.training.maxQueued });
  }

  const connections: RedisClient[] = [];
  const connect = (role: 'producer' | 'queue'): RedisClient => {
    const c = createRedis(deps.redisTarget as RedisTarget, { role, logger });
    connections.push(c);
    return c;
  };
  const jobs = createBullmqTrainingJobs({ ...run, connection: connect('producer'), keyPrefix: config.redis.keyPrefix, logger, maxQueued: config.training.maxQueued });
  let worker: TrainingWorker | undefined;
  if (config.training.workerEnabled) {
    if (deps.llm.configured) {
      worker = startTrainingWorker({ ...run, ...workerTuning(config, deps.worker), connection: connect('queue'), keyPrefix: config.redis.keyPrefix, metrics: deps.metrics });
      logger.info({ queue: jobs.queue.name }, 'training jobs: BullMQ queue with a worker in this process');
    } else {
      logger.warn({ queue: jobs.queue.name }, 'training jobs: no LLM configured, so no worker runs here; jobs wait for `agp worker`');
    }
  } else {
    logger.info({ queue: jobs.queue.name }, 'training jobs: BullMQ queue (jobs run in `agp worker`)');
  }
  return {
    submit: (req) => jobs.submit(req),
    get: (id) => jobs.get(id),
    list: () => jobs.list(),
    cancel: (id) => jobs.cancel(id),
    report: (id) => jobs.report(id),
    trace: (id) => jobs.trace(id),
    async close() {
      // The worker first: it hands its running jobs back to the queue before the connections go.
      await worker?.close().catch((err: unknown) => logger.warn({ err: String(err) }, 'training worker close failed'));
      await jobs.close().catch((err: unknown) => logger.warn({ err: String(err) }, 'training queue close failed'));
      await Promise.allSettled(connections.map((c) => c.quit()));
    },
  };
}
