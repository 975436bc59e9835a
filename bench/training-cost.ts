/**
 * Training cost bench: the REAL trainer (`train`, src/agp/trainer.ts) through the REAL openai-SDK LLM client
 * (createLlmFromConfig, as `agp worker` builds it) against the LLM double at a fixed latency, on synthetic
 * users (testkit/synthetic-world.ts, whose world the double answers as).
 *
 * The paper's setting: 100 training users, batch 10, 1 epoch, history 5, verifySteps 1, with reasons
 * `structured` and `llm`; 20 validation users. Two LLM behaviours bracket real runs:
 *   - no-gain:     no edit ever helps, so every batch runs summarise → edit → verify (the upper bound);
 *   - converging:  the first edits help, then every user ranks the target first and batches are skipped.
 *
 * Reported per run: LLM calls (by role, training vs validation), tokens, wall time; training calls vs
 * formula (7) (= 320 for 100 users in batches of 10); and wall time vs the CRITICAL PATH: the sequential
 * LLM steps × latency, where a batch is profile→rerank (2) [+ reason (1), reasons llm] [+ summarise +
 * edit + profile→rerank again (verify), per attempt], and each validation pass is profile→rerank (2).
 * The critical path assumes every user of a batch runs at once: it needs concurrency ≥ the batch size
 * (and ≥ the validation users for the validation passes); `--concurrency 8` shows the default's cost.
 *
 *   npx tsx bench/training-cost.ts [--latency 200] [--concurrency auto|N[,N…]] [--reasons structured,llm]
 *                                  [--scenarios no-gain,converging] [--out bench/results/training-cost.json]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ChatMessage } from '../src/agp/ports.js';
import { BUILTIN_ACTIVE_PROMPT } from '../src/agp/prompts.js';
import type { TrainingProgress, TrainingResult } from '../src/agp/trainer.js';
import { train } from '../src/agp/trainer.js';
import { paperCallsPerEpoch } from '../src/agp/training-params.js';
import type { LlmRole } from '../src/agp/types.js';
import { loadConfig, pipelineOptions } from '../src/config.js';
import { createLlmFromConfig } from '../src/runtime/llm.js';
import { knownRole, startLlmDouble } from '../testkit/llm-double.js';
import type { Policy } from '../testkit/synthetic-world.js';
import { keywordPolicy, makeUsers, worldAnswer } from '../testkit/synthetic-world.js';

const TRAIN_USERS = 100;
const VAL_USERS = 20;
const BATCH = 10;
const HISTORY = 5;
const VERIFY = 1;

type Reasons = 'structured' | 'llm';
type Scenario = 'no-gain' | 'converging';

const SCENARIOS: Record<Scenario, { policy: Policy; decoy: boolean; what: string }> = {
  'no-gain': { policy: () => 'Keep the profile short and concrete.', decoy: false, what: 'no edit ever helps: every batch runs summarise, edit and verification' },
  converging: { policy: keywordPolicy(), decoy: true, what: 'the first two edits help, then every user ranks the target first and batches are skipped' },
};


/** Sequential LLM steps of one batch, from its log line (the brief's formula, per batch). */
function batchSteps(b: TrainingResult['batches'][number], reasons: Reasons, verifySteps: number): number {
  if (b.decision === 'skipped_no_users') return 2;
  const reasonStep = reasons === 'llm' && b.notFirst > 0 ? 1 : 0;
  return 2 + reasonStep + b.attempts * (2 + (verifySteps > 0 ? 2 : 0));
}

/** The same steps when only `concurrency` users run at once: every user phase takes ⌈n / c⌉ waves. */
function boundedSteps(b: TrainingResult['batches'][number], reasons: Reasons, verifySteps: number, concurrency: number): number {
  if (b.decision === 'skipped_no_users') return 2 * Math.ceil(b.users / concurrency);
  const waves = Math.ceil(b.users / concurrency);
  const reasonStep = reasons === 'llm' && b.notFirst > 0 ? Math.ceil(b.notFirst / concurrency) : 0;
  return 2 * waves + reasonStep + b.attempts * (2 + (verifySteps > 0 ? 2 * waves : 0));
}

interface RunResult {
  reasons: Reasons;
  scenario: Scenario;
  concurrency: number;
  latencyMs: number;
  llmCalls: number;
  trainCalls: number;
  validationCalls: number;
  byRole: Record<LlmRole, number>;
  doubleCalls: number;
  formula7: number;
  promptTokens: number;
  completionTokens: number;
  wallMs: number;
  /** CPU of this process (trainer + SDK client + the in-process double) per LLM call. */
  cpuUsPerCall: number;
  phasesMs: { initialValidation: number; batches: number; finalValidation: number };
  criticalSteps: number;
  criticalPathMs: number;
  wallOverCritical: number;
  concurrencyBoundSteps: number;
  concurrencyBoundMs: number;
  decisions: Record<string, number>;
  acceptedEdits: number;
  valNdcg: { initial: number; best: number };
}

function machine() {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpuModel = m[1].trim();
  } catch {
    // keep os.cpus()
  }
  return { nproc: availableParallelism(), cpuModel, node: process.version, kernel: release(), loadAvgAtStart: loadavg().map((v) => Math.round(v * 100) / 100) };
}

async function runOne(reasons: Reasons, scenario: Scenario, concurrency: number, latencyMs: number): Promise<RunResult> {
  const { policy, decoy } = SCENARIOS[scenario];
  const answer = worldAnswer(policy);
  const double = await startLlmDouble({ latency: latencyMs });
  double.script((call) => answer({ role: knownRole(call), messages: call.messages as ChatMessage[] }));
  const config = loadConfig({ LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-bench', LLM_MODEL: 'double-model', LOG_LEVEL: 'silent' });
  // As `agp worker` builds it: training waits for an LLM slot instead of shedding.
  const llm = createLlmFromConfig(config, { use: 'training' });
  const users = makeUsers(TRAIN_USERS + VAL_USERS, { decoy });
  const marks: Array<{ phase: TrainingProgress['phase']; at: number }> = [];
  try {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const result = await train(
      {
        users,
        initialPrompt: BUILTIN_ACTIVE_PROMPT.text,
        params: { epochs: 1, batchSize: BATCH, historyLength: HISTORY, verifySteps: VERIFY, trainUsers: TRAIN_USERS, valUsers: VAL_USERS, reasons, concurrency, seed: 42 },
        pipeline: pipelineOptions(config),
      },
      { llm, onProgress: (p) => marks.push({ phase: p.phase, at: performance.now() }) },
    );
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (result.state !== 'completed') throw new Error(`run ended ${result.state} (${result.stoppedBy})`);
    const firstBatch = marks.find((m) => m.phase === 'batch')?.at ?? t0;
    const validation = marks.find((m) => m.phase === 'validation')?.at ?? t0;
    const done = marks.find((m) => m.phase === 'done')?.at ?? t0 + wallMs;
    const validationPasses = 1 + result.epochs.length; // initial + one per epoch
    const criticalSteps = result.batches.reduce((n, b) => n + batchSteps(b, reasons, VERIFY), 0) + 2 * validationPasses;
    const boundSteps =
      result.batches.reduce((n, b) => n + boundedSteps(b, reasons, VERIFY, concurrency), 0) + 2 * Math.ceil(VAL_USERS / concurrency) * validationPasses;
    const decisions: Record<string, number> = {};
    for (const b of result.batches) decisions[b.decision] = (decisions[b.decision] ?? 0) + 1;
    const c = result.counters;
    return {
      reasons,
      scenario,
      concurrency,
      latencyMs,
      llmCalls: c.llmCalls,
      trainCalls: c.byPhase.train,
      validationCalls: c.byPhase.validate,
      byRole: { ...c.byRole },
      doubleCalls: double.calls.length,
      formula7: paperCallsPerEpoch(TRAIN_USERS, BATCH),
      promptTokens: c.promptTokens,
      completionTokens: c.completionTokens,
      wallMs: Math.round(wallMs),
      cpuUsPerCall: Math.round((cpu.user + cpu.system) / Math.max(1, result.counters.llmCalls)),
      phasesMs: { initialValidation: Math.round(firstBatch - t0), batches: Math.round(validation - firstBatch), finalValidation: Math.round(done - validation) },
      criticalSteps,
      criticalPathMs: criticalSteps * latencyMs,
      wallOverCritical: wallMs / (criticalSteps * latencyMs),
      concurrencyBoundSteps: boundSteps,
      concurrencyBoundMs: boundSteps * latencyMs,
      decisions,
      acceptedEdits: result.acceptedEdits.length,
      valNdcg: { initial: result.metrics.initialValNdcg, best: result.bestValNdcg },
    };
  } finally {
    await llm.close();
    await double.close();
  }
}

const fmt = (n: number, d = 0) => n.toFixed(d);

function table(runs: RunResult[]): string {
  const head =
    '| reasons | LLM behaviour | concurrency | training calls | vs formula (7) | validation calls | profile / rerank / reason / summarise / edit | prompt tok | completion tok | wall s | critical path s (steps) | wall ÷ critical | bound at concurrency s | CPU µs/call | decisions |\n' +
    '|---|---|---:|---:|---|---:|---|---:|---:|---:|---|---:|---:|---:|---|';
  const rows = runs.map((r) => {
    const roles = (['profile', 'rerank', 'reason', 'summarise', 'edit'] as const).map((k) => r.byRole[k]).join(' / ');
    const dec = Object.entries(r.decisions).map(([k, v]) => `${k} ${v}`).join(', ');
    const vs = `${r.trainCalls - r.formula7 >= 0 ? '+' : ''}${r.trainCalls - r.formula7} (${fmt((r.trainCalls / r.formula7) * 100)} %)`;
    return `| ${r.reasons} | ${r.scenario} | ${r.concurrency} | ${r.trainCalls} | ${vs} | ${r.validationCalls} | ${roles} | ${r.promptTokens} | ${r.completionTokens} | ${fmt(r.wallMs / 1000, 1)} | ${fmt(r.criticalPathMs / 1000, 1)} (${r.criticalSteps}) | **${fmt(r.wallOverCritical, 2)}×** | ${fmt(r.concurrencyBoundMs / 1000, 1)} | ${r.cpuUsPerCall} | ${dec} |`;
  });
  return [head, ...rows].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      latency: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: 'auto' },
      reasons: { type: 'string', default: 'structured,llm' },
      scenarios: { type: 'string', default: 'no-gain,converging' },
      out: { type: 'string', default: 'bench/results/training-cost.json' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npx tsx bench/training-cost.ts [--latency ms] [--concurrency auto|N[,N…]] [--reasons structured,llm] [--scenarios no-gain,converging] [--out file]\n');
    return;
  }
  const latencyMs = Number(values.latency);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`--latency: not a number of ms: ${values.latency}`);
  const auto = Math.max(BATCH, VAL_USERS);
  const concurrencies = values.concurrency.split(',').map((s) => (s.trim() === 'auto' ? auto : Number(s)));
  if (concurrencies.some((c) => !Number.isInteger(c) || c < 1 || c > 256)) throw new Error(`--concurrency: integers 1..256 or auto, got ${values.concurrency}`);
  const reasonsList = values.reasons.split(',').map((s) => s.trim()) as Reasons[];
  if (reasonsList.some((r) => r !== 'structured' && r !== 'llm')) throw new Error(`--reasons: structured and/or llm, got ${values.reasons}`);
  const scenarios = values.scenarios.split(',').map((s) => s.trim()) as Scenario[];
  if (scenarios.some((s) => !(s in SCENARIOS))) throw new Error(`--scenarios: no-gain and/or converging, got ${values.scenarios}`);

  const command = `npx tsx bench/training-cost.ts ${process.argv.slice(2).join(' ')}`.trim();
  const info = machine();
  const runs: RunResult[] = [];
  for (const concurrency of concurrencies) {
    for (const scenario of scenarios) {
      for (const reasons of reasonsList) {
        process.stderr.write(`[training-cost] reasons ${reasons}, ${scenario}, concurrency ${concurrency}, latency ${latencyMs} ms … `);
        const r = await runOne(reasons, scenario, concurrency, latencyMs);
        process.stderr.write(`${r.llmCalls} calls, ${fmt(r.wallMs / 1000, 1)} s (${fmt(r.wallOverCritical, 2)}× critical path)\n`);
        runs.push(r);
      }
    }
  }
  const doc = {
    command,
    finishedAt: new Date().toISOString(),
    machine: info,
    setting: { trainUsers: TRAIN_USERS, validationUsers: VAL_USERS, batchSize: BATCH, epochs: 1, historyLength: HISTORY, verifySteps: VERIFY, latencyMs, formula7: paperCallsPerEpoch(TRAIN_USERS, BATCH) },
    scenarios: Object.fromEntries(scenarios.map((s) => [s, SCENARIOS[s].what])),
    runs,
  };
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(doc, null, 2)}\n`);
  process.stdout.write(
    `## Training cost (${TRAIN_USERS} users, batch ${BATCH}, 1 epoch, history ${HISTORY}, verifySteps ${VERIFY}, ${VAL_USERS} validation users, LLM ${latencyMs} ms)\n\n` +
      `Machine: ${info.nproc} × ${info.cpuModel}, Node ${info.node}, load average at start ${info.loadAvgAtStart.join(' ')}. Command: \`${command}\`\n\n` +
      `${table(runs)}\n\nRaw: ${values.out}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`training-cost: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
