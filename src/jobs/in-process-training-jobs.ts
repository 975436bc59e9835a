/**
 * Training jobs without Redis: an in-memory job table, one job per domain at a time (p-limit(1) per
 * domain), a small global cap across domains, checkpoints in memory, and retries from the checkpoint
 * after a transient failure. The same states, attempts, backoff, retry and cancel rules as the BullMQ
 * engine (job-semantics.ts), but nothing survives a restart: a job running at shutdown ends `failed`.
 */
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { LimitFunction } from 'p-limit';
import { createMemoryCheckpointStore } from '../agp/checkpoint.js';
import { silentLogger, systemClock } from '../agp/ports.js';
import { unavailable } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { JobProgress, JobState, JobView, TrainingJobRequest, TrainingJobs } from './training-jobs.js';
import { checkJobId, withoutInlineUsers } from './training-jobs.js';
import type { TrainingJobData, TrainingJobResult, TrainingRunDeps } from './run-training-job.js';
import { emptyProgress, prepareTrainingJob, runTrainingJob } from './run-training-job.js';
import {
  QUEUE_LIMIT_DEFAULT,
  queueFull,
  abortableDelay,
  CancelRequested,
  FINAL_STATES,
  INTERRUPTED_MESSAGE,
  isCancellable,
  JOB_RETRY_DEFAULTS,
  judgeFailedAttempt,
  retryDelayMs,
  ShuttingDown,
  stopReasonOf,
} from './job-semantics.js';
import { createArtifactWriter, createMemoryTrainingArtifacts } from './training-artifacts.js';

export interface InProcessTrainingJobsOptions extends TrainingRunDeps {
  metrics?: Pick<Metrics, 'trainingJobs'> | undefined;
  /** Jobs trained at once across all domains (default 2). */
  maxConcurrentJobs?: number | undefined;
  /** Attempts per job; a retry resumes from the in-memory checkpoint (default JOB_RETRY_DEFAULTS.attempts). */
  attempts?: number | undefined;
  /** Base of the exponential backoff between attempts (default JOB_RETRY_DEFAULTS.backoffMs). */
  retryDelayMs?: number | undefined;
  /** Finished jobs kept for listing; the oldest are forgotten first (default 500). */
  keepFinished?: number | undefined;
  /** Jobs admitted and not finished (queued or running, all domains); a submit beyond it is refused as unavailable (default QUEUE_LIMIT_DEFAULT). */
  maxQueued?: number | undefined;
}

interface JobRecord {
  id: string;
  data: TrainingJobData;
  state: JobState;
  createdAt: string;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  progress: JobProgress;
  result?: TrainingJobResult | undefined;
  error?: string | undefined;
  controller?: AbortController | undefined;
}

function toView(r: JobRecord): JobView {
  return {
    jobId: r.id,
    domain: r.data.domain,
    state: r.state,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    progress: { ...r.progress },
    metrics: r.result ? { ...r.result.metrics } : {},
    result: r.result ? { ...r.result, metrics: { ...r.result.metrics } } : undefined,
    error: r.error,
  };
}

export function createInProcessTrainingJobs(opts: InProcessTrainingJobsOptions): TrainingJobs {
  const log = opts.logger ?? silentLogger;
  const clock = opts.clock ?? systemClock;
  const attempts = Math.max(1, opts.attempts ?? JOB_RETRY_DEFAULTS.attempts);
  const keepFinished = Math.max(1, opts.keepFinished ?? 500);
  const maxQueued = Math.max(1, opts.maxQueued ?? QUEUE_LIMIT_DEFAULT);
  const jobs = new Map<string, JobRecord>();
  const running = new Set<Promise<void>>();
  const global = pLimit(Math.max(1, opts.maxConcurrentJobs ?? 2));
  const perDomain = new Map<string, LimitFunction>();
  const artifacts = createMemoryTrainingArtifacts();
  let closed = false;

  const iso = () => new Date(clock.now()).toISOString();

  function finalise(r: JobRecord, state: 'completed' | 'failed' | 'cancelled', extra: Partial<JobRecord> = {}): void {
    Object.assign(r, extra, { state, finishedAt: iso(), controller: undefined, data: withoutInlineUsers(r.data) });
    opts.metrics?.trainingJobs.inc({ state });
    evict();
  }

  function evict(): void {
    const finished = [...jobs.values()].filter((j) => FINAL_STATES.has(j.state));
    for (const j of finished.slice(0, Math.max(0, finished.length - keepFinished))) {
      jobs.delete(j.id);
      void artifacts.delete(j.id);
    }
  }

  /** @throws UnavailableError when TRAINING_MAX_QUEUED jobs are already queued or running. */
  function refuseWhenFull(): void {
    let unfinished = 0;
    for (const j of jobs.values()) if (!FINAL_STATES.has(j.state)) unfinished++;
    if (unfinished >= maxQueued) throw queueFull(maxQueued);
  }

  function domainLimit(domain: string): LimitFunction {
    let l = perDomain.get(domain);
    if (!l) {
      l = pLimit(1);
      perDomain.set(domain, l);
    }
    return l;
  }

  /** A run stopped by its signal: nothing here survives a shutdown, so an interrupted job fails. */
  function stopped(r: JobRecord, signal: AbortSignal): void {
    if (stopReasonOf(signal) === 'cancelled') finalise(r, 'cancelled');
    else finalise(r, 'failed', { error: INTERRUPTED_MESSAGE });
  }

  async function execute(r: JobRecord): Promise<void> {
    if (r.state !== 'queued') return; // cancelled while waiting
    if (closed) {
      finalise(r, 'failed', { error: `${INTERRUPTED_MESSAGE} before the job started` });
      return;
    }
    const controller = new AbortController();
    Object.assign(r, { state: 'running', startedAt: iso(), controller });
    const checkpoints = createMemoryCheckpointStore();
    const writer = createArtifactWriter(artifacts, r.id, log, clock.now);
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await runTrainingJob(
          r.data,
          { jobId: r.id, checkpoints, signal: controller.signal, onProgress: (p) => void (r.progress = p), artifacts: writer },
          opts,
        ).finally(() => writer.flush());
        if (out.outcome === 'completed') finalise(r, 'completed', { result: out.result });
        else stopped(r, controller.signal);
        return;
      } catch (err) {
        const verdict = judgeFailedAttempt(err, controller.signal, attempt, attempts);
        if (verdict.action === 'stopped') return stopped(r, controller.signal);
        if (verdict.action === 'fail') {
          log.warn({ jobId: r.id, kind: verdict.kind, err: verdict.message }, 'training job failed');
          finalise(r, 'failed', { error: verdict.message });
          return;
        }
        log.warn({ jobId: r.id, attempt, err: verdict.message }, 'training job attempt failed; retrying from its checkpoint');
        // A cancel or a shutdown must not wait out the backoff.
        await abortableDelay(retryDelayMs(attempt, opts.retryDelayMs), controller.signal);
        if (controller.signal.aborted) return stopped(r, controller.signal);
      }
    }
  }

  return {
    async submit(req: TrainingJobRequest) {
      if (closed) throw unavailable('the training service is shutting down', 5);
      // A caller-chosen id already known is the same job (checked again after the await below, so two
      // concurrent submits of one id make one job).
      const given = req.jobId === undefined ? undefined : checkJobId(req.jobId);
      if (given !== undefined && jobs.has(given)) return { jobId: given };
      if (!opts.llm.configured) throw unavailable('training needs an LLM (set LLM_BASE_URL/LLM_API_KEY and LLM_MODEL)', 60);
      // Checked before and after preparing (reading a dataset file takes time): each unfinished job holds
      // its inline users in memory.
      refuseWhenFull();
      const prepared = await prepareTrainingJob(req, opts);
      if (given !== undefined && jobs.has(given)) return { jobId: given };
      refuseWhenFull();
      const r: JobRecord = { id: given ?? randomUUID(), data: prepared, state: 'queued', createdAt: iso(), progress: emptyProgress() };
      jobs.set(r.id, r);
      // The callbacks below reach the payload through `r` only: finalise() swaps r.data for one without the
      // inline users, which a closure over the prepared data would have kept alive until the job's turn.
      const domain = prepared.domain;
      const p = domainLimit(domain)(() => global(() => execute(r)))
        .catch((err: unknown) => log.error({ jobId: r.id, err: String(err) }, 'training job crashed'))
        .finally(() => {
          running.delete(p);
          const l = perDomain.get(domain);
          if (l && l.activeCount === 0 && l.pendingCount === 0) perDomain.delete(domain);
        });
      running.add(p);
      log.info({ jobId: r.id, domain }, 'training job queued');
      return { jobId: r.id };
    },

    get(jobId) {
      const r = jobs.get(jobId);
      return Promise.resolve(r ? toView(r) : null);
    },

    list() {
      const all = [...jobs.values()].map(toView).reverse();
      return Promise.resolve(all);
    },

    report: (jobId) => (jobs.has(jobId) ? artifacts.report(jobId) : Promise.resolve(null)),

    trace: (jobId) => (jobs.has(jobId) ? artifacts.trace(jobId) : Promise.resolve(null)),

    cancel(jobId) {
      const r = jobs.get(jobId);
      if (!r || !isCancellable(r.state)) return Promise.resolve(false);
      if (r.state === 'queued') finalise(r, 'cancelled');
      else r.controller?.abort(new CancelRequested(`job ${jobId} cancelled`));
      return Promise.resolve(true);
    },

    async close() {
      closed = true;
      for (const r of jobs.values()) r.controller?.abort(new ShuttingDown('shutting down'));
      await Promise.allSettled([...running]);
    },
  };
}
