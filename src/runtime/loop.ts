/**
 * The loop's parts (issue 11), wired for the api and worker roles:
 *
 * - the LoopStore: Redis when the cache Redis is configured (REDIS_URL or REDIS_CLUSTER_NODES), else memory;
 * - the RunScheduler: BullMQ job schedulers on the queue Redis (QUEUE_REDIS_URL, else REDIS_URL), or null
 *   without one (schedules cannot run; the admin routes answer SCHEDULES_UNAVAILABLE);
 * - the loop worker, where the training worker runs (WORKER_ENABLED in the API, or `agp worker`) when
 *   LOOP_ENABLED: it advances runs with the runner (src/loop/loop-runner.ts) over the services below.
 *
 * `createLoopParts` resolves at once; connections are lazy like the training queue's.
 */
import { join, relative, resolve } from 'node:path';
import type { PipelineOptions } from '../agp/pipeline.js';
import type { Clock, LlmClient, Logger, PromptRegistry } from '../agp/ports.js';
import type { Config } from '../config.js';
import type { DatasetService } from '../experiments/dataset-builder.js';
import type { ExperimentAdmin } from '../experiments/experiment-admin.js';
import { createBullmqRunScheduler, startLoopWorker, type LoopWorker, type LoopWorkerRunner } from '../jobs/bullmq-loop-queue.js';
import { splitDatasetFile } from '../jobs/dataset-split.js';
import { evaluateHoldout } from '../jobs/holdout-evaluation.js';
import type { TrainingJobs } from '../jobs/training-jobs.js';
import type { LoopRunnerDeps } from '../loop/loop-runner.js';
import { abandonRun, advanceRun, newRunRecord, startRun } from '../loop/loop-runner.js';
import type { LoopStore } from '../loop/ports.js';
import type { Metrics } from '../observability/metrics.js';
import { createMemoryLoopStore } from '../store/memory-loop-store.js';
import { createRedis, type RedisClient } from '../store/redis-connection.js';
import { createRedisLoopStore } from '../store/redis-loop-store.js';
import type { LoopParts } from './loop-admin.js';

/** What runs need, from the rest of the role (the API's own, or the worker's: see loop-worker-services.ts). */
export interface LoopServices {
  registry: Pick<PromptRegistry, 'get' | 'resolve'>;
  experiments: ExperimentAdmin;
  datasets: DatasetService;
  jobs: Pick<TrainingJobs, 'submit' | 'get' | 'cancel'>;
  /** The training client: the gate's evaluations are batch work like training. */
  llm: LlmClient;
  pipeline: PipelineOptions;
}

/** What the parts are built from. */
export interface CreateLoopPartsDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  /** The cache connection; without it the store is in memory (this replica only). */
  redis?: RedisClient | undefined;
  /**
   * The services of the loop worker; undefined runs no worker here (the API without WORKER_ENABLED, or no
   * LLM configured). Ignored when LOOP_ENABLED is false or there is no queue Redis.
   */
  services?: LoopServices | undefined;
  /** Worker timings (tests shorten them); default TRAINING_LOCK_DURATION_MS / TRAINING_STALLED_INTERVAL_MS. */
  workerTuning?: { lockDurationMs?: number | undefined; stalledIntervalMs?: number | undefined } | undefined;
}

/** The parts handed to the admin service, plus the worker (or null) and one close for all. */
export interface LoopRuntimeParts extends LoopParts {
  worker: LoopWorker | null;
  /**
   * Stops the worker (a step in progress may finish within SHUTDOWN_GRACE_MS; the run goes back to the queue),
   * then the queue. Idempotent: the first call's mode holds.
   */
  close(opts?: { force?: boolean }): Promise<void>;
}

/** The runner's dependencies over the services. Exported for tests. */
export function loopRunnerDeps(d: Pick<CreateLoopPartsDeps, 'config' | 'logger' | 'clock' | 'metrics'>, store: LoopStore, s: LoopServices): LoopRunnerDeps {
  const { config } = d;
  const root = resolve(config.training.dataDir);
  const inside = (path: string) => resolve(root, path);
  return {
    store,
    clock: d.clock,
    logger: d.logger,
    datasets: {
      async build(req) {
        // Named after the run, so a resumed run rewrites its own file rather than leaving a second one.
        const out = join(root, 'datasets', `loop-${req.runId}.jsonl`);
        const built = await s.datasets.build({ domain: req.domain, since: req.since, until: req.until, out });
        return { path: relative(root, out), rows: built.rows, users: built.users, skipped: { ...built.skipped } };
      },
    },
    async split(path, opts) {
      const base = path.replace(/\.jsonl$/, '');
      const trainPath = `${base}.train.jsonl`;
      const holdoutPath = `${base}.holdout.jsonl`;
      const counts = await splitDatasetFile(inside(path), { share: opts.share, salt: opts.salt, trainOut: inside(trainPath), holdoutOut: inside(holdoutPath) });
      return { trainPath, holdoutPath, ...counts };
    },
    training: s.jobs,
    evaluate: (text, historyLength, holdoutPath) =>
      evaluateHoldout(
        { llm: s.llm, pipeline: s.pipeline, dataDir: config.training.dataDir, concurrency: config.training.concurrency, candidateFormat: config.rerank.candidateFormat, clock: d.clock },
        text,
        historyLength,
        holdoutPath,
      ),
    experiments: s.experiments,
    registry: s.registry,
    pollMs: config.loop.pollMs,
    decisionIntervalMs: config.loop.decisionIntervalMs,
    onAudit: (record) => d.metrics.loop.audit(record),
  };
}

/** The runner bound to its dependencies, as the worker calls it. */
export function boundRunner(deps: LoopRunnerDeps, registry: Pick<PromptRegistry, 'resolve'>): LoopWorkerRunner {
  return {
    async newRun(domain, trigger, runId) {
      const schedule = await deps.store.getSchedule(domain);
      if (!schedule) return null;
      return newRunRecord({ runId, domain, trigger, schedule, baseVersion: registry.resolve(domain).version, now: deps.clock.now() });
    },
    start: (run) => startRun(deps, run),
    advance: (run) => advanceRun(deps, run),
    abandon: (run, why) => abandonRun(deps, run, why),
  };
}

/** Builds the loop's store, scheduler and (where asked) worker. */
export function createLoopParts(d: CreateLoopPartsDeps): LoopRuntimeParts {
  const { config, logger } = d;
  const store = d.redis ? createRedisLoopStore({ redis: d.redis, keyPrefix: config.redis.keyPrefix }) : createMemoryLoopStore();
  const target = config.redis.queueTarget;
  if (!target) {
    logger.info({}, 'loop: no queue Redis, so schedules cannot run (REDIS_URL or QUEUE_REDIS_URL)');
    return { store, scheduler: null, worker: null, close: () => Promise.resolve() };
  }
  const connections: RedisClient[] = [];
  // `queue` role for both (offline queue): see createBullmqRunScheduler on Cluster connections.
  const connect = (): RedisClient => {
    const c = createRedis(target, { role: 'queue', logger });
    connections.push(c);
    return c;
  };
  const scheduler = createBullmqRunScheduler({ connection: connect(), keyPrefix: config.redis.keyPrefix, logger });
  let worker: LoopWorker | null = null;
  if (config.loop.enabled && d.services) {
    const deps = loopRunnerDeps(d, store, d.services);
    worker = startLoopWorker({
      connection: connect(),
      keyPrefix: config.redis.keyPrefix,
      store,
      runner: boundRunner(deps, d.services.registry),
      logger,
      lockDurationMs: d.workerTuning?.lockDurationMs ?? config.training.lockDurationMs,
      stalledIntervalMs: d.workerTuning?.stalledIntervalMs ?? config.training.stalledIntervalMs,
      closeGraceMs: config.http.shutdownGraceMs,
    });
    logger.info({ queue: worker.worker.name }, 'loop: run worker started');
  }
  let closing: Promise<void> | undefined;
  return {
    store,
    scheduler,
    worker,
    close(opts = {}) {
      closing ??= (async () => {
        await worker?.close(opts).catch((err: unknown) => logger.warn({ err: String(err) }, 'loop worker close failed'));
        await scheduler.close().catch((err: unknown) => logger.warn({ err: String(err) }, 'loop queue close failed'));
        await Promise.allSettled(connections.map((c) => c.quit()));
      })();
      return closing;
    },
  };
}
