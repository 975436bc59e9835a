/**
 * Training jobs without Redis: an in-memory job table, one job per domain at a time (p-limit(1) per
 * domain), a small global cap across domains, checkpoints in memory, and one retry from the checkpoint
 * after a transient failure. Same states and semantics as the BullMQ implementation, but nothing survives
 * a restart: a job running when the process shuts down ends `failed`.
 */
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { LimitFunction } from 'p-limit';
import { createMemoryCheckpointStore } from '../agp/checkpoint.js';
import { silentLogger, systemClock } from '../agp/ports.js';
import { unavailable } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { JobProgress, JobState, JobView, TrainingJobRequest, TrainingJobs } from './training-jobs.js';
import type { TrainingJobData, TrainingJobResult, TrainingRunDeps } from './run-training-job.js';
import { createArtifactWriter, createMemoryTrainingArtifacts } from './training-artifacts.js';
import { emptyProgress, isPermanentTrainingError, prepareTrainingJob, runTrainingJob } from './run-training-job.js';

export interface InProcessTrainingJobsOptions extends TrainingRunDeps {
  metrics?: Pick<Metrics, 'trainingJobs'> | undefined;
  /** Jobs trained at once across all domains (default 2). */
  maxConcurrentJobs?: number | undefined;
  /** Attempts per job; a retry resumes from the in-memory checkpoint (default 2). */
  attempts?: number | undefined;
  /** Delay before a retry (default 1000 ms). */
  retryDelayMs?: number | undefined;
  /** Finished jobs kept for listing; the oldest are forgotten first (default 500). */
  keepFinished?: number | undefined;
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

/** Abort reasons, so a run can tell a user's cancel from a shutdown. */
class CancelRequested extends Error {
  override readonly name = 'CancelRequested';
}
class ShuttingDown extends Error {
  override readonly name = 'ShuttingDown';
}

const FINAL: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);

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
  const attempts = Math.max(1, opts.attempts ?? 2);
  const keepFinished = Math.max(1, opts.keepFinished ?? 500);
  const jobs = new Map<string, JobRecord>();
  const running = new Set<Promise<void>>();
  const global = pLimit(Math.max(1, opts.maxConcurrentJobs ?? 2));
  const perDomain = new Map<string, LimitFunction>();
  const artifacts = createMemoryTrainingArtifacts();
  let closed = false;

  const iso = () => new Date(clock.now()).toISOString();

  function finalise(r: JobRecord, state: 'completed' | 'failed' | 'cancelled', extra: Partial<JobRecord> = {}): void {
    Object.assign(r, extra, { state, finishedAt: iso(), controller: undefined });
    opts.metrics?.trainingJobs.inc({ state });
    evict();
  }

  function evict(): void {
    const finished = [...jobs.values()].filter((j) => FINAL.has(j.state));
    for (const j of finished.slice(0, Math.max(0, finished.length - keepFinished))) {
      jobs.delete(j.id);
      void artifacts.delete(j.id);
    }
  }

  function domainLimit(domain: string): LimitFunction {
    let l = perDomain.get(domain);
    if (!l) {
      l = pLimit(1);
      perDomain.set(domain, l);
    }
    return l;
  }

  async function execute(r: JobRecord): Promise<void> {
    if (r.state !== 'queued') return; // cancelled while waiting
    if (closed) {
      finalise(r, 'failed', { error: 'interrupted: the service shut down before the job started' });
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
        else if (controller.signal.reason instanceof ShuttingDown) finalise(r, 'failed', { error: 'interrupted: the service shut down' });
        else finalise(r, 'cancelled');
        return;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (controller.signal.aborted) {
          const cancelled = controller.signal.reason instanceof CancelRequested;
          finalise(r, cancelled ? 'cancelled' : 'failed', cancelled ? {} : { error: 'interrupted: the service shut down' });
          return;
        }
        if (attempt >= attempts || isPermanentTrainingError(err)) {
          log.warn({ jobId: r.id, err: message }, 'training job failed');
          finalise(r, 'failed', { error: message });
          return;
        }
        log.warn({ jobId: r.id, attempt, err: message }, 'training job attempt failed; retrying from its checkpoint');
        await new Promise((res) => setTimeout(res, opts.retryDelayMs ?? 1000));
      }
    }
  }

  return {
    async submit(req: TrainingJobRequest) {
      if (closed) throw unavailable('the training service is shutting down', 5);
      if (!opts.llm.configured) throw unavailable('training needs an LLM (set LLM_BASE_URL/LLM_API_KEY and LLM_MODEL)', 60);
      const data = await prepareTrainingJob(req, opts);
      const r: JobRecord = { id: randomUUID(), data, state: 'queued', createdAt: iso(), progress: emptyProgress() };
      jobs.set(r.id, r);
      const p = domainLimit(data.domain)(() => global(() => execute(r)))
        .catch((err: unknown) => log.error({ jobId: r.id, err: String(err) }, 'training job crashed'))
        .finally(() => {
          running.delete(p);
          const l = perDomain.get(data.domain);
          if (l && l.activeCount === 0 && l.pendingCount === 0) perDomain.delete(data.domain);
        });
      running.add(p);
      log.info({ jobId: r.id, domain: data.domain }, 'training job queued');
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
      if (!r || FINAL.has(r.state)) return Promise.resolve(false);
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
