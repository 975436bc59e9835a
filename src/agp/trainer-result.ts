/**
 * The result of a training run, derived from its final state, with the LLM call counts set against the
 * paper's formula (7).
 */
import type { AcceptedEdit, BatchLog, EpochSummary, StopReason, TrainingCheckpoint, TrainingCounters } from './checkpoint.js';
import type { Split } from './dataset.js';
import type { TrainingParams } from './training-params.js';
import { paperCallsPerEpoch } from './training-params.js';

/** What `train` returns. */
export interface TrainingResult {
  /** completed: ran to its end (epochs, patience); stopped: budget or LLM unavailable; cancelled: by the signal. */
  state: 'completed' | 'stopped' | 'cancelled';
  stoppedBy: StopReason;
  /** The best prompt on validation (the initial prompt when nothing beat it). */
  prompt: string;
  /** The prompt after the last accepted edit. */
  lastPrompt: string;
  /** 0 = the initial prompt. */
  bestEpoch: number;
  bestValNdcg: number;
  metrics: {
    trainNdcgPerEpoch: number[];
    valNdcgPerEpoch: number[];
    /** Validation NDCG@10 of the initial prompt. */
    initialValNdcg: number;
    /** Validation NDCG@10 of the baseline recommender's own order. */
    baselineValNdcg: number;
    llmCalls: number;
    tokens: number;
  };
  epochs: EpochSummary[];
  acceptedEdits: AcceptedEdit[];
  batches: BatchLog[];
  counters: TrainingCounters;
  /** Formula (7) for this run's batches vs. what was measured. */
  callFormula: {
    /** (3·|b| + 2) summed over the batches: the authors' method without verification. */
    paperPerEpoch: number;
    /** Calls spent on training batches per completed epoch (validation excluded). */
    measuredTrainPerEpoch: number[];
    /** Validation calls per completed epoch. */
    measuredValidationPerEpoch: number[];
  };
  split: { train: number; validation: number };
  params: TrainingParams;
  /** Where a resumed run picked up, or null for a fresh run. */
  resumedFrom: { epoch: number; batch: number } | null;
}

/** Assembles the result. `state` is null only when the run stopped during the initial validation. */
export function buildResult(a: {
  state: TrainingCheckpoint | null;
  initialPrompt: string;
  params: TrainingParams;
  split: Split;
  counters: TrainingCounters;
  stoppedBy: StopReason;
  resumedFrom: { epoch: number; batch: number } | null;
}): TrainingResult {
  const s = a.state;
  const state = a.stoppedBy === 'cancelled' ? 'cancelled' : a.stoppedBy === 'epochs' || a.stoppedBy === 'patience' ? 'completed' : 'stopped';
  const epochs = s?.epochs ?? [];
  return {
    state,
    stoppedBy: a.stoppedBy,
    prompt: s?.bestPrompt ?? a.initialPrompt,
    lastPrompt: s?.prompt ?? a.initialPrompt,
    bestEpoch: s?.bestEpoch ?? 0,
    bestValNdcg: s?.bestValNdcg ?? 0,
    metrics: {
      trainNdcgPerEpoch: s?.metrics.trainNdcgPerEpoch ?? [],
      valNdcgPerEpoch: s?.metrics.valNdcgPerEpoch ?? [],
      initialValNdcg: s?.metrics.initialValNdcg ?? 0,
      baselineValNdcg: s?.metrics.baselineValNdcg ?? 0,
      llmCalls: a.counters.llmCalls,
      tokens: a.counters.promptTokens + a.counters.completionTokens,
    },
    epochs,
    acceptedEdits: s?.acceptedEdits ?? [],
    batches: s?.batches ?? [],
    counters: structuredClone(a.counters),
    callFormula: {
      paperPerEpoch: paperCallsPerEpoch(a.split.train.length, a.params.batchSize),
      measuredTrainPerEpoch: epochs.map((e) => e.byPhase.train),
      measuredValidationPerEpoch: epochs.map((e) => e.byPhase.validate),
    },
    split: { train: a.split.train.length, validation: a.split.validation.length },
    params: a.params,
    resumedFrom: a.resumedFrom,
  };
}
