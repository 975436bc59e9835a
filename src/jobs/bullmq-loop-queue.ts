/**
 * The loop's runs on BullMQ (issue 11): the queue `<prefix>-loop` with the BullMQ prefix `{<prefix>}`, the
 * training queue's hash tag, so every key lives in one Redis Cluster slot.
 *
 * - `createBullmqRunScheduler`: the RunScheduler port. One BullMQ job scheduler per domain (`loop.<domain>`),
 *   `every` or a cron `pattern` with its time zone; a paused schedule has none. Upserting an unchanged
 *   schedule keeps its next firing (BullMQ keeps the slot when `every` is unchanged), so applying the chart's
 *   schedules at every start fires nothing extra. An `every` schedule first fires one interval after it is
 *   created, like a cron one at its next match; POST …/run starts one at once.
 * - `startLoopWorker`: runs a firing. It starts the run (loop-runner.ts startRun: a pinned domain or a run in
 *   progress is skipped and audited), then advances it step by step. When the run must wait (training,
 *   canary), the job is moved back to `delayed` for that long and ends its turn with DelayedError, BullMQ's
 *   step-job pattern: a canary that lasts days holds no worker. A worker that dies mid-step loses its lock,
 *   BullMQ's stalled check hands the job to another worker, and the stored run says where it was.
 */
import { DelayedError, Queue, Worker } from 'bullmq';
import type { Job, JobsOptions } from 'bullmq';
import { silentLogger } from '../agp/ports.js';
import type { Logger } from '../agp/ports.js';
import { boundedDependencyCall } from '../errors.js';
import type { Advance, RunStart } from '../loop/loop-runner.js';
import { scheduledRunId } from '../loop/loop-runner.js';
import type { LoopRun, LoopStore, RunScheduler, Schedule } from '../loop/ports.js';
import type { RedisClient } from '../store/redis-connection.js';

/** What a loop job carries: a scheduled firing names only its domain; POST …/run also its runId. */
export interface LoopJobData {
  domain: string;
  trigger: LoopRun['trigger'];
  runId?: string | undefined;
}

/** How a loop job ended (its BullMQ return value). */
export type LoopJobResult = { runId: string; outcome: string } | { runId: string; skipped: string };

/** The BullMQ name of loop jobs. */
export const LOOP_JOB_NAME = 'loop-run';

/** The queue's BullMQ prefix and name for a key prefix (REDIS_KEY_PREFIX; checked by createTrainingKeys). */
export function loopQueueNames(keyPrefix: string): { bullPrefix: string; queueName: string } {
  return { bullPrefix: `{${keyPrefix}}`, queueName: `${keyPrefix}-loop` };
}

/** The job scheduler of a domain. */
export function schedulerIdOf(domain: string): string {
  return `loop.${domain}`;
}

/**
 * A job's attempts: a step that throws (not an unavailable dependency, which the runner waits out) is
 * retried with backoff; after the last attempt the run is ended `failed`.
 */
const LOOP_JOB_OPTIONS = {
  attempts: 4,
  backoff: { type: 'exponential', delay: 30_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
  removeOnFail: { age: 28 * 24 * 3600, count: 1000 },
} satisfies Partial<JobsOptions>;

/** Longest wait for one scheduler operation (the admin routes answer 503 after it). */
const OPERATION_TIMEOUT_MS = 1_500;
const bounded = <T>(operation: () => Promise<T>): Promise<T> => boundedDependencyCall('loop queue (Redis)', OPERATION_TIMEOUT_MS, operation);

/** The RunScheduler, plus its queue (tests) and close. */
export interface BullmqRunScheduler extends RunScheduler {
  readonly queue: Queue<LoopJobData, LoopJobResult>;
  close(): Promise<void>;
}

export interface BullmqRunSchedulerOptions {
  /**
   * A `queue`-role connection. Not closed by close(). Not `producer`: on a Redis Cluster BullMQ's first
   * commands (INFO, scripts) may reach a node whose socket is still opening, and without the offline queue
   * they fail with "Connection is closed" (seen in about 1 of 3 fresh connections); bounded() still answers
   * an admin request within OPERATION_TIMEOUT_MS when Redis is down.
   */
  connection: RedisClient;
  keyPrefix: string;
  logger?: Logger | undefined;
  /** Time source for the first `every` firing (tests). */
  now?: (() => number) | undefined;
}

/** Builds the RunScheduler on the loop queue. */
export function createBullmqRunScheduler(opts: BullmqRunSchedulerOptions): BullmqRunScheduler {
  const { bullPrefix, queueName } = loopQueueNames(opts.keyPrefix);
  const log = opts.logger ?? silentLogger;
  const now = opts.now ?? Date.now;
  const queue = new Queue<LoopJobData, LoopJobResult>(queueName, { connection: opts.connection, prefix: bullPrefix, defaultJobOptions: LOOP_JOB_OPTIONS });
  queue.on('error', (err) => log.warn({ err: err.message }, 'loop queue error'));
  const nextRunAt = (domain: string) => bounded(async () => (await queue.getJobScheduler(schedulerIdOf(domain)))?.next ?? null);

  return {
    queue,
    async upsert(schedule: Schedule) {
      const id = schedulerIdOf(schedule.domain);
      if (schedule.paused) {
        await bounded(() => queue.removeJobScheduler(id));
        return { nextRunAt: null };
      }
      // startDate only matters to a new scheduler (or a changed `every`): an existing one keeps its slot.
      const repeat = schedule.everyMs !== undefined ? { every: schedule.everyMs, startDate: now() + schedule.everyMs } : { pattern: schedule.cron, tz: schedule.tz ?? 'UTC' };
      const data: LoopJobData = { domain: schedule.domain, trigger: 'schedule' };
      await bounded(() => queue.upsertJobScheduler(id, repeat, { name: LOOP_JOB_NAME, data, opts: LOOP_JOB_OPTIONS }));
      return { nextRunAt: await nextRunAt(schedule.domain) };
    },
    async remove(domain) {
      await bounded(() => queue.removeJobScheduler(schedulerIdOf(domain)));
    },
    nextRunAt,
    async runNow(domain, runId) {
      await bounded(() => queue.add(LOOP_JOB_NAME, { domain, trigger: 'manual', runId }, { jobId: `run.${runId}` }));
    },
    close: () => queue.close(),
  };
}

/** The runner bound to its dependencies (loop-runner.ts: startRun, advanceRun, abandonRun). */
export interface LoopWorkerRunner {
  /** The run a firing starts, from the domain's schedule now; null when the domain has no schedule. */
  newRun(domain: string, trigger: LoopRun['trigger'], runId: string): Promise<LoopRun | null>;
  start(run: LoopRun): Promise<RunStart>;
  advance(run: LoopRun): Promise<Advance>;
  abandon(run: LoopRun, why: string): Promise<LoopRun>;
}

export interface LoopWorkerOptions {
  /** A `queue`-role connection (maxRetriesPerRequest null). Not closed by close(). */
  connection: RedisClient;
  keyPrefix: string;
  store: LoopStore;
  runner: LoopWorkerRunner;
  logger?: Logger | undefined;
  /** Runs advanced at once (different domains; default 4). */
  concurrency?: number | undefined;
  /** BullMQ job lock; a dead worker's run is taken over after about this long (default 30 s). */
  lockDurationMs?: number | undefined;
  /** How often workers look for stalled jobs (default 15 s). */
  stalledIntervalMs?: number | undefined;
  /** Stall recoveries before the job fails (default 3). */
  maxStalledCount?: number | undefined;
  /**
   * How long a graceful close waits for a step in progress (a gate evaluation takes minutes; default 10 s).
   * Past it close() resolves anyway: the step's lock lapses and another worker redoes the step.
   */
  closeGraceMs?: number | undefined;
}

export interface LoopWorker {
  readonly worker: Worker<LoopJobData, LoopJobResult>;
  /**
   * Graceful: a step in progress may finish (within closeGraceMs), then the run is handed back to the queue.
   * `force`: at once (a crash, for tests). BullMQ keeps the first close's mode, so a forced close after a
   * graceful one does not cut it shorter; the grace does.
   */
  close(opts?: { force?: boolean }): Promise<void>;
}

/** The runId of a job: given (POST …/run), else from the firing time in the scheduler's job id. */
export function runIdOfJob(job: Pick<Job<LoopJobData>, 'id' | 'data' | 'timestamp'>): string {
  if (job.data.runId) return job.data.runId;
  // `repeat:<schedulerId>:<millis>` (JobScheduler.getSchedulerNextJobId).
  const millis = Number(String(job.id ?? '').split(':').pop());
  return scheduledRunId(job.data.domain, Number.isFinite(millis) && millis > 0 ? millis : job.timestamp);
}

/** Starts the loop worker. */
export function startLoopWorker(opts: LoopWorkerOptions): LoopWorker {
  const { bullPrefix, queueName } = loopQueueNames(opts.keyPrefix);
  const log = opts.logger ?? silentLogger;
  const { runner, store } = opts;
  const graceMs = opts.closeGraceMs ?? 10_000;
  let closing = false;

  async function processJob(job: Job<LoopJobData, LoopJobResult>, token?: string): Promise<LoopJobResult> {
    const { domain, trigger } = job.data;
    const runId = runIdOfJob(job);
    const later = async (ms: number): Promise<never> => {
      await job.moveToDelayed(Date.now() + ms, token);
      throw new DelayedError();
    };
    let run = await store.getRun(domain, runId);
    if (!run) {
      const fresh = await runner.newRun(domain, trigger, runId);
      if (!fresh) {
        log.info({ domain, runId }, 'loop: the domain has no schedule any more; nothing to run');
        return { runId, skipped: 'no schedule' };
      }
      const started = await runner.start(fresh);
      if (!started.run) {
        log.info({ domain, runId, why: started.skipped }, 'loop: run skipped');
        return { runId, skipped: started.skipped };
      }
      run = started.run;
    }
    for (;;) {
      // Shutting down: hand the run back between steps; any worker picks it up.
      if (closing) return later(0);
      const next = await runner.advance(run);
      run = next.run;
      if (next.waitMs === null) {
        log.info({ domain, runId, outcome: run.outcome }, 'loop: run finished');
        return { runId, outcome: run.outcome ?? 'unknown' };
      }
      if (next.waitMs > 0) return later(next.waitMs);
    }
  }

  const worker = new Worker<LoopJobData, LoopJobResult>(queueName, processJob, {
    connection: opts.connection,
    prefix: bullPrefix,
    concurrency: Math.max(1, opts.concurrency ?? 4),
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 15_000,
    maxStalledCount: opts.maxStalledCount ?? 3,
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'loop worker error'));
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    log.warn({ jobId: job.id, domain: job.data.domain, attempt: job.attemptsMade, final, err: err.message }, 'loop: a run step failed');
    if (!final) return;
    // The run must not stay "in progress" forever, holding its domain: end it failed (its canary stopped).
    const runId = runIdOfJob(job);
    void (async () => {
      const run = await store.getRun(job.data.domain, runId);
      if (run) await runner.abandon(run, `step ${run.step} kept failing: ${err.message}`);
    })().catch((e: unknown) => log.error({ domain: job.data.domain, runId, err: String(e) }, 'loop: could not end a failed run'));
  });

  return {
    worker,
    async close(closeOpts = {}) {
      closing = true;
      if (closeOpts.force) return worker.close(true);
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          log.warn({ graceMs }, 'loop worker: a step is still running at shutdown; its run resumes on another worker');
          resolve();
        }, graceMs);
        timer.unref();
      });
      await Promise.race([worker.close(false), grace]).finally(() => clearTimeout(timer));
    },
  };
}
