/**
 * Training jobs on BullMQ. The queue `<prefix>-training` uses the BullMQ prefix `{<prefix>}` (one hash
 * tag, so every key of the queue lives in one Redis Cluster slot).
 *
 * - `createBullmqTrainingJobs`: the producer side used by the admin API (submit, get, list, cancel).
 * - `startTrainingWorker`: runs jobs (in the API process with WORKER_ENABLED, or in `agp worker`).
 *
 * States: waiting/prioritized/delayed → queued, active (once the domain lock is held) → running,
 * failed → failed, completed → completed or cancelled (a cancelled run completes with outcome
 * `cancelled`, so it is never retried). A cancelled job that never started reads `cancelled` at once.
 *
 * One job per domain: the worker takes a per-domain Redis lock before training; when another job holds
 * it, the job is moved back to `delayed` (it stays `queued`) and re-checked shortly after.
 * Cancellation: a Redis flag the running job polls (with its lock refresh) → AbortController → the
 * trainer stops between batches. Crashes: BullMQ's stalled-job check hands the job to another worker
 * after `lockDuration`; the trainer resumes from the Redis checkpoint written after every batch.
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Job, JobsOptions, JobType } from 'bullmq';
import { silentLogger, systemClock } from '../agp/ports.js';
import type { Logger } from '../agp/ports.js';
import type { Metrics } from '../observability/metrics.js';
import type { RedisClient } from '../store/redis-connection.js';
import type { JobProgress, JobState, JobView, TrainingJobRequest, TrainingJobs } from './training-jobs.js';
import type { TrainingJobData, TrainingJobResult, TrainingRunDeps } from './run-training-job.js';
import { emptyProgress, isPermanentTrainingError, prepareTrainingJob, runTrainingJob } from './run-training-job.js';
import type { TrainingKeys } from './redis-checkpoint-store.js';
import { createCancelFlags, createDomainLock, createRedisCheckpointStore, createTrainingKeys } from './redis-checkpoint-store.js';

/** What a finished job returns to BullMQ (its `returnvalue`). */
export type TrainingReturnValue =
  | { outcome: 'completed'; result: TrainingJobResult; finishedAt: string }
  | { outcome: 'cancelled'; finishedAt: string };

/** Stored job progress: the API's JobProgress plus when (and in which attempt) training started. */
type StoredProgress = Partial<JobProgress> & { startedAt?: string; attempt?: number };

type TrainingJob = Job<TrainingJobData, TrainingReturnValue>;

/** How long cancel flags are kept: as long as finished jobs are listed. */
const KEEP_SECONDS = 7 * 24 * 3600;

/** Defaults of the queued jobs: retries resume from the checkpoint; finished jobs stay listable. */
export function defaultTrainingJobOptions(overrides: Partial<JobsOptions> = {}): JobsOptions {
  return {
    attempts: 3,
    backoff: { type: 'exponential', delay: 10_000 },
    removeOnComplete: { age: KEEP_SECONDS, count: 1000 },
    removeOnFail: { age: 4 * KEEP_SECONDS, count: 1000 },
    ...overrides,
  };
}

export interface BullmqTrainingJobsOptions extends Pick<TrainingRunDeps, 'registry' | 'dataDir' | 'defaultConcurrency'> {
  /** A `queue`-role connection (maxRetriesPerRequest null). Not closed by `close()`. */
  connection: RedisClient;
  keyPrefix: string;
  logger?: Logger | undefined;
  jobOptions?: Partial<JobsOptions> | undefined;
  /** Jobs returned by list() (newest first; default 200). */
  listLimit?: number | undefined;
}

/** Producer-side TrainingJobs, plus the underlying queue (tests, metrics). */
export interface BullmqTrainingJobs extends TrainingJobs {
  readonly queue: Queue<TrainingJobData, TrainingReturnValue>;
}

function isoOf(ms: number | undefined): string | undefined {
  return typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : undefined;
}

function progressOf(job: TrainingJob): StoredProgress {
  return typeof job.progress === 'object' && job.progress !== null ? (job.progress as StoredProgress) : {};
}

/** Maps a BullMQ job (and its state) onto the API's view; null for states a job cannot be shown in. */
export function toJobView(job: TrainingJob, bullState: string, cancelledAt: string | null): JobView | null {
  const p = progressOf(job);
  const rv = job.returnvalue as TrainingReturnValue | null | undefined;
  let state: JobState;
  switch (bullState) {
    case 'completed':
      state = rv?.outcome === 'cancelled' ? 'cancelled' : 'completed';
      break;
    case 'failed':
      state = 'failed';
      break;
    case 'active':
      // Running once this attempt holds the domain lock (it then stamps its attempt number), until it has
      // actually stopped, even when asked to cancel. Before that it is still waiting for its turn.
      state = p.attempt === job.attemptsStarted ? 'running' : cancelledAt ? 'cancelled' : 'queued';
      break;
    case 'waiting':
    case 'wait':
    case 'prioritized':
    case 'delayed':
    case 'paused':
    case 'waiting-children':
      state = cancelledAt ? 'cancelled' : 'queued';
      break;
    default:
      return null;
  }
  const progress: JobProgress = { ...emptyProgress() };
  for (const k of ['epoch', 'batch', 'totalBatches', 'llmCalls', 'tokens', 'etaSeconds', 'phase'] as const) {
    if (p[k] !== undefined) (progress as unknown as Record<string, unknown>)[k] = p[k];
  }
  const result = rv?.outcome === 'completed' && state === 'completed' ? rv.result : undefined;
  const finishedAt = state === 'completed' || state === 'failed' || state === 'cancelled' ? (rv?.finishedAt ?? isoOf(job.finishedOn) ?? cancelledAt ?? undefined) : undefined;
  return {
    jobId: String(job.id),
    domain: job.data.domain,
    state,
    createdAt: isoOf(job.timestamp) ?? new Date(0).toISOString(),
    startedAt: p.startedAt,
    finishedAt,
    progress,
    metrics: result ? { ...result.metrics } : {},
    result,
    error: state === 'failed' ? job.failedReason || 'failed' : undefined,
  };
}

const LIST_GROUPS: JobType[][] = [['active'], ['waiting', 'prioritized', 'paused'], ['delayed'], ['completed'], ['failed']];

export function createBullmqTrainingJobs(opts: BullmqTrainingJobsOptions): BullmqTrainingJobs {
  const keys = createTrainingKeys(opts.keyPrefix);
  const log = opts.logger ?? silentLogger;
  const queue = new Queue<TrainingJobData, TrainingReturnValue>(keys.queueName, {
    connection: opts.connection,
    prefix: keys.bullPrefix,
    defaultJobOptions: defaultTrainingJobOptions(opts.jobOptions),
  });
  queue.on('error', (err) => log.warn({ err: err.message }, 'training queue error'));
  const flags = createCancelFlags(opts.connection, keys);
  const limit = Math.max(1, opts.listLimit ?? 200);

  async function view(jobId: string): Promise<JobView | null> {
    let job = (await queue.getJob(jobId)) as TrainingJob | undefined;
    if (!job) return null;
    const [state, cancelledAt] = await Promise.all([job.getState(), flags.get(jobId)]);
    // The job may have finished between reading its data and its state: read the final data.
    if ((state === 'completed' || state === 'failed') && !job.finishedOn) {
      job = (await queue.getJob(jobId)) as TrainingJob | undefined;
      if (!job) return null;
    }
    return toJobView(job, state, cancelledAt);
  }

  return {
    queue,

    async submit(req: TrainingJobRequest) {
      const data = await prepareTrainingJob(req, opts);
      const jobId = randomUUID();
      await queue.add('train', data, { jobId });
      log.info({ jobId, domain: data.domain }, 'training job queued');
      return { jobId };
    },

    async get(jobId) {
      return view(jobId);
    },

    async list() {
      const seen = new Set<string>();
      const found: Array<{ job: TrainingJob; state: string }> = [];
      for (const types of LIST_GROUPS) {
        const jobs = (await queue.getJobs(types, 0, limit - 1, false)) as TrainingJob[];
        for (const job of jobs) {
          const id = String(job?.id ?? '');
          if (!job || !id || seen.has(id)) continue;
          seen.add(id);
          found.push({ job, state: types[0] as string });
        }
      }
      const cancelled = await flags.getMany(found.map((f) => String(f.job.id)));
      return found
        .map((f, i) => toJobView(f.job, f.state, cancelled[i] ?? null))
        .filter((v): v is JobView => v !== null)
        .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
        .slice(0, limit);
    },

    async cancel(jobId) {
      const job = (await queue.getJob(jobId)) as TrainingJob | undefined;
      if (!job) return false;
      const state = await job.getState();
      if (state === 'completed' || state === 'failed' || state === 'unknown') return false;
      if (!(await flags.set(jobId, new Date().toISOString(), KEEP_SECONDS * 1000))) return false; // already cancelled
      // A job waiting for its domain: let a worker finalise it now instead of after its delay.
      if (state === 'delayed') await job.promote().catch(() => undefined);
      log.info({ jobId, state }, 'training job cancel requested');
      return true;
    },

    async close() {
      await queue.close();
    },
  };
}

/** Worker timings. Production defaults suit long jobs; tests shorten them. */
export interface TrainingWorkerTuning {
  /** Training jobs one worker runs at once (different domains; default 2). */
  concurrency?: number | undefined;
  /** BullMQ job lock; a crashed worker's job is taken over after about this long (default 30 s). */
  lockDurationMs?: number | undefined;
  /** How often workers look for stalled jobs (default 15 s). */
  stalledIntervalMs?: number | undefined;
  /** Stall recoveries before a job fails (default 3). */
  maxStalledCount?: number | undefined;
  /** Cancel-flag poll and domain-lock refresh period (default 1 s). */
  pollMs?: number | undefined;
  /** When the domain is busy, the job is re-checked after this long (default 2 s). */
  busyDelayMs?: number | undefined;
  /** Domain lock TTL (default: lockDurationMs). */
  domainLockTtlMs?: number | undefined;
  checkpointTtlMs?: number | undefined;
}

export interface TrainingWorkerOptions extends TrainingRunDeps, TrainingWorkerTuning {
  /** A `queue`-role connection for the worker. Not closed by `close()`. */
  connection: RedisClient;
  keyPrefix: string;
  metrics?: Pick<Metrics, 'trainingJobs'> | undefined;
}

export interface TrainingWorker {
  readonly worker: Worker<TrainingJobData, TrainingReturnValue>;
  /**
   * Graceful: running jobs are stopped between batches, keep their checkpoint and go back to the queue
   * for any worker to resume. `force`: stop at once without waiting (used to simulate a crash).
   */
  close(opts?: { force?: boolean }): Promise<void>;
}

class CancelRequested extends Error {
  override readonly name = 'CancelRequested';
}
class ShuttingDown extends Error {
  override readonly name = 'ShuttingDown';
}
class LockLost extends Error {
  override readonly name = 'LockLost';
}

export function startTrainingWorker(opts: TrainingWorkerOptions): TrainingWorker {
  const keys: TrainingKeys = createTrainingKeys(opts.keyPrefix);
  const log = opts.logger ?? silentLogger;
  const clock = opts.clock ?? systemClock;
  const lockDuration = opts.lockDurationMs ?? 30_000;
  const pollMs = opts.pollMs ?? 1_000;
  const busyDelay = opts.busyDelayMs ?? 2_000;
  const domainTtl = opts.domainLockTtlMs ?? lockDuration;
  const redis = opts.connection;
  const domainLock = createDomainLock(redis, keys);
  const flags = createCancelFlags(redis, keys);
  const active = new Map<string, { controller: AbortController; timer: NodeJS.Timeout }>();
  let closing = false;

  async function processJob(job: TrainingJob, token?: string): Promise<TrainingReturnValue> {
    const jobId = String(job.id);
    const { domain } = job.data;
    const attempt = token ?? randomUUID();
    const checkpoints = createRedisCheckpointStore({ redis, keys, jobId, ttlMs: opts.checkpointTtlMs, fenceToken: token });
    const now = () => new Date(clock.now()).toISOString();
    const backToQueue = async (delayMs: number): Promise<never> => {
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    };
    if (await flags.get(jobId)) {
      await checkpoints.clear();
      return { outcome: 'cancelled', finishedAt: now() };
    }
    if (closing) return backToQueue(0);
    if (!(await domainLock.acquire(domain, jobId, attempt, domainTtl))) return backToQueue(busyDelay);

    const controller = new AbortController();
    const poll = async () => {
      try {
        if (await flags.get(jobId)) controller.abort(new CancelRequested(`job ${jobId} cancelled`));
        if (!(await domainLock.extend(domain, jobId, attempt, domainTtl))) {
          log.warn({ jobId, domain }, 'training: domain lock lost to a newer attempt; stopping this one');
          controller.abort(new LockLost(`job ${jobId}: domain lock lost`));
        }
      } catch (err) {
        log.warn({ jobId, err: String(err) }, 'training: cancel/lock poll failed');
      }
    };
    const timer = setInterval(() => void poll(), pollMs);
    timer.unref();
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      active.delete(jobId);
      await domainLock.release(domain, jobId, attempt).catch(() => undefined);
    };
    active.set(jobId, { controller, timer });
    const previous = progressOf(job);
    const marker = { startedAt: previous.startedAt ?? now(), attempt: job.attemptsStarted };
    let chain: Promise<unknown> = job.updateProgress({ ...previous, ...marker });
    const onProgress = (p: JobProgress) => {
      chain = chain
        .then(() => job.updateProgress({ ...p, ...marker }))
        .catch((err: unknown) => log.debug({ jobId, err: String(err) }, 'progress update failed'));
    };
    const stopped = async (): Promise<TrainingReturnValue> => {
      const reason: unknown = controller.signal.reason;
      // Shutdown: keep the checkpoint and hand the job back to the queue; the lock goes first, so the
      // next attempt (any worker) can take it. A lost lock means another attempt owns the job now.
      if (reason instanceof ShuttingDown || reason instanceof LockLost) {
        await release();
        if (reason instanceof LockLost) throw new Error(reason.message);
        return backToQueue(0);
      }
      await checkpoints.clear().catch(() => undefined);
      return { outcome: 'cancelled', finishedAt: now() };
    };
    try {
      log.info({ jobId, domain, attempt: job.attemptsStarted }, 'training job started');
      const out = await runTrainingJob(job.data, { jobId, checkpoints, signal: controller.signal, onProgress }, opts);
      await chain.catch(() => undefined);
      if (out.outcome === 'cancelled') return await stopped();
      await checkpoints.clear().catch(() => undefined);
      return { ...out, finishedAt: now() };
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      if (controller.signal.aborted) return await stopped();
      const message = err instanceof Error ? err.message : String(err);
      log.warn({ jobId, domain, err: message }, 'training job attempt failed');
      if (isPermanentTrainingError(err)) throw new UnrecoverableError(message);
      throw err;
    } finally {
      await release();
    }
  }

  const worker = new Worker<TrainingJobData, TrainingReturnValue>(keys.queueName, processJob, {
    connection: redis,
    prefix: keys.bullPrefix,
    concurrency: Math.max(1, opts.concurrency ?? 2),
    lockDuration,
    stalledInterval: opts.stalledIntervalMs ?? 15_000,
    maxStalledCount: opts.maxStalledCount ?? 3,
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'training worker error'));
  worker.on('completed', (job, rv) => {
    opts.metrics?.trainingJobs.inc({ state: rv.outcome });
    log.info({ jobId: job.id, outcome: rv.outcome }, 'training job finished');
  });
  worker.on('failed', (job, err) => {
    const final = !job || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    opts.metrics?.trainingJobs.inc({ state: 'failed' });
    if (job) void createRedisCheckpointStore({ redis, keys, jobId: String(job.id) }).clear().catch(() => undefined);
    log.warn({ jobId: job?.id, err: err.message }, 'training job failed');
  });

  return {
    worker,
    async close(closeOpts = {}) {
      closing = true;
      for (const a of active.values()) {
        if (closeOpts.force) clearInterval(a.timer);
        a.controller.abort(new ShuttingDown('worker shutting down'));
      }
      await worker.close(closeOpts.force ?? false);
    },
  };
}
