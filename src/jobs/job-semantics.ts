/**
 * The rules both training-job engines (in-process and BullMQ) follow, in one place so they cannot drift:
 *
 * - error classification: every failure has a domain kind (src/errors.ts); the trainer's own errors are
 *   given one here, and anything unrecognised is treated as `unavailable` (a crash, a Redis blip);
 * - retry: only `unavailable` and `rate_limited` failures are retried, and only while attempts are left;
 * - cancel: a job can be cancelled until it is final; the abort reason tells a user's cancel from a
 *   shutdown or a lost domain lock, and a cancelled run is never retried;
 * - admission: at most TRAINING_MAX_QUEUED jobs are unfinished (queued or running); a submit beyond that
 *   is `unavailable`, with a Retry-After.
 */
import { DatasetError } from '../agp/dataset.js';
import { TrainingError } from '../agp/trainer.js';
import { TrainingParamsError } from '../agp/training-params.js';
import { isDomainError, unavailable } from '../errors.js';
import type { UnavailableError } from '../errors.js';
import type { ErrorKind } from '../errors.js';
import type { JobState } from './training-jobs.js';

/** Abort reason: the user cancelled the job. */
export class CancelRequested extends Error {
  override readonly name = 'CancelRequested';
}
/** Abort reason: this process is shutting down (the job may resume elsewhere). */
export class ShuttingDown extends Error {
  override readonly name = 'ShuttingDown';
}
/** Abort reason: another attempt took the job's domain lock (BullMQ only; the other attempt owns the job). */
export class LockLost extends Error {
  override readonly name = 'LockLost';
}

/** States a job never leaves. */
export const FINAL_STATES: ReadonlySet<JobState> = new Set<JobState>(['completed', 'failed', 'cancelled']);

/** True while a cancel can still take effect (queued or running); cancel() answers false otherwise. */
export function isCancellable(state: JobState): boolean {
  return !FINAL_STATES.has(state);
}

/** The error kind of a job failure. */
export function failureKindOf(err: unknown): ErrorKind {
  if (isDomainError(err)) return err.kind;
  if (err instanceof DatasetError || err instanceof TrainingParamsError) return 'invalid_input';
  // A checkpoint of another run, an impossible split: the same data fails the same way again.
  if (err instanceof TrainingError) return 'permanent';
  // LLM faults (LlmCallError) and anything unrecognised: the next attempt may find things working again.
  return 'unavailable';
}

/** True when the same job may succeed on another attempt. */
export function isRetryable(err: unknown): boolean {
  const kind = failureKindOf(err);
  return kind === 'unavailable' || kind === 'rate_limited';
}

/** Unfinished jobs (all domains together) when the engine is given no limit; TRAINING_MAX_QUEUED's default. */
export const QUEUE_LIMIT_DEFAULT = 20;

/** The Retry-After of a refused submit: a job takes minutes, so a slot frees when one ends. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 30;

/**
 * The error of a submit that finds `max` jobs unfinished. Each holds its request (inline users included)
 * until it ends, so an unbounded queue was unbounded memory (600 queued jobs were accepted).
 */
export function queueFull(max: number): UnavailableError {
  return unavailable(`the training queue is full (${max} jobs queued or running); retry later`, QUEUE_FULL_RETRY_AFTER_SECONDS);
}

/** Attempts per job and the base of the exponential backoff between them, the same in both engines. */
export const JOB_RETRY_DEFAULTS = Object.freeze({ attempts: 3, backoffMs: 10_000 });

/** The wait after failed attempt number `attempt` (1-based): `baseMs`·2^(attempt−1), as BullMQ's `exponential`. */
export function retryDelayMs(attempt: number, baseMs: number = JOB_RETRY_DEFAULTS.backoffMs): number {
  return Math.round(baseMs * 2 ** Math.max(0, attempt - 1));
}

/** Resolves after `ms`, or at once when `signal` fires (never rejects). */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Why a run's signal fired. */
export type StopReason = 'cancelled' | 'shutdown' | 'lock_lost';

/** How an aborted run is to be read: a user's cancel, a shutdown, or a lost domain lock. */
export function stopReasonOf(signal: AbortSignal): StopReason {
  const reason: unknown = signal.reason;
  if (reason instanceof LockLost) return 'lock_lost';
  if (reason instanceof ShuttingDown) return 'shutdown';
  return 'cancelled';
}

/** What a runner does after an attempt threw. */
export type AttemptVerdict =
  | { action: 'stopped'; reason: StopReason }
  | { action: 'retry'; message: string }
  | { action: 'fail'; message: string; kind: ErrorKind };

/**
 * Judges a failed attempt: an aborted run stopped (whatever it threw on the way out); otherwise a
 * retryable failure with attempts left is retried and anything else fails the job.
 */
export function judgeFailedAttempt(err: unknown, signal: AbortSignal, attempt: number, maxAttempts: number): AttemptVerdict {
  if (signal.aborted) return { action: 'stopped', reason: stopReasonOf(signal) };
  const message = err instanceof Error ? err.message : String(err);
  if (isRetryable(err) && attempt < maxAttempts) return { action: 'retry', message };
  return { action: 'fail', message, kind: failureKindOf(err) };
}

/** The `error` a job shows when a shutdown interrupted it and it cannot resume (in-process engine). */
export const INTERRUPTED_MESSAGE = 'interrupted: the service shut down';
