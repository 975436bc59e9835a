/**
 * LLM calls one scheduled loop run costs at the default settings (issue 11's bench), per dataset size U.
 *
 * A run (docs/loop.md) = build the dataset (no LLM) → hold out a share of its users for the gate (GateSpec
 * default holdoutShare 0.2) → train on the rest with the schedule's params (here: the trainer's defaults,
 * src/agp/training-params.ts: 10 epochs, batch 10, trainUsers 100, valFraction 0.2 of the training file,
 * verifySteps 1, patience 3), warm-started from the active prompt → the offline gate: the active and the
 * candidate prompt evaluated with method `agp` (profile + rank per user) on the held-out users
 * (src/agp/evaluate.ts evaluateMethods) → canary. The canary's LLM calls are serving traffic (every request
 * is served by one arm or the other, one rerank call each plus a profile call on a cache miss; profiles are
 * cached per prompt version, so the candidate arm regenerates its users' profiles once): they scale with
 * traffic, not with the run, and are not counted here.
 *
 * Users: U taste-world users (testkit/taste-world.ts), one dataset row each; LLM: the double
 * (testkit/llm-double.ts, which answers in the taste world) through the real OpenAI client as the worker
 * builds it. Calls are counted at the double (every HTTP request, retries included) and checked against the
 * trainer's and the evaluation's own counters. Two runs per U:
 *   - first:  the active prompt is the built-in one (asks about genre and era only): training finds edits;
 *   - steady: the active prompt is the one the first run trained (the next run after a promotion): every
 *             edit is already in, so the run is the cheap "nothing to learn" case.
 *
 *   npm run bench:loop-run-cost -- [--users 100,500,1000] [--out bench/results/loop-run-cost.json]
 *   npm run bench -- --only loop-run-cost
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { UserRecord } from '../src/agp/dataset.js';
import { evaluateMethods } from '../src/agp/evaluate.js';
import { BUILTIN_ACTIVE_PROMPT } from '../src/agp/prompts.js';
import { train } from '../src/agp/trainer.js';
import { resolveTrainingParams } from '../src/agp/training-params.js';
import { loadConfig, pipelineOptions } from '../src/config.js';
import { createLlmFromConfig } from '../src/runtime/llm.js';
import { startLlmDouble, type LlmDouble } from '../testkit/llm-double.js';
import { CLK_TCK } from '../testkit/processes.js';
import { tasteWorldUsers } from '../testkit/taste-world.js';
import { machineInfo, sourceInfo } from './lib/machine.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** GateSpec defaults (docs/loop.md): the held-out share of the dataset's users. */
const HOLDOUT_SHARE = 0.2;
const ROLES = ['profile', 'rerank', 'reason', 'summarise', 'edit'] as const;

const { values: o } = parseArgs({
  options: { users: { type: 'string', default: '100,500,1000' }, seeds: { type: 'string', default: '1,2,3' }, out: { type: 'string', default: join(repoRoot, 'bench', 'results', 'loop-run-cost.json') } },
  strict: true,
});
const sizes = o.users.split(',').map(Number);
if (sizes.some((u) => !Number.isInteger(u) || u < 20)) throw new Error(`--users: integers ≥ 20, got ${o.users}`);
const seeds = o.seeds.split(',').map(Number);
if (seeds.some((x) => !Number.isInteger(x))) throw new Error(`--seeds: integers, got ${o.seeds}`);

/** A stable split by a hash of the user id, like the loop's holdout split (never a function of order). */
const heldOut = (userId: string) => createHash('sha256').update(`loop-holdout\0${userId}`).digest().readUInt32BE(0) / 2 ** 32 < HOLDOUT_SHARE;

/** Calls the double received since `from`, by role. */
function rolesSince(double: LlmDouble, from: number): Record<(typeof ROLES)[number] | 'total', number> {
  const out = { profile: 0, rerank: 0, reason: 0, summarise: 0, edit: 0, total: double.calls.length - from };
  for (const c of double.calls.slice(from)) {
    if (c.role === 'unknown') throw new Error(`an LLM request no prompt builder makes: ${c.messages.at(-1)?.content.slice(0, 120) ?? ''}`);
    out[c.role] += 1;
  }
  return out;
}

interface Phase {
  calls: number;
  byRole: Record<string, number>;
}
interface RunCost {
  users: number;
  seed: number;
  start: 'first' | 'steady';
  split: { trainFile: number; holdout: number; trainerTrain: number; trainerValidation: number };
  phases: { trainBatches: Phase; trainValidation: Phase; gateActive: Phase; gateCandidate: Phase };
  total: number;
  training: { epochs: number; stoppedBy: string; acceptedEdits: number; decisions: Record<string, number>; initialValNdcg: number; bestValNdcg: number };
  gate: { activeNdcg: number; candidateNdcg: number };
  candidatePrompt: string;
  wallSeconds: number;
}

async function runOnce(double: LlmDouble, users: UserRecord[], seed: number, active: { text: string; historyLength: number }, start: RunCost['start']): Promise<RunCost> {
  const config = loadConfig({ LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-bench', LLM_MODEL: 'double-model', LOG_LEVEL: 'silent' });
  const llm = createLlmFromConfig(config, { use: 'training' });
  const pipeline = pipelineOptions(config);
  const holdout = users.filter((u) => heldOut(u.userId));
  const trainFile = users.filter((u) => !heldOut(u.userId));
  const t0 = performance.now();
  try {
    // The training job: the schedule's params are the defaults; TRAINING_CONCURRENCY (default 20) fills `concurrency`.
    const params = resolveTrainingParams({ concurrency: config.training.concurrency });
    const c0 = double.calls.length;
    const result = await train({ users: trainFile, initialPrompt: active.text, params, pipeline }, { llm });
    const trainCalls = rolesSince(double, c0);
    if (result.counters.llmCalls !== trainCalls.total) throw new Error(`the trainer counted ${result.counters.llmCalls} calls, the double saw ${trainCalls.total}`);
    const batchRoles = { ...result.counters.byRole, profile: 0, rerank: 0 };
    const valCalls = result.counters.byPhase.validate;
    // Validation is profile + rank per user; the rest of the profile/rerank calls are the batches'.
    batchRoles.profile = trainCalls.profile - valCalls / 2;
    batchRoles.rerank = trainCalls.rerank - valCalls / 2;

    const gate = async (text: string, historyLength: number) => {
      const g0 = double.calls.length;
      const r = await evaluateMethods(holdout, ['agp'], { llm, pipeline, promptText: text, historyLength, concurrency: params.concurrency, keepPerUser: false, bootstrapIterations: 1 });
      const seen = rolesSince(double, g0);
      if (r.usage.llmCalls !== seen.total) throw new Error(`the evaluation counted ${r.usage.llmCalls} calls, the double saw ${seen.total}`);
      return { phase: { calls: seen.total, byRole: { profile: seen.profile, rerank: seen.rerank } }, ndcg: r.methods.agp?.aggregate['ndcg@10'].mean ?? 0 };
    };
    const gActive = await gate(active.text, active.historyLength);
    const gCandidate = await gate(result.prompt, result.params.historyLength);
    const decisions: Record<string, number> = {};
    for (const b of result.batches) decisions[b.decision] = (decisions[b.decision] ?? 0) + 1;
    const phases = {
      trainBatches: { calls: result.counters.byPhase.train, byRole: Object.fromEntries(ROLES.map((r) => [r, batchRoles[r] ?? 0])) },
      trainValidation: { calls: valCalls, byRole: { profile: valCalls / 2, rerank: valCalls / 2 } },
      gateActive: gActive.phase,
      gateCandidate: gCandidate.phase,
    };
    return {
      users: users.length,
      seed,
      start,
      split: { trainFile: trainFile.length, holdout: holdout.length, trainerTrain: result.split.train, trainerValidation: result.split.validation },
      phases,
      total: Object.values(phases).reduce((n, p) => n + p.calls, 0),
      training: {
        epochs: result.epochs.length,
        stoppedBy: result.stoppedBy,
        acceptedEdits: result.acceptedEdits.length,
        decisions,
        initialValNdcg: +result.metrics.initialValNdcg.toFixed(4),
        bestValNdcg: +result.bestValNdcg.toFixed(4),
      },
      gate: { activeNdcg: +gActive.ndcg.toFixed(4), candidateNdcg: +gCandidate.ndcg.toFixed(4) },
      candidatePrompt: result.prompt,
      wallSeconds: +((performance.now() - t0) / 1000).toFixed(1),
    };
  } finally {
    await llm.close();
  }
}

/** Least-squares line through (x, y): y ≈ a·x + b. */
function fit(points: Array<[number, number]>): { a: number; b: number } {
  const n = points.length;
  const mx = points.reduce((t, [x]) => t + x, 0) / n;
  const my = points.reduce((t, [, y]) => t + y, 0) / n;
  const sxx = points.reduce((t, [x]) => t + (x - mx) ** 2, 0);
  const a = sxx === 0 ? 0 : points.reduce((t, [x, y]) => t + (x - mx) * (y - my), 0) / sxx;
  return { a: +a.toFixed(3), b: Math.round(my - a * mx) };
}
const mean = (xs: number[]) => xs.reduce((t, x) => t + x, 0) / Math.max(1, xs.length);

const double = await startLlmDouble({ latency: 0 });
const runs: RunCost[] = [];
try {
  for (const u of sizes) {
    for (const seed of seeds) {
      const users = tasteWorldUsers(u, { seed });
      const first = await runOnce(double, users, seed, BUILTIN_ACTIVE_PROMPT, 'first');
      const steady = await runOnce(double, users, seed, { text: first.candidatePrompt, historyLength: resolveTrainingParams({}).historyLength }, 'steady');
      for (const r of [first, steady]) process.stderr.write(`[loop-run-cost] U=${u} seed ${seed} ${r.start}: ${r.total} calls (${r.training.epochs} epochs, ${r.training.stoppedBy}) in ${r.wallSeconds} s\n`);
      runs.push(first, steady);
      double.calls.length = 0;
    }
  }
} finally {
  await double.close();
}

const phaseNames = ['trainBatches', 'trainValidation', 'gateActive', 'gateCandidate'] as const;
const defaults = resolveTrainingParams({});
/**
 * calls ≈ a·U + b. The trainer's validation (2 calls × its hold-out, 0.2 of the training file, per pass; one
 * pass per epoch plus the initial one) and the gate (2 prompts × 2 calls × the held-out users) grow with U:
 * `a` is their calls per user. The training batches do not once the training file holds trainUsers (100)
 * users: `b` is their mean. Both from the runs at or above that size; a least-squares line through the
 * totals of the same runs is given too.
 */
const formulas = Object.fromEntries(
  (['first', 'steady'] as const).map((start) => {
    const rs = runs.filter((r) => r.start === start);
    const saturated = rs.filter((r) => r.split.trainerTrain >= defaults.trainUsers);
    const basis = saturated.length > 0 ? saturated : rs;
    const perUser = basis.map((r) => (r.total - r.phases.trainBatches.calls) / r.users);
    const fixed = basis.map((r) => r.phases.trainBatches.calls);
    return [
      start,
      {
        a: +mean(perUser).toFixed(2),
        b: Math.round(mean(fixed)),
        aRange: [Math.min(...perUser), Math.max(...perUser)].map((x) => +x.toFixed(2)),
        bRange: [Math.min(...fixed), Math.max(...fixed)],
        epochs: [...new Set(basis.map((r) => r.training.epochs))],
        fittedOn: [...new Set(basis.map((r) => r.users))],
        leastSquaresOnTotals: fit(basis.map((r) => [r.users, r.total])),
        meanTotalByU: Object.fromEntries(sizes.map((u) => [u, Math.round(mean(rs.filter((r) => r.users === u).map((r) => r.total)))])),
        meanByPhaseByU: Object.fromEntries(sizes.map((u) => [u, Object.fromEntries(phaseNames.map((p) => [p, Math.round(mean(rs.filter((r) => r.users === u).map((r) => r.phases[p].calls)))]))])),
      },
    ];
  }),
);
// The same model at the most epochs the defaults allow (no early stop): every validation pass, every batch
// summarising, editing and verifying (2 calls per user, 2 per batch + 2 per user again).
const passes = defaults.epochs + 1;
const batchesPerEpoch = Math.ceil(defaults.trainUsers / defaults.batchSize);
const upperBound = {
  a: +(2 * 0.2 * (1 - HOLDOUT_SHARE) * passes + 2 * 2 * HOLDOUT_SHARE).toFixed(2),
  b: defaults.epochs * (2 * defaults.trainUsers + batchesPerEpoch * (2 + 2 * defaults.batchSize)),
  note: `${defaults.epochs} epochs (no early stop), every batch edits and verifies once (verifySteps ${defaults.verifySteps}); U ≥ ${Math.ceil(defaults.trainUsers / 0.64)}`,
};
const doc = {
  command: `npm run bench:loop-run-cost -- ${process.argv.slice(2).join(' ')}`.replace(/ -- $/, ''),
  finishedAt: new Date().toISOString(),
  machine: machineInfo(CLK_TCK),
  source: sourceInfo(repoRoot),
  settings: { trainingParams: resolveTrainingParams({}), holdoutShare: HOLDOUT_SHARE, gateMethod: 'agp (profile + rank per held-out user), active and candidate', llm: 'testkit/llm-double.ts, taste world, 0 ms' },
  notCounted: 'The canary: its calls are serving traffic (one rerank per request in either arm, plus a profile call per user on a cache miss under the candidate version), proportional to traffic and rollout.share, not to U.',
  formulas,
  upperBound,
  runs: runs.map(({ candidatePrompt, ...r }) => ({ ...r, candidatePromptChars: candidatePrompt.length })),
};
await mkdir(dirname(o.out), { recursive: true });
await writeFile(o.out, `${JSON.stringify(doc, null, 2)}\n`);
const row = (r: RunCost) => `| ${r.users} | ${r.seed} | ${r.start} | ${phaseNames.map((p) => r.phases[p].calls).join(' | ')} | **${r.total}** | ${r.training.epochs} (${r.training.stoppedBy}) |`;
process.stdout.write(
  `| U | seed | start | train batches | train validation | gate: active | gate: candidate | total | epochs |\n|---:|---:|---|---:|---:|---:|---:|---:|---|\n${runs.map(row).join('\n')}\n\n` +
    Object.entries(formulas)
      .map(([k, f]) => `${k} run: calls ≈ ${f.a}·U + ${f.b} (a ${f.aRange.join('–')}, b ${f.bRange.join('–')}, ${f.epochs.join('/')} epochs; from U = ${f.fittedOn.join(', ')})`)
      .join('\n') +
    `\nupper bound (defaults, no early stop): calls ≈ ${upperBound.a}·U + ${upperBound.b}` +
    `\nRaw: ${o.out}\n`,
);
