/**
 * The BullMQ worker that runs training jobs (in the API process with WORKER_ENABLED, or in `agp worker`):
 * one job per domain via a Redis lock, cancellation via a polled flag, crash recovery via BullMQ's stalled
 * check plus the trainer's Redis checkpoints. See bullmq-training-jobs.ts for the queue and the states.
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import { silentLogger, systemClock } from '../agp/ports.js';
import type { Metrics } from '../observability/metrics.js';
import type { RedisClient } from '../store/redis-connection.js';
import type { JobProgress } from './training-jobs.js';
import { withoutInlineUsers } from './training-jobs.js';
import type { TrainingJobData, TrainingRunDeps } from './run-training-job.js';
import { runTrainingJob } from './run-training-job.js';
import { CancelRequested, judgeFailedAttempt, LockLost, ShuttingDown, stopReasonOf } from './job-semantics.js';
import { createArtifactWriter } from './training-artifacts.js';
import { createRedisTrainingArtifacts } from './redis-training-artifacts.js';
import type { TrainingKeys } from './redis-checkpoint-store.js';
import { createCancelFlags, createDomainLock, createRedisCheckpointStore, createTrainingKeys } from './redis-checkpoint-store.js';
import { progressOf } from './bullmq-training-jobs.js';
import type { TrainingJob, TrainingReturnValue } from './bullmq-training-jobs.js';

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
  const artifactStore = createRedisTrainingArtifacts(redis, keys);
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
      const reason = stopReasonOf(controller.signal);
      // Shutdown: keep the checkpoint and hand the job back to the queue; the lock goes first, so the
      // next attempt (any worker) can take it. A lost lock means another attempt owns the job now.
      if (reason !== 'cancelled') {
        await release();
        if (reason === 'lock_lost') throw new Error((controller.signal.reason as Error).message);
        return backToQueue(0);
      }
      await checkpoints.clear().catch(() => undefined);
      return { outcome: 'cancelled', finishedAt: now() };
    };
    try {
      log.info({ jobId, domain, attempt: job.attemptsStarted }, 'training job started');
      const artifacts = createArtifactWriter(artifactStore, jobId, log, clock.now);
      const out = await runTrainingJob(job.data, { jobId, checkpoints, signal: controller.signal, onProgress, artifacts }, opts).finally(() => artifacts.flush());
      await chain.catch(() => undefined);
      if (out.outcome === 'cancelled') return await stopped();
      await checkpoints.clear().catch(() => undefined);
      return { ...out, finishedAt: now() };
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      // BullMQ retries what is thrown while attempts are left; UnrecoverableError fails the job at once.
      const verdict = judgeFailedAttempt(err, controller.signal, job.attemptsMade + 1, job.opts.attempts ?? 1);
      if (verdict.action === 'stopped') return await stopped();
      log.warn({ jobId, domain, err: verdict.message }, 'training job attempt failed');
      if (verdict.action === 'fail') throw new UnrecoverableError(verdict.message);
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
  // A finished job's record stays in Redis for days (removeOnComplete/removeOnFail); its inline users do not.
  const forgetUsers = (job: TrainingJob) => void job.updateData(withoutInlineUsers(job.data)).catch(() => undefined);
  worker.on('completed', (job, rv) => {
    forgetUsers(job);
    opts.metrics?.trainingJobs.inc({ state: rv.outcome });
    log.info({ jobId: job.id, outcome: rv.outcome }, 'training job finished');
  });
  worker.on('failed', (job, err) => {
    const final = !job || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    opts.metrics?.trainingJobs.inc({ state: 'failed' });
    if (job) forgetUsers(job);
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
