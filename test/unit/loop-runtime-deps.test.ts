/**
 * The runtime's glue of the loop runner (src/runtime/loop.ts loopRunnerDeps): the dataset file named after
 * the run under TRAINING_DATA_DIR, the real split into train and holdout files, and the real evaluation of
 * both prompts on the held-out users with the synthetic world's model, driven by the runner up to the canary.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PromptVersion } from '../../src/agp/ports.js';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import type { DatasetService } from '../../src/experiments/dataset-builder.js';
import { createExperimentAdmin } from '../../src/experiments/experiment-admin.js';
import { realUserOf } from '../../src/jobs/holdout-evaluation.js';
import { advanceRun, startRun } from '../../src/loop/loop-runner.js';
import type { LoopRun } from '../../src/loop/ports.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { boundRunner, loopRunnerDeps, type LoopServices } from '../../src/runtime/loop.js';
import { createMemoryExperimentStore } from '../../src/store/memory-experiment-store.js';
import { createMemoryExposureStore } from '../../src/store/memory-exposure-store.js';
import { createMemoryLoopStore } from '../../src/store/memory-loop-store.js';
import { createWorldLlm, keywordPolicy, makeUsers, START_PROMPT } from '../../testkit/synthetic-world.js';
import { testSchedule } from '../support/loop-world.js';

const GOOD_PROMPT = `${START_PROMPT} Always name the favourite genre.`;
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** 60 users with 2 exposures each, as the dataset builder writes them (`userId` = `<user>#<requestId>`). */
function rows(): string {
  return makeUsers(60)
    .flatMap((u) => [1, 2].map((r) => ({ userId: `${u.userId}#req${r}`, user: u.userId, requestId: `req${r}`, history: u.history, candidates: u.candidates, target: u.targets[0] })))
    .map((r) => `${JSON.stringify(r)}\n`)
    .join('');
}

async function setup() {
  const dataDir = await mkdtemp(join(tmpdir(), 'agp-loop-deps-'));
  dirs.push(dataDir);
  const config = loadConfig({ TRAINING_DATA_DIR: dataDir, LOG_LEVEL: 'silent', TRAINING_CONCURRENCY: '4' });
  const clock = { now: () => 1_700_000_000_000 };
  const versions = new Map<string, PromptVersion>();
  const put = (v: PromptVersion) => versions.set(v.version, v);
  put({ domain: 'books', version: 'v1', text: START_PROMPT, parentVersion: null, createdAt: '', historyLength: 5 });
  let active = 'v1';
  const registry = {
    get: (_d: string, v: string) => Promise.resolve(versions.get(v) ?? null),
    resolve: () => {
      const v = versions.get(active) as PromptVersion;
      return { domain: 'books', version: v.version, text: v.text, historyLength: v.historyLength };
    },
    activate: (_d: string, v: string) => Promise.resolve(void (active = v)),
  };
  const builds: string[] = [];
  const datasets: DatasetService = {
    async build(req) {
      builds.push(req.out ?? '');
      await mkdir(dirname(req.out ?? ''), { recursive: true });
      await writeFile(req.out ?? '', rows());
      return { path: req.out ?? '', rows: 120, users: 60, exposures: 130, partialHistory: 0, skipped: { noPositive: 10, noHistory: 0, titleExpired: 0, maxUsers: 0 } };
    },
  };
  const llm = createWorldLlm(keywordPolicy());
  const experiments = createExperimentAdmin({
    store: createMemoryExperimentStore({ clock }),
    exposures: createMemoryExposureStore({ maxEntries: 10, maxBytes: 100_000, clock }),
    registry,
    clock,
    newId: () => 'exp_1',
    maxRunning: 5,
    defaultGuardrails: {},
  });
  const submitted: Array<{ jobId: string; path: string }> = [];
  const jobs: LoopServices['jobs'] = {
    submit(req) {
      submitted.push({ jobId: req.jobId ?? '', path: 'path' in req.dataset ? req.dataset.path : '' });
      put({ domain: 'books', version: 'v2', text: GOOD_PROMPT, parentVersion: 'v1', createdAt: '', historyLength: 5 });
      return Promise.resolve({ jobId: req.jobId ?? '' });
    },
    get: (jobId) =>
      Promise.resolve({ jobId, domain: 'books', state: 'completed' as const, createdAt: '', progress: { epoch: 1, batch: 1, llmCalls: 0, tokens: 0, etaSeconds: null }, metrics: {}, result: { promptVersion: 'v2', activated: false, metrics: {} } }),
    cancel: () => Promise.resolve(false),
  };
  const store = createMemoryLoopStore();
  const services: LoopServices = { registry, experiments, datasets, jobs, llm, pipeline: pipelineOptions(config) };
  const deps = loopRunnerDeps({ config, logger: { debug() {}, info() {}, warn() {}, error() {} }, clock, metrics: createMetrics({ defaultMetrics: false }) }, store, services);
  return { dataDir, deps, services, store, builds, submitted, llm };
}

describe('loop runtime glue', () => {
  it('builds loop-<runId>.jsonl, splits it by real user, trains on the train file and gates on the holdout with the real evaluation', async () => {
    const s = await setup();
    const runner = boundRunner(s.deps, s.services.registry);
    await s.store.putSchedule(testSchedule({ gate: { minDelta: 0, holdoutShare: 0.5, minHoldoutUsers: 10, bootstrapIterations: 300 } }));
    const fresh = await runner.newRun('books', 'manual', 'r1');
    expect(fresh).toMatchObject({ runId: 'r1', baseVersion: 'v1', step: 'dataset', startedAt: 1_700_000_000_000 });
    let run = (await startRun(s.deps, fresh as LoopRun)).run as LoopRun;
    while (run.step !== 'decide' && run.step !== 'done') run = (await advanceRun(s.deps, run)).run;

    expect(s.builds).toEqual([join(s.dataDir, 'datasets', 'loop-r1.jsonl')]);
    expect(run.dataset).toMatchObject({ path: join('datasets', 'loop-r1.train.jsonl'), holdoutPath: join('datasets', 'loop-r1.holdout.jsonl'), rows: 120, users: 60 });
    expect(s.submitted).toEqual([{ jobId: 'loop-r1', path: join('datasets', 'loop-r1.train.jsonl') }]);
    // No user on both sides, each user's two rows on one side.
    const usersIn = async (file: string) => new Set((await readFile(join(s.dataDir, file), 'utf8')).trim().split('\n').map((l) => realUserOf((JSON.parse(l) as { userId: string }).userId)));
    const train = await usersIn(run.dataset?.path ?? '');
    const holdout = await usersIn(run.dataset?.holdoutPath ?? '');
    expect([...train].filter((u) => holdout.has(u))).toEqual([]);
    expect(train.size + holdout.size).toBe(60);
    expect(run.dataset?.holdoutUsers).toBe(holdout.size);
    // The world's model ranks the genre first only with the trained prompt: the gate passes on every held-out user.
    expect(run.gate).toMatchObject({ passed: true, users: holdout.size });
    expect(run.gate?.candidateNdcg).toBeGreaterThan((run.gate?.activeNdcg ?? 1) + 0.1);
    // Two evaluations of the holdout's rows: a profile and a rerank call per row each.
    expect(run.gate?.llmCalls).toBe(2 * 2 * 2 * holdout.size);
    expect(run).toMatchObject({ step: 'decide', experimentId: 'canary-r1', candidateVersion: 'v2' });
  });

  it('newRun: no schedule, no run', async () => {
    const s = await setup();
    expect(await boundRunner(s.deps, s.services.registry).newRun('films', 'schedule', 'r2')).toBeNull();
  });
});
