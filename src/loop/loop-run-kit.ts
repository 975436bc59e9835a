/**
 * What the loop's step machine (loop-runner.ts, loop-steps.ts) is built from, and the three things every
 * step does the same way: persist the run (compare-and-set), write an audit record, and end the run.
 *
 * Ending is two writes around the side effects: the outcome is stored first (the run still has its step),
 * then the canary is stopped or promoted, the audit records are written, and only then is the step `done`.
 * A worker that dies in between finds a run with an outcome and finishes the ending; stopping an experiment
 * that is already stopped is harmless, so the ending is idempotent.
 */
import type { Clock, Logger, PromptRegistry } from '../agp/ports.js';
import { silentLogger } from '../agp/ports.js';
import { isDomainError } from '../errors.js';
import type { ExperimentAdmin } from '../experiments/experiment-admin.js';
import { auditRecordId } from './audit-writer.js';
import type { AuditKind, AuditRecord, LoopRun, LoopStore, RunOutcome } from './ports.js';

/** A dataset built for a run's window (the file is named after the runId, so a rebuild overwrites it). */
export interface LoopDatasetBuild {
  /** Relative to TRAINING_DATA_DIR (or absolute inside it). */
  path: string;
  rows: number;
  users: number;
  skipped: Record<string, number>;
}

/** The dataset split by user into the training part and the held-out part of the gate. */
export interface LoopDatasetSplit {
  trainPath: string;
  holdoutPath: string;
  trainRows: number;
  holdoutRows: number;
  trainUsers: number;
  holdoutUsers: number;
}

/** One prompt evaluated on the held-out users: NDCG@10 per user (the real user id), and what it cost. */
export interface LoopEvaluation {
  perUser: ReadonlyMap<string, number>;
  llmCalls: number;
}

/** The slice of TrainingJobs (src/jobs/training-jobs.ts) a run uses, typed here so src/loop stays pure. */
export interface LoopTrainingJobs {
  submit(req: { domain: string; dataset: { path: string }; params: Record<string, unknown>; activate: 'never'; jobId: string }): Promise<{ jobId: string }>;
  get(jobId: string): Promise<{
    state: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
    result?: { promptVersion: string; metrics: Record<string, unknown> } | undefined;
    error?: string | undefined;
  } | null>;
  cancel(jobId: string): Promise<boolean>;
}

/** Everything a run touches. */
export interface LoopRunnerDeps {
  store: LoopStore;
  clock: Clock;
  datasets: { build(req: { domain: string; since: number; until: number; runId: string }): Promise<LoopDatasetBuild> };
  /** Splits a built dataset by real user (salt: the runId, so a resumed run splits alike). */
  split(path: string, opts: { share: number; salt: string }): Promise<LoopDatasetSplit>;
  training: LoopTrainingJobs;
  /** Evaluates a profile prompt (method agp) on the held-out file; the same users every call. */
  evaluate(promptText: string, historyLength: number, holdoutPath: string): Promise<LoopEvaluation>;
  experiments: Pick<ExperimentAdmin, 'create' | 'results' | 'stop' | 'promote'>;
  registry: Pick<PromptRegistry, 'get' | 'resolve'>;
  /** How often a training job is looked at (LOOP_POLL_MS). */
  pollMs: number;
  /** How often the canary is read when its schedule does not say (LOOP_DECISION_INTERVAL_MS). */
  decisionIntervalMs: number;
  logger?: Logger | undefined;
  /** After every audit record (Prometheus: metrics.loop.audit, which also counts `run_ended` by outcome). */
  onAudit?: ((record: AuditRecord) => void) | undefined;
  /** After a run reached `done`. */
  onRunEnded?: ((outcome: RunOutcome) => void) | undefined;
}

/** What advancing a run answers: the run as stored, and when to advance it again (null: it is done). */
export interface Advance {
  run: LoopRun;
  waitMs: number | null;
}

/** Per-process sequence of the audit ids this runner writes (see auditRecordId). */
let auditSeq = 0;

/** Appends one `loop` audit record of the run. */
export async function audit(deps: LoopRunnerDeps, run: LoopRun, kind: AuditKind, message: string, data: Record<string, unknown> = {}): Promise<void> {
  const at = deps.clock.now();
  const record: AuditRecord = { id: auditRecordId(at, auditSeq++), at, domain: run.domain, kind, runId: run.runId, actor: 'loop', message, data };
  await deps.store.appendAudit(record);
  try {
    deps.onAudit?.(record);
  } catch {
    // Metrics never fail a step that already happened.
  }
}

/**
 * Stores `run` with `patch` applied. Null when the stored run is no longer this one in progress (a person
 * cancelled it, or it ended elsewhere): the caller stops and undoes what its step started.
 */
export async function save(deps: LoopRunnerDeps, run: LoopRun, patch: Partial<LoopRun>): Promise<LoopRun | null> {
  const next: LoopRun = { ...run, ...patch, updatedAt: deps.clock.now() };
  return (await deps.store.updateRun(next)) ? next : null;
}

/** The answer for a run that ended elsewhere: the stored run (or ours when it is gone), nothing more to do. */
export async function gone(deps: LoopRunnerDeps, run: LoopRun): Promise<Advance> {
  const stored = await deps.store.getRun(run.domain, run.runId);
  return { run: stored ?? run, waitMs: null };
}

/** The canary experiment's id of a run: fixed by the runId, so a resumed run finds the one it created. */
export function canaryIdOf(run: Pick<LoopRun, 'runId'>): string {
  return `canary-${run.runId}`;
}

/** The training job's id of a run. */
export function trainingJobIdOf(run: Pick<LoopRun, 'runId'>): string {
  return `loop-${run.runId}`;
}

/** 32-bit FNV-1a of a string's UTF-16 code units (stable seeds and ids from a runId). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Human-readable duration: "7d", "6h", "30m", "90s", "250ms". */
export function formatDuration(ms: number): string {
  const units = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const;
  const exact = units.find(([, size]) => ms >= size && ms % size === 0);
  if (exact) return `${ms / exact[1]}${exact[0]}`;
  const largest = units.find(([, size]) => ms >= size);
  return largest ? `${(ms / largest[1]).toFixed(1)}${largest[0]}` : `${ms}ms`;
}

/** True for an error another try may not meet (a store or the queue down, rate limited). */
export function isTransient(err: unknown): boolean {
  return isDomainError(err) && (err.kind === 'unavailable' || err.kind === 'rate_limited');
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Ends a run: stores the outcome, then finishes the ending (see the file comment). */
export async function endRun(deps: LoopRunnerDeps, run: LoopRun, outcome: RunOutcome, reason: string, data: Record<string, unknown> = {}): Promise<Advance> {
  const marked = await save(deps, run, { outcome, reason, finishedAt: deps.clock.now() });
  if (!marked) return gone(deps, run);
  return finishEnding(deps, marked, data);
}

/** The audit record of an ending's side effect, when it has one. */
const ENDING_KIND: Partial<Record<RunOutcome, AuditKind>> = { promoted: 'promoted', rolled_back: 'rolled_back' };

/**
 * Finishes the ending of a run whose outcome is stored: promotes or stops the canary (if the run has one),
 * writes the audit records, marks the run done.
 */
export async function finishEnding(deps: LoopRunnerDeps, run: LoopRun, data: Record<string, unknown> = {}): Promise<Advance> {
  const log = deps.logger ?? silentLogger;
  let ending = run;
  if (run.outcome === 'promoted') {
    const promoted = await ensurePromoted(deps, run);
    if (!promoted) {
      const changed = await save(deps, run, { outcome: 'cancelled', reason: 'the canary was stopped by a person before the loop could promote it' });
      if (!changed) return gone(deps, run);
      ending = changed;
    }
  } else if (run.step === 'canary' || run.step === 'decide') {
    await ensureStopped(deps, run, `loop run ${run.runId}: ${run.reason ?? run.outcome ?? 'ended'}`);
  } else if (run.step === 'train' && run.trainingJobId) {
    // A run abandoned while its job trains: the version would have no run to gate it (false when it is over).
    await deps.training.cancel(run.trainingJobId).catch(() => false);
  }
  const outcome = ending.outcome ?? 'failed';
  const kind = ENDING_KIND[outcome];
  const numbers = { outcome, baseVersion: ending.baseVersion, candidateVersion: ending.candidateVersion ?? null, experimentId: ending.experimentId ?? null, ...data };
  if (kind && ending.experimentId) await audit(deps, ending, kind, ending.reason ?? outcome, numbers);
  await audit(deps, ending, 'run_ended', `run ended ${outcome}: ${ending.reason ?? ''}`.trim(), numbers);
  const done = await save(deps, ending, { step: 'done' });
  if (!done) return gone(deps, ending);
  deps.onRunEnded?.(outcome);
  log.info({ domain: done.domain, runId: done.runId, outcome }, 'loop run ended');
  return { run: done, waitMs: null };
}

/** Promotes the canary's candidate arm; false when the experiment was stopped otherwise first. */
async function ensurePromoted(deps: LoopRunnerDeps, run: LoopRun): Promise<boolean> {
  const id = run.experimentId ?? canaryIdOf(run);
  const current = await deps.experiments.results(id);
  if (current.state === 'running') {
    try {
      await deps.experiments.promote(id, 'candidate');
      return true;
    } catch (err) {
      // Stopped between the read and the promote: judged from the stored record below.
      if (!(isDomainError(err) && err.kind === 'conflict')) throw err;
    }
  }
  const after = current.state === 'running' ? await deps.experiments.results(id) : current;
  return after.stopReason?.kind === 'promoted' && after.stopReason.arm === 'candidate';
}

/** Stops the run's canary if it exists and still runs (a stopped or never created one is fine). */
export async function ensureStopped(deps: LoopRunnerDeps, run: LoopRun, message: string): Promise<void> {
  try {
    await deps.experiments.stop(run.experimentId ?? canaryIdOf(run), { message });
  } catch (err) {
    // not_found: never created; conflict: no longer running.
    if (!(isDomainError(err) && (err.kind === 'not_found' || err.kind === 'conflict'))) throw err;
  }
}
