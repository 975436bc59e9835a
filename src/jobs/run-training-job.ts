/**
 * The body of a training job, shared by the BullMQ worker and the in-process runner:
 *
 * - `prepareTrainingJob` (SUBMIT time): loads the dataset (dataset-files.ts: confined to TRAINING_DATA_DIR,
 *   streamed with bounded memory) and validates the users,
 *   validates the parameters and the split, and pins the starting prompt (the domain's active one).
 *   Every problem is an InvalidInputError (VALIDATION_ERROR), raised before anything is queued.
 * - `runTrainingJob` (RUN time): loads the data again, trains from the starting prompt (resuming from
 *   the checkpoint store), saves ONE PromptVersion whose name is derived from the job id (so a resumed
 *   or retried job never creates a second version), and with `activate: 'if-better'` activates it only
 *   when its validation NDCG@10 beats the starting prompt's, as measured in the same run.
 */
import type { CheckpointStore } from '../agp/checkpoint.js';
import type { UserRecord } from '../agp/dataset.js';
import { splitUsers } from '../agp/dataset.js';
import type { PipelineOptions } from '../agp/pipeline.js';
import type { Clock, LlmClient, Logger, PromptMetrics, PromptRegistry, PromptVersion } from '../agp/ports.js';
import { systemClock } from '../agp/ports.js';
import { train } from '../agp/trainer.js';
import type { TrainingParams } from '../agp/training-params.js';
import { resolveTrainingParams, TrainingParamsError } from '../agp/training-params.js';
import { UnavailableError, validationError } from '../errors.js';
import { loadDatasetRef } from './dataset-files.js';
import type { DatasetRef, JobProgress, TrainingJobRequest } from './training-jobs.js';
import type { TrainingArtifactWriter } from './training-artifacts.js';
import { traced } from '../agp/tracing.js';

/** The prompt a job starts from, pinned at submit time (the parent of the version it produces). */
export interface StartingPrompt {
  version: string;
  text: string;
}

/** What is queued: the validated request plus the pinned starting prompt. JSON-serialisable. */
export interface TrainingJobData {
  domain: string;
  dataset: DatasetRef;
  validation?: DatasetRef | undefined;
  /** Trainer parameters as given (domain and concurrency filled in); re-validated at run time. */
  params: Record<string, unknown>;
  activate: 'never' | 'if-better';
  start: StartingPrompt;
  /** ISO time of submission (part of the version name). */
  submittedAt: string;
}

/** The result of a finished job, as shown in JobView.result. */
export interface TrainingJobResult {
  promptVersion: string;
  activated: boolean;
  metrics: Record<string, unknown>;
  /** Set when `if-better` would have activated the version but the domain is pinned. */
  activationSkipped?: 'pinned' | undefined;
}

/** How a run ended: with a saved version, or cancelled through the signal. */
export type TrainingRunOutcome = { outcome: 'completed'; result: TrainingJobResult } | { outcome: 'cancelled' };

/** What preparing and running a job need. */
export interface TrainingRunDeps {
  llm: LlmClient;
  registry: PromptRegistry;
  pipeline: PipelineOptions;
  /** TRAINING_DATA_DIR. */
  dataDir: string;
  /** Default for params.concurrency (TRAINING_CONCURRENCY). */
  defaultConcurrency: number;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
  /**
   * Whether a person pinned the domain's version (issue 11: a pinned domain is never changed automatically):
   * `activate: 'if-better'` then saves the version without activating it, and says why.
   */
  isPinned?: ((domain: string) => Promise<boolean>) | undefined;
}

/** Per-run collaborators supplied by the runner (BullMQ worker or in-process). */
export interface TrainingRunContext {
  jobId: string;
  checkpoints: CheckpointStore;
  signal: AbortSignal;
  onProgress?: ((p: JobProgress) => void) | undefined;
  /** Receives the run's trace and report (retrievable through the admin API). */
  artifacts?: TrainingArtifactWriter | undefined;
}

/**
 * The LLM adapter reports a call cut short by the caller's signal as an LlmCallError ('timeout'), which
 * the trainer's batch step treats as a failed USER and then commits the batch with that user dropped.
 * At the job boundary an aborted call is not an LLM failure: rethrow the abort reason instead, so the
 * batch in progress is discarded and a resumed run redoes it.
 */
function abortAwareLlm(inner: LlmClient, signal: AbortSignal): LlmClient {
  return {
    get configured() {
      return inner.configured;
    },
    async complete(req) {
      try {
        return await inner.complete(req);
      } catch (err) {
        if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('training job aborted');
        throw err;
      }
    },
  };
}

/**
 * The version name a job produces, `<domain>-YYYYMMDD-HHMMSS-<job id, 12 hex>` like the CLI's names. It
 * depends only on the job, so retries and resumes converge on ONE version.
 */
export function trainedVersionName(jobId: string, domain: string, submittedAt: string): string {
  const t = new Date(submittedAt);
  const stamp = Number.isNaN(t.getTime()) ? '00000000-000000' : t.toISOString().replace(/\.\d+Z$/, '').replace(/-|:/g, '').replace('T', '-');
  const id = jobId.replace(/[^A-Za-z0-9]/g, '').toLowerCase().slice(0, 12) || 'job';
  return `${domain}-${stamp}-${id}`;
}

/** Zero progress, for jobs that have not reported yet. */
export function emptyProgress(): JobProgress {
  return { epoch: 0, batch: 0, llmCalls: 0, tokens: 0, etaSeconds: null };
}

/** The trainer parameters of a job: as given, with the job's domain and the default concurrency. */
function jobParams(domain: string, params: Record<string, unknown>, defaultConcurrency: number): Record<string, unknown> {
  if (params.domain !== undefined && params.domain !== domain) {
    throw validationError(`params.domain ("${String(params.domain)}") differs from the job's domain ("${domain}")`);
  }
  return { ...params, domain, concurrency: params.concurrency ?? defaultConcurrency };
}

function resolveParams(params: Record<string, unknown>): TrainingParams {
  try {
    return resolveTrainingParams(params);
  } catch (err) {
    if (err instanceof TrainingParamsError) throw validationError(err.message);
    throw err;
  }
}

async function loadUsers(
  data: Pick<TrainingJobData, 'dataset' | 'validation'>,
  dataDir: string,
): Promise<{ users: UserRecord[]; validation: UserRecord[] | undefined }> {
  const users = await loadDatasetRef(data.dataset, dataDir, 'dataset');
  const validation = data.validation ? await loadDatasetRef(data.validation, dataDir, 'validation') : undefined;
  return { users, validation };
}

/**
 * Submit-time validation. Returns what to queue.
 * @throws InvalidInputError (VALIDATION_ERROR) for any problem with the dataset, the parameters or the split.
 */
export async function prepareTrainingJob(
  req: TrainingJobRequest,
  deps: Pick<TrainingRunDeps, 'registry' | 'dataDir' | 'defaultConcurrency' | 'clock'>,
): Promise<TrainingJobData> {
  const params = jobParams(req.domain, req.params, deps.defaultConcurrency);
  const resolved = resolveParams(params);
  const { users, validation } = await loadUsers(req, deps.dataDir);
  let split;
  try {
    split = splitUsers(users, { ...resolved, validation });
  } catch (err) {
    throw validationError(`cannot split the dataset: ${(err as Error).message}`);
  }
  if (split.train.length === 0) throw validationError('no training users left after the validation hold-out');
  if (split.validation.length === 0) throw validationError('no validation users');
  const active = deps.registry.resolve(req.domain);
  return {
    domain: req.domain,
    dataset: req.dataset,
    ...(req.validation ? { validation: req.validation } : {}),
    params,
    activate: req.activate,
    start: { version: active.version, text: active.text },
    submittedAt: new Date((deps.clock ?? systemClock).now()).toISOString(),
  };
}

function shouldActivate(m: PromptMetrics): boolean {
  const best = typeof m.bestValNdcg === 'number' ? m.bestValNdcg : Number.NaN;
  const initial = typeof m.initialValNdcg === 'number' ? m.initialValNdcg : Number.NaN;
  const bestEpoch = typeof m.bestEpoch === 'number' ? m.bestEpoch : 0;
  return bestEpoch > 0 && best > initial;
}

async function finish(version: PromptVersion, data: TrainingJobData, deps: TrainingRunDeps): Promise<TrainingRunOutcome> {
  const metrics = version.metrics ?? {};
  const better = data.activate === 'if-better' && shouldActivate(metrics);
  const pinned = better && (await deps.isPinned?.(version.domain)) === true;
  const activated = better && !pinned;
  if (activated) await deps.registry.activate(version.domain, version.version);
  deps.logger?.info({ domain: version.domain, version: version.version, activated, ...(pinned ? { activationSkipped: 'pinned' } : {}) }, 'training job finished');
  return { outcome: 'completed', result: { promptVersion: version.version, activated, metrics: { ...metrics }, ...(pinned ? { activationSkipped: 'pinned' as const } : {}) } };
}

/**
 * Runs one job to its end: trains (resuming from `ctx.checkpoints`), saves the version, activates it when
 * asked and better. Returns `cancelled` when `ctx.signal` stopped the run (the checkpoint is kept: the
 * runner decides whether this was a user cancel or a shutdown to resume later).
 * @throws UnavailableError when the LLM was unavailable (retryable), and permanent errors (see job-semantics.ts).
 */
export function runTrainingJob(data: TrainingJobData, ctx: TrainingRunContext, deps: TrainingRunDeps): Promise<TrainingRunOutcome> {
  // A root span: a job outlives the request that submitted it, so it is not that request's child.
  return traced('training.job', { 'agp.job_id': ctx.jobId, 'agp.domain': data.domain }, async (span) => {
    const outcome = await runJob(data, ctx, deps);
    span.setAttribute('agp.training.outcome', outcome.outcome);
    return outcome;
  }, 'internal', true);
}

async function runJob(data: TrainingJobData, ctx: TrainingRunContext, deps: TrainingRunDeps): Promise<TrainingRunOutcome> {
  const name = trainedVersionName(ctx.jobId, data.domain, data.submittedAt);
  // A previous attempt may have saved the version and died before reporting: finish from it.
  const existing = await deps.registry.get(data.domain, name);
  if (existing) return finish(existing, data, deps);

  const params = jobParams(data.domain, data.params, deps.defaultConcurrency);
  resolveParams(params);
  const { users, validation } = await traced('training.load_data', undefined, () => loadUsers(data, deps.dataDir));
  const result = await train(
    { users, validation, initialPrompt: data.start.text, params, pipeline: deps.pipeline },
    {
      llm: abortAwareLlm(deps.llm, ctx.signal),
      checkpoints: ctx.checkpoints,
      signal: ctx.signal,
      clock: deps.clock,
      logger: deps.logger,
      onProgress: ctx.onProgress ? (p) => ctx.onProgress?.({ ...p }) : undefined,
      traceSink: ctx.artifacts?.traceSink,
    },
  );
  if (result.state === 'cancelled' || result.stoppedBy === 'llm_unavailable') await ctx.artifacts?.saveReport(result, null);
  if (result.state === 'cancelled') return { outcome: 'cancelled' };
  if (result.stoppedBy === 'llm_unavailable') throw new UnavailableError('training stopped: the LLM was unavailable for too many batches', 60);

  const metrics: PromptMetrics = {
    trainNdcgPerEpoch: result.metrics.trainNdcgPerEpoch,
    valNdcgPerEpoch: result.metrics.valNdcgPerEpoch,
    baselineNdcg: result.metrics.baselineValNdcg,
    initialValNdcg: result.metrics.initialValNdcg,
    bestValNdcg: result.bestValNdcg,
    bestEpoch: result.bestEpoch,
    llmCalls: result.metrics.llmCalls,
    tokens: result.metrics.tokens,
    stoppedBy: result.stoppedBy,
    acceptedEdits: result.acceptedEdits.length,
    trainUsers: result.split.train,
    validationUsers: result.split.validation,
    jobId: ctx.jobId,
  };
  const version: PromptVersion = {
    domain: data.domain,
    version: name,
    text: result.prompt,
    parentVersion: data.start.version,
    createdAt: new Date((deps.clock ?? systemClock).now()).toISOString(),
    historyLength: result.params.historyLength,
    params: { ...result.params },
    metrics,
  };
  await traced('training.save_version', { 'agp.prompt_version': name }, () => deps.registry.put(version));
  await ctx.artifacts?.saveReport(result, version);
  return finish(version, data, deps);
}
