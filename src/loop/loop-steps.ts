/**
 * The five working steps of a loop run (loop-runner.ts dispatches to them). Each begins by finding out
 * whether its side effect already happened, by the name the runId gives it (the dataset file, the training
 * job `loop-<runId>`, the canary `canary-<runId>`): a run resumed after a crash redoes only what was lost.
 */
import { isDomainError, ErrorCodes } from '../errors.js';
import type { ExperimentWithResults } from '../experiments/experiment-admin.js';
import { gateVerdict } from './offline-gate.js';
import type { GateResult, LoopRun } from './ports.js';
import type { Advance, LoopRunnerDeps } from './loop-run-kit.js';
import { audit, canaryIdOf, endRun, ensureStopped, fnv1a, formatDuration, gone, isTransient, messageOf, save, trainingJobIdOf } from './loop-run-kit.js';

/** The arm names of a canary (the candidate arm is the one promoted). */
export const CONTROL_ARM = 'control';
export const CANDIDATE_ARM = 'candidate';

/** Step `dataset`: builds the window's dataset and splits off the gate's held-out users. */
export async function datasetStep(deps: LoopRunnerDeps, run: LoopRun): Promise<Advance> {
  const until = run.startedAt;
  const since = until - run.schedule.windowMs;
  const built = await deps.datasets.build({ domain: run.domain, since, until, runId: run.runId });
  const window = { since: new Date(since).toISOString(), until: new Date(until).toISOString() };
  if (built.rows === 0) {
    return endRun(deps, run, 'no_data', `no exposure with a positive event in the last ${formatDuration(run.schedule.windowMs)}`, { ...window, rows: 0, skipped: built.skipped });
  }
  const { gate } = run.schedule;
  const split = await deps.split(built.path, { share: gate.holdoutShare, salt: run.runId });
  const numbers = { ...window, path: built.path, rows: built.rows, users: built.users, skipped: built.skipped, ...split, holdoutShare: gate.holdoutShare };
  if (split.holdoutUsers < gate.minHoldoutUsers) {
    return endRun(deps, run, 'no_data', `${split.holdoutUsers} held-out users, fewer than gate.minHoldoutUsers (${gate.minHoldoutUsers})`, numbers);
  }
  if (split.trainRows === 0) return endRun(deps, run, 'no_data', 'no training rows left after the hold-out', numbers);
  await audit(deps, run, 'dataset_built', `dataset built: ${built.rows} rows of ${built.users} users; ${split.holdoutUsers} users held out for the gate`, numbers);
  const dataset = { path: split.trainPath, holdoutPath: split.holdoutPath, rows: built.rows, users: built.users, holdoutUsers: split.holdoutUsers, skipped: built.skipped };
  const next = await save(deps, run, { step: 'train', dataset });
  return next ? { run: next, waitMs: 0 } : gone(deps, run);
}

/** Step `train`: submits the one training job of the run (idempotent by its id) and waits for it. */
export async function trainStep(deps: LoopRunnerDeps, run: LoopRun): Promise<Advance> {
  if (!run.dataset) return endRun(deps, run, 'failed', 'the run reached training without a dataset');
  const jobId = run.trainingJobId ?? trainingJobIdOf(run);
  let current = run;
  if (!run.trainingJobId) {
    try {
      // activate 'never': the loop decides on promotion, through the gate and the canary.
      await deps.training.submit({ domain: run.domain, dataset: { path: run.dataset.path }, params: run.schedule.params, activate: 'never', jobId });
    } catch (err) {
      if (isTransient(err)) return { run, waitMs: deps.pollMs };
      if (isDomainError(err) && err.kind === 'invalid_input') return endRun(deps, run, 'failed', `the training job was refused: ${err.message}`, { jobId });
      throw err;
    }
    const next = await save(deps, run, { trainingJobId: jobId });
    if (!next) {
      // Cancelled while submitting: the job has no run to report to.
      await deps.training.cancel(jobId).catch(() => false);
      return gone(deps, run);
    }
    current = next;
  }
  const job = await deps.training.get(jobId);
  if (!job) return endRun(deps, current, 'failed', `training job ${jobId} is gone (its record expired, or the process that ran it restarted)`, { jobId });
  switch (job.state) {
    case 'queued':
    case 'running':
      return { run: current, waitMs: deps.pollMs };
    case 'failed':
      return endRun(deps, current, 'failed', `training failed: ${job.error ?? 'unknown error'}`, { jobId });
    case 'cancelled':
      return endRun(deps, current, 'cancelled', `training job ${jobId} was cancelled`, { jobId });
    case 'completed':
      break;
  }
  const version = job.result?.promptVersion;
  if (!version) return endRun(deps, current, 'failed', `training job ${jobId} completed without a version`, { jobId });
  const m = job.result?.metrics ?? {};
  await audit(deps, current, 'trained', `trained ${version} from ${run.baseVersion}`, {
    jobId,
    version,
    parentVersion: run.baseVersion,
    dataset: run.dataset.path,
    ...pick(m, ['bestValNdcg', 'initialValNdcg', 'baselineNdcg', 'bestEpoch', 'llmCalls', 'tokens', 'stoppedBy', 'acceptedEdits', 'trainUsers', 'validationUsers']),
  });
  const next = await save(deps, current, { step: 'gate', candidateVersion: version });
  return next ? { run: next, waitMs: 0 } : gone(deps, current);
}

/** Step `gate`: both prompts on the same held-out users, a paired bootstrap on their per-user NDCG@10. */
export async function gateStep(deps: LoopRunnerDeps, run: LoopRun): Promise<Advance> {
  const { dataset, candidateVersion } = run;
  if (!dataset || !candidateVersion) return endRun(deps, run, 'failed', 'the run reached the gate without a dataset or a candidate');
  const candidate = await deps.registry.get(run.domain, candidateVersion);
  if (!candidate) return endRun(deps, run, 'failed', `the candidate version ${candidateVersion} no longer exists`);
  const base = await promptOf(deps, run.domain, run.baseVersion);
  if (!base) return endRun(deps, run, 'failed', `the base version ${run.baseVersion} no longer exists`);
  // One after the other: each evaluation already uses the configured LLM concurrency.
  const active = await deps.evaluate(base.text, base.historyLength, dataset.holdoutPath);
  const trained = await deps.evaluate(candidate.text, candidate.historyLength, dataset.holdoutPath);
  // Paired: the same users in the same order (an evaluation scores every user, so the sets agree).
  const users = [...active.perUser.keys()].filter((u) => trained.perUser.has(u)).sort();
  const a = users.map((u) => active.perUser.get(u) ?? 0);
  const c = users.map((u) => trained.perUser.get(u) ?? 0);
  const { gate: spec } = run.schedule;
  const gate: GateResult = { ...gateVerdict(a, c, spec, seedOf(run.runId)), llmCalls: active.llmCalls + trained.llmCalls };
  const gated = { ...run, gate };
  const line = `NDCG@10 ${fmt(gate.candidateNdcg)} vs ${fmt(gate.activeNdcg)} (diff ${fmt(gate.diff)}, 95% CI [${fmt(gate.ci95[0])}, ${fmt(gate.ci95[1])}], minDelta ${spec.minDelta}) on ${gate.users} held-out users`;
  const numbers = { ...gate, candidateVersion, baseVersion: run.baseVersion, holdoutPath: dataset.holdoutPath };
  await audit(deps, gated, 'gated', `offline gate ${gate.passed ? 'passed' : 'not passed'}: ${line}`, numbers);
  if (!gate.passed) return endRun(deps, gated, 'not_better', `the candidate is not better: ${line}`, numbers);
  await audit(deps, gated, 'candidate_registered', `${candidateVersion} is the candidate (parent ${candidate.parentVersion ?? run.baseVersion})`, {
    version: candidateVersion,
    parentVersion: candidate.parentVersion,
    dataset: dataset.path,
    jobId: run.trainingJobId ?? null,
    gate,
  });
  const next = await save(deps, run, { step: 'canary', gate });
  return next ? { run: next, waitMs: 0 } : gone(deps, run);
}

/** Step `canary`: starts the `ab` experiment (idempotent by its id), or waits for the domain's running one. */
export async function canaryStep(deps: LoopRunnerDeps, run: LoopRun): Promise<Advance> {
  const pin = await deps.store.getPin(run.domain);
  if (pin) return endRun(deps, run, 'pinned', `the domain is pinned to ${pin.version} (${pin.reason || 'no reason given'}); no canary`, { pin });
  const candidate = run.candidateVersion;
  if (!candidate) return endRun(deps, run, 'failed', 'the run reached the canary without a candidate');
  const { rollout } = run.schedule;
  const interval = rollout.decisionIntervalMs ?? deps.decisionIntervalMs;
  // The control serves the base version; one that is not the domain's own (the default domain's, the
  // built-in) cannot be named in an arm, and then the control serves the active prompt, which is it.
  const control = (await deps.registry.get(run.domain, run.baseVersion)) ? run.baseVersion : undefined;
  let created;
  try {
    created = await deps.experiments.create({
      id: canaryIdOf(run),
      domain: run.domain,
      mode: 'ab',
      arms: [
        { name: CONTROL_ARM, method: 'agp', ...(control ? { promptVersion: control } : {}) },
        { name: CANDIDATE_ARM, method: 'agp', promptVersion: candidate },
      ],
      trafficShare: rollout.share,
      guardrails: rollout.guardrails,
    });
  } catch (err) {
    const code = isDomainError(err) ? err.code : undefined;
    if (code !== ErrorCodes.EXPERIMENT_RUNNING && code !== ErrorCodes.TOO_MANY_EXPERIMENTS) {
      if (isDomainError(err) && err.kind === 'invalid_input') return endRun(deps, run, 'failed', `the canary was refused: ${err.message}`);
      throw err;
    }
    return waitForCanary(deps, run, messageOf(err), interval);
  }
  const numbers = { experimentId: created.id, share: created.trafficShare, control: control ?? null, candidate, guardrails: created.guardrails, maxDurationMs: rollout.maxDurationMs };
  await audit(deps, run, 'canary_started', `canary ${created.id}: ${candidate} on ${pct(created.trafficShare)} of ${run.domain}'s users against ${control ?? 'the active prompt'}`, numbers);
  const next = await save(deps, run, { step: 'decide', experimentId: created.id, canaryStartedAt: created.createdAt });
  if (!next) {
    // Cancelled while starting: the canary must not outlive its run.
    await ensureStopped(deps, { ...run, experimentId: created.id }, `loop run ${run.runId} was cancelled`);
    return gone(deps, run);
  }
  return { run: next, waitMs: interval };
}

/** Another experiment runs on the domain: wait (audited once), at most rollout.maxDurationMs. */
async function waitForCanary(deps: LoopRunnerDeps, run: LoopRun, why: string, interval: number): Promise<Advance> {
  const now = deps.clock.now();
  const { maxDurationMs } = run.schedule.rollout;
  if (run.canaryWaitingSince === undefined) {
    await audit(deps, run, 'skipped', `canary postponed: ${why}`, { waitingFor: 'experiment', maxWaitMs: maxDurationMs });
    const next = await save(deps, run, { canaryWaitingSince: now });
    return next ? { run: next, waitMs: interval } : gone(deps, run);
  }
  if (now >= run.canaryWaitingSince + maxDurationMs) {
    return endRun(deps, run, 'cancelled', `the canary could not start within ${formatDuration(maxDurationMs)}: ${why}`);
  }
  return { run, waitMs: Math.min(interval, run.canaryWaitingSince + maxDurationMs - now) };
}

/** Step `decide`: reads the canary; promotes, rolls back, or looks again after the decision interval. */
export async function decideStep(deps: LoopRunnerDeps, run: LoopRun): Promise<Advance> {
  const id = run.experimentId ?? canaryIdOf(run);
  let res: ExperimentWithResults;
  try {
    res = await deps.experiments.results(id);
  } catch (err) {
    if (isDomainError(err) && err.kind === 'not_found') return endRun(deps, run, 'failed', `the canary experiment ${id} is gone`);
    throw err;
  }
  if (res.state !== 'running') return stoppedElsewhere(deps, run, res);
  const cmp = res.comparison;
  const numbers = {
    experimentId: id,
    decision: cmp?.decision ?? 'inconclusive',
    pValue: cmp?.pValue ?? null,
    diff: cmp && 'diff' in cmp ? cmp.diff : null,
    ci95: cmp?.ci95 ?? null,
    arms: res.arms.map((a) => ({ name: a.name, users: a.users, exposures: a.exposures, ndcg: a.metrics['ndcg@10'].value, fallbackRate: a.fallbackRate })),
  };
  const breach = res.guardrailBreaches[0];
  if (breach) return endRun(deps, run, 'rolled_back', `guardrail: ${breach.reason}`, { ...numbers, breach });
  const p = cmp ? ` (p = ${Number(cmp.pValue.toPrecision(2))})` : '';
  if (cmp?.decision === 'treatment') {
    const pin = await deps.store.getPin(run.domain);
    if (pin) return endRun(deps, run, 'pinned', `the canary won${p} but the domain is pinned to ${pin.version}; not promoted`, { ...numbers, pin });
    return endRun(deps, run, 'promoted', `canary: the always-valid decision says treatment${p}`, numbers);
  }
  if (cmp?.decision === 'control') return endRun(deps, run, 'rolled_back', `canary: the always-valid decision says control${p}`, numbers);
  const deadline = (run.canaryStartedAt ?? run.startedAt) + run.schedule.rollout.maxDurationMs;
  const now = deps.clock.now();
  if (now >= deadline) return endRun(deps, run, 'rolled_back', `no decision after ${formatDuration(run.schedule.rollout.maxDurationMs)}`, numbers);
  return { run, waitMs: Math.min(run.schedule.rollout.decisionIntervalMs ?? deps.decisionIntervalMs, deadline - now) };
}

/** The canary was stopped by someone else: a guardrail (the look), a person, or a person's promotion. */
function stoppedElsewhere(deps: LoopRunnerDeps, run: LoopRun, res: ExperimentWithResults): Promise<Advance> {
  const r = res.stopReason;
  const numbers = { experimentId: res.id, stopReason: r };
  if (r?.kind === 'guardrail') return endRun(deps, run, 'rolled_back', `guardrail: ${r.message}`, numbers);
  if (r?.kind === 'promoted') {
    return r.arm === CANDIDATE_ARM
      ? endRun(deps, run, 'promoted', `a person promoted the candidate: ${r.message}`, numbers)
      : endRun(deps, run, 'rolled_back', `a person promoted arm "${r.arm ?? '?'}": ${r.message}`, numbers);
  }
  return endRun(deps, run, 'cancelled', `the canary was stopped by a person: ${r?.message ?? 'no reason recorded'}`, numbers);
}

/** A version's text: the registry's, or the active prompt when it is the (default or built-in) base. */
async function promptOf(deps: LoopRunnerDeps, domain: string, version: string): Promise<{ text: string; historyLength: number } | null> {
  const stored = await deps.registry.get(domain, version);
  if (stored) return stored;
  const active = deps.registry.resolve(domain);
  return active.version === version ? active : null;
}

/** A bootstrap seed from the runId (FNV-1a), so a resumed gate draws the same resamples. */
export function seedOf(runId: string): number {
  return fnv1a(runId);
}

function pick(m: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => m[k] !== undefined).map((k) => [k, m[k]]));
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : String(x));
const pct = (share: number): string => `${Math.round(share * 1000) / 10}%`;
