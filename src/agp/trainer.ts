/**
 * The AGP training loop (paper §2.4 plus the authors' acceptance rule): shuffled batches of training
 * users, one summarise + one edit per batch, verification, per-epoch validation with best-prompt
 * selection, early stopping, budgets, cancellation, tracing, and a checkpoint after every batch so a
 * killed run resumes exactly where it stopped.
 */
import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import { withTextSanitiser, type PipelineOptions } from './pipeline.js';
import type { Clock, LlmClient, Logger } from './ports.js';
import { silentLogger, systemClock } from './ports.js';
import type { UserRecord } from './dataset.js';
import { splitUsers } from './dataset.js';
import { evaluateMethods } from './evaluate.js';
import { createRng } from './rng.js';
import type { TraceSink, TracingLlm } from './trace.js';
import { createTracingLlm } from './trace.js';
import type { CheckpointStore, StopReason, TrainingCheckpoint } from './checkpoint.js';
import { emptyCounters, fingerprintOf, tallyDecisions } from './checkpoint.js';
import { LLM_ROLES } from './types.js';
import type { TrainingParams, TrainingParamsInput } from './training-params.js';
import { resolveTrainingParams } from './training-params.js';
import type { StepEnv } from './trainer-steps.js';
import { BudgetExceededError, createMeteredLlm } from './trainer-steps.js';
import { runEpochBatch } from './trainer-batch.js';
import type { TrainingResult } from './trainer-result.js';
import { buildResult } from './trainer-result.js';
import { traced } from './tracing.js';

export type { TrainingResult } from './trainer-result.js';
export type { CheckpointStore, TrainingCheckpoint } from './checkpoint.js';

/** Progress report, emitted at every phase change and after every batch. */
export interface TrainingProgress {
  epoch: number;
  /** Batches of `epoch` completed. */
  batch: number;
  totalBatches: number;
  llmCalls: number;
  tokens: number;
  /** Null until enough work has been timed. */
  etaSeconds: number | null;
  phase: 'initial-validation' | 'batch' | 'validation' | 'done';
}

/** What to train on. */
export interface TrainInput {
  users: UserRecord[];
  /** Explicit validation users; else `valFraction`/`valUsers` of `users` are held out. */
  validation?: UserRecord[] | undefined;
  /** The prompt to start from (e.g. BUILTIN_PROFILE_PROMPT or the active version's text). */
  initialPrompt: string;
  params?: TrainingParamsInput | undefined;
  pipeline: PipelineOptions;
}

/** Collaborators of a run. */
export interface TrainDeps {
  llm: LlmClient;
  checkpoints?: CheckpointStore | undefined;
  /** Receives every LLM call (CLI: trace.jsonl). */
  traceSink?: TraceSink | undefined;
  onProgress?: ((p: TrainingProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
}

/** The run cannot proceed (bad split, foreign checkpoint). */
export class TrainingError extends Error {
  override readonly name = 'TrainingError';
}

/**
 * Trains a profile-generation prompt. Resumes from `deps.checkpoints` when it holds a checkpoint of the
 * same run. Returns the prompt that scored best on validation (the initial prompt included), not the last.
 * Budget exhaustion and cancellation end the run cleanly (a checkpoint is saved); other errors propagate
 * and leave the last checkpoint in place.
 */
export async function train(input: TrainInput, deps: TrainDeps): Promise<TrainingResult> {
  const params = resolveTrainingParams(input.params ?? {});
  const clock = deps.clock ?? systemClock;
  const log = deps.logger ?? silentLogger;
  const split = splitUsers(input.users, { ...params, validation: input.validation });
  if (split.train.length === 0) throw new TrainingError('no training users after the validation hold-out');
  if (split.validation.length === 0) throw new TrainingError('no validation users');
  const byId = new Map(split.train.map((u) => [u.userId, u]));
  const fingerprint = fingerprintOf({
    p: [params.batchSize, params.historyLength, params.trainUsers, params.verifySteps, params.seed, params.reasons, params.models ?? null],
    train: split.train.map((u) => u.userId),
    val: split.validation.map((u) => u.userId),
    prompt: input.initialPrompt,
  });

  const loaded = (await deps.checkpoints?.load()) ?? null;
  const resumedFrom = loaded ? { epoch: loaded.epoch, batch: loaded.batch } : null;
  if (loaded && loaded.fingerprint !== fingerprint) {
    throw new TrainingError('the checkpoint belongs to a different run (data, seed, initial prompt or batch parameters differ)');
  }
  const meter = { counters: loaded ? structuredClone(loaded.counters) : emptyCounters(), phase: 'validate' as 'train' | 'validate' };
  const tracer: TracingLlm | undefined = deps.traceSink ? createTracingLlm(deps.llm, deps.traceSink, loaded?.traceSeq ?? 0) : undefined;
  const llm = createMeteredLlm(tracer ?? deps.llm, meter, params);
  const inner = new AbortController();
  // Every LLM call in flight (and every call queued for a concurrency slot) listens on this signal and
  // removes its listener when it settles: up to 2 × concurrency at once is expected, not a leak, so raise
  // Node's warning threshold (10) above that instead of printing MaxListenersExceededWarning.
  setMaxListeners(2 * params.concurrency + 10, inner.signal);
  const onAbort = () => inner.abort(deps.signal?.reason);
  if (deps.signal?.aborted) onAbort();
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  const pipeline: PipelineOptions = withTextSanitiser({ ...input.pipeline, models: { ...input.pipeline.models, ...params.models } });
  const env: StepEnv = { llm, pipeline, params, clock, signal: inner.signal, limit: pLimit(params.concurrency) };
  const rng = createRng(`${params.seed}:epochs`);
  const trainIds = split.train.map((u) => u.userId);
  const totalBatches = Math.ceil(trainIds.length / params.batchSize);
  const started = clock.now();
  let unitsDone = 0;
  const unitsPerBatch = (n: number) => n * (1 + params.verifySteps);

  const progress = (s: Pick<TrainingCheckpoint, 'epoch' | 'batch'>, phase: TrainingProgress['phase']) => {
    const remainingEpochs = params.epochs - s.epoch;
    const remaining =
      unitsPerBatch(Math.max(0, trainIds.length - s.batch * params.batchSize)) +
      remainingEpochs * (unitsPerBatch(trainIds.length) + split.validation.length) +
      (phase === 'done' ? 0 : split.validation.length);
    const rate = unitsDone > 0 ? (clock.now() - started) / 1000 / unitsDone : null;
    const done = phase === 'done';
    deps.onProgress?.({
      epoch: done ? Math.max(0, Math.min(s.epoch - 1, params.epochs)) : s.epoch,
      batch: done ? totalBatches : s.batch,
      totalBatches,
      llmCalls: meter.counters.llmCalls,
      tokens: meter.counters.promptTokens + meter.counters.completionTokens,
      etaSeconds: done ? 0 : rate === null ? null : Math.round(rate * remaining),
      phase,
    });
  };
  const validate = async (prompt: string, withBase: boolean) => {
    meter.phase = 'validate';
    const r = await evaluateMethods(split.validation, withBase ? ['base', 'agp'] : ['agp'], {
      llm,
      pipeline,
      promptText: prompt,
      historyLength: params.historyLength,
      concurrency: params.concurrency,
      seed: params.seed,
      userTimeoutMs: params.userTimeoutMs,
      clock,
      signal: inner.signal,
      bootstrapIterations: 1, // only means are used here
      keepPerUser: false,
    });
    meter.phase = 'train';
    unitsDone += split.validation.length;
    const agp = r.methods.agp;
    return { ndcg: agp?.aggregate['ndcg@10'].mean ?? 0, failures: agp?.failures ?? 0, base: r.methods.base?.aggregate['ndcg@10'].mean ?? 0 };
  };

  let state: TrainingCheckpoint | null = loaded;
  const save = async () => {
    if (!state) return;
    state.counters = structuredClone(meter.counters);
    state.savedAt = new Date(clock.now()).toISOString();
    await deps.checkpoints?.save(state);
  };
  const finish = (stoppedBy: StopReason) =>
    buildResult({ state, initialPrompt: input.initialPrompt, params, split, counters: meter.counters, stoppedBy, resumedFrom });

  try {
    if (!state) {
      progress({ epoch: 0, batch: 0 }, 'initial-validation');
      const v0 = await traced('training.initial_validation', { 'agp.training.users': split.validation.length }, () => validate(input.initialPrompt, true));
      const order = rng.shuffle(trainIds);
      state = {
        version: 1,
        fingerprint,
        prompt: input.initialPrompt,
        bestPrompt: input.initialPrompt,
        bestValNdcg: v0.ndcg,
        bestEpoch: 0,
        epoch: 1,
        batch: 0,
        epochOrder: order,
        rngState: rng.getState(),
        epochAcc: { ndcgSum: 0, ndcgCount: 0, droppedUsers: 0, countersAtStart: structuredClone(meter.counters) },
        metrics: { trainNdcgPerEpoch: [], valNdcgPerEpoch: [], initialValNdcg: v0.ndcg, baselineValNdcg: v0.base },
        epochs: [],
        counters: meter.counters,
        acceptedEdits: [],
        batches: [],
        sinceImprovement: 0,
        traceSeq: tracer?.seq ?? 0,
        deadBatches: 0,
        finished: null,
        savedAt: '',
      };
      await save();
      log.info({ initialValNdcg: v0.ndcg, baselineValNdcg: v0.base }, 'training: initial validation done');
    }
    // A run that finished its epochs can be extended by resuming with more epochs; other stops are final.
    if (state.finished && !(state.finished.stoppedBy === 'epochs' && state.epoch <= params.epochs)) {
      return finish(state.finished.stoppedBy);
    }
    state.finished = null;
    rng.setState(state.rngState);
    meter.phase = 'train';

    while (state.epoch <= params.epochs) {
      while (state.batch < totalBatches) {
        inner.signal.throwIfAborted();
        progress(state, 'batch');
        const ids = state.epochOrder.slice(state.batch * params.batchSize, (state.batch + 1) * params.batchSize);
        const users = ids.map((id) => byId.get(id) as UserRecord);
        const s = state;
        const outcome = await traced('training.batch', { 'agp.training.epoch': s.epoch, 'agp.training.batch': s.batch, 'agp.training.users': users.length }, () => runEpochBatch(env, s, users));
        unitsDone += unitsPerBatch(users.length);
        state.traceSeq = tracer?.seq ?? 0;
        await save();
        if (outcome.dead && state.deadBatches >= params.maxDeadBatches) return finish('llm_unavailable');
      }
      progress(state, 'validation');
      const prompt = state.prompt;
      const v = await traced('training.validation', { 'agp.training.epoch': state.epoch, 'agp.training.users': split.validation.length }, async (span) => {
        const r = await validate(prompt, false);
        span.setAttribute('agp.training.val_ndcg', r.ndcg);
        return r;
      });
      const stop = closeEpoch(state, { ...v, allFailed: v.failures === split.validation.length }, params, meter.counters, rng.shuffle.bind(rng), trainIds);
      state.rngState = rng.getState();
      state.traceSeq = tracer?.seq ?? 0;
      if (stop) state.finished = { stoppedBy: stop };
      await save();
      log.info({ epoch: state.epoch - 1, valNdcg: v.ndcg, best: state.bestValNdcg }, 'training: epoch done');
      if (stop) break;
      if (v.failures === split.validation.length) return finish('llm_unavailable');
    }
    progress(state, 'done');
    return finish(state.finished?.stoppedBy ?? 'epochs');
  } catch (err) {
    const stoppedBy = inner.signal.aborted && !(err instanceof BudgetExceededError) ? 'cancelled' : err instanceof BudgetExceededError ? 'budget' : null;
    if (!stoppedBy) throw err;
    await save(); // the batch in progress is discarded; its calls stay counted
    log.info({ stoppedBy }, 'training stopped');
    return finish(stoppedBy);
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Ends an epoch: records train/val NDCG and the epoch's call counts, keeps the best prompt on validation,
 * and prepares the next epoch's order. Returns the stop reason, if any.
 */
function closeEpoch(
  s: TrainingCheckpoint,
  v: { ndcg: number; failures: number; allFailed: boolean },
  params: TrainingParams,
  counters: TrainingCheckpoint['counters'],
  shuffle: (xs: string[]) => string[],
  trainIds: string[],
): StopReason | null {
  const start = s.epochAcc.countersAtStart;
  const trainNdcg = s.epochAcc.ndcgCount > 0 ? s.epochAcc.ndcgSum / s.epochAcc.ndcgCount : 0;
  s.metrics.trainNdcgPerEpoch.push(trainNdcg);
  s.metrics.valNdcgPerEpoch.push(v.ndcg);
  s.epochs.push({
    epoch: s.epoch,
    trainNdcg,
    valNdcg: v.ndcg,
    valFailures: v.failures,
    llmCalls: counters.llmCalls - start.llmCalls,
    tokens: counters.promptTokens + counters.completionTokens - start.promptTokens - start.completionTokens,
    byRole: Object.fromEntries(LLM_ROLES.map((r) => [r, counters.trainByRole[r] - start.trainByRole[r]])) as TrainingCheckpoint['counters']['byRole'],
    byPhase: { train: counters.byPhase.train - start.byPhase.train, validate: counters.byPhase.validate - start.byPhase.validate },
    ...tallyDecisions(s.batches.filter((b) => b.epoch === s.epoch)),
    droppedUsers: s.epochAcc.droppedUsers,
  });
  // A validation in which every LLM call failed scored the baseline order: it says nothing about the prompt.
  if (!v.allFailed && v.ndcg > s.bestValNdcg) {
    s.bestValNdcg = v.ndcg;
    s.bestPrompt = s.prompt;
    s.bestEpoch = s.epoch;
    s.sinceImprovement = 0;
  } else s.sinceImprovement += 1;
  const finishedEpoch = s.epoch;
  s.epoch += 1;
  s.batch = 0;
  s.epochOrder = shuffle(trainIds);
  s.epochAcc = { ndcgSum: 0, ndcgCount: 0, droppedUsers: 0, countersAtStart: structuredClone(counters) };
  if (params.patience > 0 && s.sinceImprovement >= params.patience) return 'patience';
  if (finishedEpoch >= params.epochs) return 'epochs';
  return null;
}
