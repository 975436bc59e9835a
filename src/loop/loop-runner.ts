/**
 * The loop's step machine (issue 11). A run moves dataset → train → gate → canary → decide → done; every
 * call of {@link advanceRun} performs the next piece of work, stores the run (compare-and-set) and appends
 * the audit records, and answers when to call again. The caller (the BullMQ loop worker) holds no state: the
 * stored run says where it is, so a worker that crashed is replaced by any other and the run goes on.
 *
 * Side effects are named by the runId and checked before they are made (loop-steps.ts), so a resumed run
 * never trains twice or starts a second canary. Audit records are written before the run that follows them
 * is stored: a crash in between repeats a record (at least once), never loses one.
 */
import { silentLogger } from '../agp/ports.js';
import type { LoopRun, Schedule } from './ports.js';
import type { Advance, LoopRunnerDeps } from './loop-run-kit.js';
import { audit, endRun, finishEnding, fnv1a, gone, isTransient, messageOf } from './loop-run-kit.js';
import { canaryStep, datasetStep, decideStep, gateStep, trainStep } from './loop-steps.js';

export type { Advance, LoopDatasetBuild, LoopDatasetSplit, LoopEvaluation, LoopRunnerDeps, LoopTrainingJobs } from './loop-run-kit.js';
export { canaryIdOf, trainingJobIdOf } from './loop-run-kit.js';
export { CANDIDATE_ARM, CONTROL_ARM } from './loop-steps.js';

/** What a new run is made from. */
export interface NewRun {
  runId: string;
  domain: string;
  trigger: LoopRun['trigger'];
  /** The schedule as it is now (the run keeps this copy). */
  schedule: Schedule;
  /** The domain's active version now: the warm start, the gate's and the canary's control. */
  baseVersion: string;
  now: number;
}

/** A run record at its first step. */
export function newRunRecord(n: NewRun): LoopRun {
  return { runId: n.runId, domain: n.domain, trigger: n.trigger, startedAt: n.now, updatedAt: n.now, step: 'dataset', baseVersion: n.baseVersion, schedule: n.schedule };
}

/**
 * The runId of a scheduled firing, shaped like a manual run's (runtime/loop-admin.ts newRunId: UTC time to
 * the second, 8 hex digits) but derived from the domain and the firing's time instead of random: a
 * re-delivered firing gets the same runId, two domains firing at once get different ones (the training
 * job and canary ids derive from it), and it has no ':' (BullMQ refuses one in a custom job id).
 */
export function scheduledRunId(domain: string, firesAt: number): string {
  const at = Math.max(0, Math.floor(firesAt));
  const stamp = new Date(at).toISOString().replace(/[-:]/g, '').slice(0, 15);
  return `${stamp}-${fnv1a(`${domain}\n${at}`).toString(16).padStart(8, '0')}`;
}


/** What starting a run found: the run to advance, or null with why nothing starts. */
export type RunStart = { run: LoopRun; skipped?: undefined } | { run: null; skipped: string };

/**
 * Starts `run` (or finds it started): a pinned domain or a paused schedule starts nothing, and a domain whose
 * current run is another one in progress neither (audit `skipped` in each case); the same runId again resolves
 * the stored run, so a re-delivered firing continues its run instead of beginning a second.
 */
export async function startRun(deps: LoopRunnerDeps, run: LoopRun): Promise<RunStart> {
  const stored = await deps.store.getRun(run.domain, run.runId);
  if (stored) return { run: stored };
  const pin = await deps.store.getPin(run.domain);
  if (pin) return skip(deps, run, `the domain is pinned to ${pin.version}`, { pin });
  if (run.trigger === 'schedule' && run.schedule.paused) return skip(deps, run, 'the schedule is paused', {});
  const other = await deps.store.beginRun(run);
  if (other && other.runId !== run.runId) return skip(deps, run, `run ${other.runId} is still in progress (step ${other.step})`, { currentRunId: other.runId });
  if (other) return { run: other };
  await audit(deps, run, 'run_started', `run started (${run.trigger}) from ${run.baseVersion}`, {
    trigger: run.trigger,
    baseVersion: run.baseVersion,
    windowMs: run.schedule.windowMs,
    gate: run.schedule.gate,
    rollout: run.schedule.rollout,
  });
  return { run };
}

async function skip(deps: LoopRunnerDeps, run: LoopRun, why: string, data: Record<string, unknown>): Promise<RunStart> {
  await audit(deps, run, 'skipped', `${run.trigger} run not started: ${why}`, { trigger: run.trigger, ...data });
  return { run: null, skipped: why };
}

/**
 * Performs the next step of `run` and stores the result. `waitMs` null: the run is done; 0: call again now;
 * more: call again after that long (training running, canary undecided, a dependency unavailable).
 * Errors other than an unavailable dependency propagate (the worker retries, then {@link abandonRun}).
 */
export async function advanceRun(deps: LoopRunnerDeps, given: LoopRun): Promise<Advance> {
  if (given.step === 'done') return { run: given, waitMs: null };
  try {
    // The stored run is the truth: a person may have cancelled it since the caller read it.
    const run = await deps.store.getRun(given.domain, given.runId);
    if (!run || run.step === 'done') return { run: run ?? given, waitMs: null };
    if (run.outcome) return await finishEnding(deps, run);
    switch (run.step) {
      case 'dataset':
        return await datasetStep(deps, run);
      case 'train':
        return await trainStep(deps, run);
      case 'gate':
        return await gateStep(deps, run);
      case 'canary':
        return await canaryStep(deps, run);
      case 'decide':
        return await decideStep(deps, run);
    }
  } catch (err) {
    if (!isTransient(err)) throw err;
    (deps.logger ?? silentLogger).warn({ domain: given.domain, runId: given.runId, step: given.step, err: messageOf(err) }, 'loop run: a dependency is unavailable; trying again later');
    return { run: given, waitMs: deps.pollMs };
  }
}

/**
 * Ends a run that cannot go on (its step kept failing): outcome `failed`, its canary stopped. Resolves the
 * stored run; a run already done is left as it is.
 */
export async function abandonRun(deps: LoopRunnerDeps, run: LoopRun, why: string): Promise<LoopRun> {
  const stored = await deps.store.getRun(run.domain, run.runId);
  if (!stored || stored.step === 'done') return stored ?? run;
  if (stored.outcome) return (await finishEnding(deps, stored)).run;
  const ended = await endRun(deps, stored, 'failed', why, { step: stored.step });
  return ended.run.step === 'done' ? ended.run : (await gone(deps, stored)).run;
}
