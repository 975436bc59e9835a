/**
 * Training checkpoints: everything needed to resume a run exactly where it stopped (same prompt, same
 * shuffles, same counters), saved after every batch and every validation. The store is a port: the CLI
 * writes a file (temp + rename), the job queue keeps it in Redis, tests keep it in memory.
 */
import { createHash } from 'node:crypto';
import type { LlmRole } from './types.js';

/** LLM accounting of a run, by role and by phase. */
export interface TrainingCounters {
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
  /** Calls that failed with an LlmCallError (included in llmCalls). */
  failedCalls: number;
  byRole: Record<LlmRole, number>;
  /** Calls made while training on batches vs. while evaluating validation users. */
  byPhase: { train: number; validate: number };
  /** `byRole` restricted to the training phase (validation makes profile and rerank calls only). */
  trainByRole: Record<LlmRole, number>;
}

const zeroRoles = (): Record<LlmRole, number> => ({ profile: 0, rerank: 0, summarise: 0, edit: 0, reason: 0 });

/** A fresh zeroed counter set. */
export function emptyCounters(): TrainingCounters {
  return {
    llmCalls: 0,
    promptTokens: 0,
    completionTokens: 0,
    failedCalls: 0,
    byRole: zeroRoles(),
    byPhase: { train: 0, validate: 0 },
    trainByRole: zeroRoles(),
  };
}

/** An edit that passed the acceptance rule and became the current prompt. */
export interface AcceptedEdit {
  epoch: number;
  batch: number;
  /** 1-based summarise/edit attempt within the batch. */
  attempt: number;
  instruction: string;
  before: string;
  after: string;
  meanRankBefore: number;
  /** Null when verification is off (verifySteps 0). */
  meanRankAfter: number | null;
}

/** What happened to one batch. */
export type BatchDecision =
  | 'accepted'
  | 'rejected'
  | 'skipped_all_first'
  | 'skipped_no_users'
  | 'edit_unusable'
  | 'optimizer_failed';

/** The log line of one batch. */
export interface BatchLog {
  epoch: number;
  batch: number;
  users: number;
  /** Users dropped because an LLM call failed. */
  dropped: number;
  meanRank: number;
  /** Users whose ground truth was not ranked first. */
  notFirst: number;
  decision: BatchDecision;
  attempts: number;
  /** Mean rank with the last candidate edit (verification), when one was verified. */
  meanRankAfter?: number | undefined;
  note?: string | undefined;
}

/** Per-epoch figures. */
export interface EpochSummary {
  epoch: number;
  /** Mean NDCG@10 of the epoch's training users, each ranked with the prompt current at its batch. */
  trainNdcg: number;
  valNdcg: number;
  /** Validation users whose LLM calls failed (scored with the baseline order). */
  valFailures: number;
  llmCalls: number;
  tokens: number;
  /** Training calls of the epoch by role (validation calls are in `byPhase.validate` only). */
  byRole: Record<LlmRole, number>;
  byPhase: { train: number; validate: number };
  /** Batch decisions of the epoch, tallied by `tallyDecisions`. */
  accepted: number;
  /** Edits that verification rejected. */
  rejected: number;
  /** Batches whose edit was unusable or whose optimiser calls failed: nothing was verified. */
  unusable: number;
  skipped: number;
  droppedUsers: number;
}

/** Batch decisions counted in the groups every report shows. */
export interface DecisionTally {
  accepted: number;
  /** Rejected by verification (the edit did not lower the mean rank). */
  rejected: number;
  /** `edit_unusable` plus `optimizer_failed`: no edit to verify. */
  unusable: number;
  /** Skipped: every user already ranked first, or every user failed. */
  skipped: number;
}

/** The one tally of batch decisions, used by the epoch summaries and by every report table. */
export function tallyDecisions(batches: readonly Pick<BatchLog, 'decision'>[]): DecisionTally {
  const t: DecisionTally = { accepted: 0, rejected: 0, unusable: 0, skipped: 0 };
  for (const b of batches) {
    if (b.decision === 'accepted') t.accepted += 1;
    else if (b.decision === 'rejected') t.rejected += 1;
    else if (b.decision === 'edit_unusable' || b.decision === 'optimizer_failed') t.unusable += 1;
    else t.skipped += 1;
  }
  return t;
}

/** Why a run stopped. */
export type StopReason = 'epochs' | 'patience' | 'budget' | 'cancelled' | 'llm_unavailable';

/** The full resumable state of a training run. */
export interface TrainingCheckpoint {
  version: 1;
  /** Identifies the run (data split, initial prompt, shape-defining params); a mismatch refuses to resume. */
  fingerprint: string;
  prompt: string;
  bestPrompt: string;
  bestValNdcg: number;
  /** 0 = the initial prompt. */
  bestEpoch: number;
  /** 1-based epoch in progress. */
  epoch: number;
  /** Batches of `epoch` already completed; equal to the batch count when only validation remains. */
  batch: number;
  /** Training user ids in this epoch's (shuffled) order. */
  epochOrder: string[];
  /** RNG state after this epoch's shuffle. */
  rngState: number;
  /** Running sums of the epoch in progress. */
  epochAcc: { ndcgSum: number; ndcgCount: number; droppedUsers: number; countersAtStart: TrainingCounters };
  metrics: { trainNdcgPerEpoch: number[]; valNdcgPerEpoch: number[]; initialValNdcg: number; baselineValNdcg: number };
  epochs: EpochSummary[];
  counters: TrainingCounters;
  acceptedEdits: AcceptedEdit[];
  batches: BatchLog[];
  /** Epochs since the best validation score last improved. */
  sinceImprovement: number;
  /** Trace sequence number at the last batch boundary (a resumed run continues from here). */
  traceSeq: number;
  /** Consecutive batches in which every user failed. */
  deadBatches: number;
  /** Set once the run ended for good (epochs, patience); a resumed finished run makes no calls. */
  finished: { stoppedBy: StopReason } | null;
  savedAt: string;
}

/** Where checkpoints live. `save` must be atomic: a crash mid-save leaves the previous checkpoint. */
export interface CheckpointStore {
  load(): Promise<TrainingCheckpoint | null>;
  save(c: TrainingCheckpoint): Promise<void>;
}

/** An in-memory store (tests, runs that need no resume). Saves are deep copies. */
export function createMemoryCheckpointStore(initial: TrainingCheckpoint | null = null): CheckpointStore & {
  readonly saves: number;
  readonly current: TrainingCheckpoint | null;
} {
  let current = initial ? structuredClone(initial) : null;
  let saves = 0;
  return {
    get saves() {
      return saves;
    },
    get current() {
      return current;
    },
    load: () => Promise.resolve(current ? structuredClone(current) : null),
    save(c) {
      current = structuredClone(c);
      saves += 1;
      return Promise.resolve();
    },
  };
}

/** Parses and sanity-checks a stored checkpoint (the shape is trusted beyond the basics). */
export function parseCheckpoint(text: string, source = '<checkpoint>'): TrainingCheckpoint {
  const c = JSON.parse(text) as Partial<TrainingCheckpoint>;
  if (c.version !== 1 || typeof c.prompt !== 'string' || typeof c.fingerprint !== 'string' || !Array.isArray(c.epochOrder)) {
    throw new Error(`${source}: not a version-1 training checkpoint`);
  }
  // Checkpoints written before training calls were counted by role start those counts at zero.
  if (c.counters && !c.counters.trainByRole) c.counters.trainByRole = zeroRoles();
  if (c.epochAcc?.countersAtStart && !c.epochAcc.countersAtStart.trainByRole) c.epochAcc.countersAtStart.trainByRole = zeroRoles();
  return c as TrainingCheckpoint;
}

/** sha256 (hex, 16 chars) of a JSON-serialisable value. */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
