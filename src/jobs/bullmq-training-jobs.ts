/**
 * Training jobs on BullMQ. The queue `<prefix>-training` uses the BullMQ prefix `{<prefix>}` (one hash
 * tag, so every key of the queue lives in one Redis Cluster slot).
 *
 * - `createBullmqTrainingJobs`: the producer side used by the admin API (submit, get, list, cancel).
 * - `startTrainingWorker` (bullmq-training-worker.ts): runs jobs (in the API process with WORKER_ENABLED,
 *   or in `agp worker`).
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
 *
 * Every producer operation is bounded (QUEUE_OPERATION_TIMEOUT_MS) and a Redis failure (down, paused, full
 * under `noeviction`) surfaces as UnavailableError, so the admin routes answer 503 + Retry-After instead of
 * a 500 or a request that waits for Redis. A submit answered 503 may still have been queued (the command can
 * reach Redis after the wait ends); the job list shows it.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Job, JobsOptions, JobType } from 'bullmq';
import { silentLogger } from '../agp/ports.js';
import { boundedDependencyCall, unavailable } from '../errors.js';
import type { Logger } from '../agp/ports.js';
import type { RedisClient } from '../store/redis-connection.js';
import type { JobProgress, JobState, JobView, TrainingJobRequest, TrainingJobs } from './training-jobs.js';
import { checkJobId } from './training-jobs.js';
import type { TrainingJobData, TrainingJobResult, TrainingRunDeps } from './run-training-job.js';
import { emptyProgress, prepareTrainingJob } from './run-training-job.js';
import { TRAINING_JOB_KEEP_SECONDS, createCancelFlags, createTrainingKeys } from './redis-checkpoint-store.js';
import { createRedisTrainingArtifacts } from './redis-training-artifacts.js';
import { isCancellable, JOB_RETRY_DEFAULTS, QUEUE_LIMIT_DEFAULT, queueFull } from './job-semantics.js';

/** What a finished job returns to BullMQ (its `returnvalue`). */
export type TrainingReturnValue =
  | { outcome: 'completed'; result: TrainingJobResult; finishedAt: string }
  | { outcome: 'cancelled'; finishedAt: string };

/** Stored job progress: the API's JobProgress plus when (and in which attempt) training started. */
export type StoredProgress = Partial<JobProgress> & { startedAt?: string; attempt?: number };

/** A training job as BullMQ holds it. */
export type TrainingJob = Job<TrainingJobData, TrainingReturnValue>;

/**
 * Longest wait for one producer operation (several round trips: a view reads the job, its state and its
 * cancel flag). A paused Redis answers nothing; the connection's 1 s command timeout ends most waits first.
 */
export const QUEUE_OPERATION_TIMEOUT_MS = 1_500;

/** Bounds an operation on the queue's Redis; see QUEUE_OPERATION_TIMEOUT_MS. */
const bounded = <T>(operation: () => Promise<T>): Promise<T> => boundedDependencyCall('training queue (Redis)', QUEUE_OPERATION_TIMEOUT_MS, operation);

/** How long cancel flags are kept: as long as finished jobs are listed. */
const KEEP_SECONDS = TRAINING_JOB_KEEP_SECONDS;

/** Defaults of the queued jobs: retries resume from the checkpoint; finished jobs stay listable. */
export function defaultTrainingJobOptions(overrides: Partial<JobsOptions> = {}): JobsOptions {
  return {
    attempts: JOB_RETRY_DEFAULTS.attempts,
    backoff: { type: 'exponential', delay: JOB_RETRY_DEFAULTS.backoffMs },
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
  /** Jobs admitted and not finished (queued or running), across every producer; a submit beyond it is refused as unavailable (default QUEUE_LIMIT_DEFAULT). */
  maxQueued?: number | undefined;
}

/** Producer-side TrainingJobs, plus the underlying queue (tests, metrics). */
export interface BullmqTrainingJobs extends TrainingJobs {
  readonly queue: Queue<TrainingJobData, TrainingReturnValue>;
}

function isoOf(ms: number | undefined): string | undefined {
  return typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : undefined;
}

/** The progress stored on a job (empty before it first reports). */
export function progressOf(job: TrainingJob): StoredProgress {
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
  const artifacts = createRedisTrainingArtifacts(opts.connection, keys);
  const limit = Math.max(1, opts.listLimit ?? 200);
  const maxQueued = Math.max(1, opts.maxQueued ?? QUEUE_LIMIT_DEFAULT);
  let closed = false;

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
      if (closed) throw unavailable('the training service is shutting down', 5);
      // A caller-chosen id that is already queued (or finished and still kept) is the same job: answer it
      // before reading the dataset again, which may be gone by now.
      const given = req.jobId === undefined ? undefined : checkJobId(req.jobId);
      if (given !== undefined && (await bounded(() => queue.getJob(given)))) return { jobId: given };
      const data = await prepareTrainingJob(req, opts);
      // Every job not finished (a job waiting for its domain lock moves between active and delayed, so both
      // count). The count and the add are two commands: producers racing each other may overshoot by one
      // job each, and the bound on memory and Redis still holds. BullMQ adds nothing for an id it already
      // has, so two producers racing with the same given id still queue one job.
      const jobId = given ?? randomUUID();
      await bounded(async () => {
        const counts = await queue.getJobCounts('active', 'waiting', 'prioritized', 'delayed', 'paused');
        if (Object.values(counts).reduce((a, b) => a + b, 0) >= maxQueued) throw queueFull(maxQueued);
        await queue.add('train', data, { jobId });
      });
      log.info({ jobId, domain: data.domain }, 'training job queued');
      return { jobId };
    },

    get: (jobId) => bounded(() => view(jobId)),

    list: () => bounded(async () => {
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
    }),

    // Artifacts of a job BullMQ no longer knows are not served, even while their own TTL runs.
    report: (jobId) => bounded(async () => ((await queue.getJob(jobId)) ? artifacts.report(jobId) : null)),

    trace: (jobId) => bounded(async () => ((await queue.getJob(jobId)) ? artifacts.trace(jobId) : null)),

    cancel: (jobId) => bounded(async () => {
      const job = (await queue.getJob(jobId)) as TrainingJob | undefined;
      if (!job) return false;
      const state = await job.getState();
      const current = toJobView(job, state, null);
      if (!current || !isCancellable(current.state)) return false;
      if (!(await flags.set(jobId, new Date().toISOString(), KEEP_SECONDS * 1000))) return false; // already cancelled
      // A job waiting for its domain: let a worker finalise it now instead of after its delay.
      if (state === 'delayed') await job.promote().catch(() => undefined);
      log.info({ jobId, state }, 'training job cancel requested');
      return true;
    }),

    async close() {
      closed = true;
      await queue.close();
    },
  };
}
