/**
 * A fake world for the loop runner's unit tests: the in-memory loop store, the real experiments admin
 * service on memory stores (its results' decision and breaches set by the test), a scripted training
 * engine, dataset builder, splitter and evaluator, and counters of every side effect, with optional
 * crashes injected after the N-th store write.
 */
import type { PromptVersion } from '../../src/agp/ports.js';
import { createExperimentAdmin, type ExperimentAdmin } from '../../src/experiments/experiment-admin.js';
import type { GuardrailBreach } from '../../src/experiments/guardrails.js';
import type { AbComparison } from '../../src/experiments/results.js';
import type { LoopRunnerDeps, LoopTrainingJobs } from '../../src/loop/loop-runner.js';
import { advanceRun, newRunRecord, startRun } from '../../src/loop/loop-runner.js';
import type { LoopRun, LoopStore, Schedule } from '../../src/loop/ports.js';
import { createMemoryExperimentStore } from '../../src/store/memory-experiment-store.js';
import { createMemoryExposureStore } from '../../src/store/memory-exposure-store.js';
import { createMemoryLoopStore } from '../../src/store/memory-loop-store.js';

export const DAY = 86_400_000;
export const DOMAIN = 'books';
export const BASE = 'books-v1';

/** A schedule as stored (defaults of the design). */
export function testSchedule(over: Partial<Schedule> = {}): Schedule {
  return {
    domain: DOMAIN,
    everyMs: DAY,
    windowMs: 7 * DAY,
    params: { epochs: 1 },
    gate: { minDelta: 0, holdoutShare: 0.2, minHoldoutUsers: 20, bootstrapIterations: 500 },
    rollout: { share: 0.1, maxDurationMs: 7 * DAY, decisionIntervalMs: 60_000 },
    paused: false,
    source: 'api',
    createdAt: 0,
    updatedAt: 0,
    ...over,
  } as Schedule;
}

/** An error that stands for a process dying. */
export class Crash extends Error {}

/** What the test controls and counts. */
export interface LoopWorld {
  deps: LoopRunnerDeps;
  store: LoopStore;
  admin: ExperimentAdmin;
  experimentStore: ReturnType<typeof createMemoryExperimentStore>;
  clock: { t: number; now(): number };
  versions: Map<string, PromptVersion>;
  active: Map<string, string>;
  /** Knobs. */
  rows: number;
  holdoutUsers: number;
  /** Candidate NDCG − active NDCG per held-out user. */
  lift: number;
  trainResult: 'completed' | 'failed' | 'cancelled';
  /** The canary's always-valid decision, read at every look. */
  decision: AbComparison['decision'];
  breach: GuardrailBreach | null;
  /** Counters. */
  counts: { builds: number; submits: number; jobsCreated: number; evaluations: number; creates: number; promotes: number; stops: number };
  /** Store writes so far, by operation. */
  writes: { updateRun: number; appendAudit: number };
  /** Throws Crash right after the named store write whose running count (see `writes`) reaches n. */
  crashAfter: { op: 'updateRun' | 'appendAudit'; n: number } | null;
  /** Starts a run of the schedule now. */
  begin(schedule?: Schedule, runId?: string): Promise<LoopRun>;
  /** Advances until done (moving the clock by each wait); `onWait` sees every wait. */
  drive(run: LoopRun, onWait?: (run: LoopRun, waitMs: number) => void | Promise<void>): Promise<LoopRun>;
  /** Like drive, but a Crash restarts from the stored run (a new worker), as often as it happens. */
  driveThroughCrashes(run: LoopRun): Promise<{ run: LoopRun; crashes: number }>;
}

export function createLoopWorld(): LoopWorld {
  const clock = { t: 1_700_000_000_000, now: () => clock.t };
  const versions = new Map<string, PromptVersion>();
  const active = new Map<string, string>([[DOMAIN, BASE]]);
  const put = (v: PromptVersion) => versions.set(`${v.domain}/${v.version}`, v);
  put({ domain: DOMAIN, version: BASE, text: 'BASE PROMPT', parentVersion: null, createdAt: '2024-01-01T00:00:00Z', historyLength: 5 });
  const registry = {
    get: (d: string, v: string) => Promise.resolve(versions.get(`${d}/${v}`) ?? null),
    resolve: (d: string) => {
      const v = versions.get(`${d}/${active.get(d) ?? ''}`);
      return v ? { domain: d, version: v.version, text: v.text, historyLength: v.historyLength } : { domain: 'default', version: 'builtin-v0', text: 'BUILTIN', historyLength: 5 };
    },
    activate: (d: string, v: string) => {
      active.set(d, v);
      return Promise.resolve();
    },
  };
  const inner = createMemoryLoopStore();
  const writes = { updateRun: 0, appendAudit: 0 };
  const world: LoopWorld = {} as LoopWorld;
  const crashing = (op: 'updateRun' | 'appendAudit') => {
    writes[op] += 1;
    if (world.crashAfter?.op === op && world.crashAfter.n === writes[op]) throw new Crash(`crash after ${op} #${writes[op]}`);
  };
  const store: LoopStore = {
    ...inner,
    async updateRun(run) {
      const ok = await inner.updateRun(run);
      crashing('updateRun');
      return ok;
    },
    async appendAudit(record) {
      await inner.appendAudit(record);
      crashing('appendAudit');
    },
  };
  const experimentStore = createMemoryExperimentStore({ clock });
  const admin = createExperimentAdmin({
    store: experimentStore,
    exposures: createMemoryExposureStore({ maxEntries: 100, maxBytes: 1_000_000, clock }),
    registry,
    clock,
    newId: () => `exp_${clock.t}`,
    maxRunning: 10,
    defaultGuardrails: {},
  });
  const jobs = new Map<string, { domain: string; polls: number }>();
  const training: LoopTrainingJobs = {
    submit(req) {
      world.counts.submits += 1;
      if (!jobs.has(req.jobId)) {
        jobs.set(req.jobId, { domain: req.domain, polls: 0 });
        world.counts.jobsCreated += 1;
      }
      return Promise.resolve({ jobId: req.jobId });
    },
    get(jobId) {
      const job = jobs.get(jobId);
      if (!job) return Promise.resolve(null);
      job.polls += 1;
      if (job.polls < 2) return Promise.resolve({ state: 'running' as const });
      if (world.trainResult !== 'completed') return Promise.resolve({ state: world.trainResult, error: 'the LLM said no' });
      const version = `${DOMAIN}-trained-${jobId}`;
      put({ domain: DOMAIN, version, text: 'TRAINED PROMPT', parentVersion: BASE, createdAt: '2024-01-02T00:00:00Z', historyLength: 5 });
      return Promise.resolve({ state: 'completed' as const, result: { promptVersion: version, metrics: { bestValNdcg: 0.5, llmCalls: 26 } } });
    },
    cancel: (jobId) => Promise.resolve(jobs.delete(jobId)),
  };
  const deps: LoopRunnerDeps = {
    store,
    clock,
    datasets: {
      build: (req) => {
        world.counts.builds += 1;
        return Promise.resolve({ path: `datasets/loop-${req.runId}.jsonl`, rows: world.rows, users: Math.ceil(world.rows / 5), skipped: { noPositive: 3 } });
      },
    },
    split: (path) =>
      Promise.resolve({
        trainPath: path.replace('.jsonl', '.train.jsonl'),
        holdoutPath: path.replace('.jsonl', '.holdout.jsonl'),
        trainRows: world.rows - world.holdoutUsers,
        holdoutRows: world.holdoutUsers,
        trainUsers: 100,
        holdoutUsers: world.holdoutUsers,
      }),
    training,
    evaluate(text) {
      world.counts.evaluations += 1;
      const lift = text === 'TRAINED PROMPT' ? world.lift : 0;
      const perUser = new Map<string, number>();
      // Every user gains the same lift up to a small per-user wobble, so the bootstrap CI is tight.
      for (let i = 0; i < world.holdoutUsers; i++) perUser.set(`u${i}`, 0.3 + (i % 7) * 0.05 + lift + (lift !== 0 ? ((i % 3) - 1) * 0.002 : 0));
      return Promise.resolve({ perUser, llmCalls: 2 * world.holdoutUsers });
    },
    experiments: {
      create: (draft) => {
        world.counts.creates += 1;
        return admin.create(draft);
      },
      stop: (id, o) => {
        world.counts.stops += 1;
        return admin.stop(id, o);
      },
      promote: (id, arm) => {
        world.counts.promotes += 1;
        return admin.promote(id, arm);
      },
      async results(id) {
        const r = await admin.results(id);
        const comparison: AbComparison = { metric: 'ndcg@10', control: { arm: 'control', value: 0.3 }, treatment: { arm: 'candidate', value: 0.35 }, diff: 0.05, ci95: [0.01, 0.09], decision: world.decision, pValue: world.decision === 'inconclusive' ? 0.4 : 0.003 };
        return { ...r, comparison, guardrailBreaches: world.breach ? [world.breach] : [] };
      },
    },
    registry,
    pollMs: 10_000,
    decisionIntervalMs: 60_000,
  };
  Object.assign(world, {
    deps,
    store,
    admin,
    experimentStore,
    clock,
    versions,
    active,
    rows: 1_000,
    holdoutUsers: 40,
    lift: 0.1,
    trainResult: 'completed',
    decision: 'treatment',
    breach: null,
    counts: { builds: 0, submits: 0, jobsCreated: 0, evaluations: 0, creates: 0, promotes: 0, stops: 0 },
    crashAfter: null,
    writes,
    async begin(schedule = testSchedule(), runId = `${DOMAIN}-${clock.t}`) {
      const started = await startRun(deps, newRunRecord({ runId, domain: schedule.domain, trigger: 'schedule', schedule, baseVersion: registry.resolve(schedule.domain).version, now: clock.t }));
      if (!started.run) throw new Error(`not started: ${started.skipped}`);
      return started.run;
    },
    async drive(run: LoopRun, onWait?: (run: LoopRun, waitMs: number) => void | Promise<void>) {
      let current = run;
      for (let i = 0; i < 100_000; i++) {
        const r = await advanceRun(deps, current);
        current = r.run;
        if (r.waitMs === null) return current;
        clock.t += r.waitMs;
        await onWait?.(current, r.waitMs);
      }
      throw new Error('the run never ended');
    },
    async driveThroughCrashes(run: LoopRun) {
      let current = run;
      let crashes = 0;
      for (;;) {
        try {
          return { run: await world.drive(current), crashes };
        } catch (err) {
          if (!(err instanceof Crash)) throw err;
          crashes += 1;
          const stored = await inner.getRun(run.domain, run.runId);
          if (!stored) throw new Error('the run is gone');
          current = stored;
        }
      }
    },
  } satisfies Partial<LoopWorld>);
  return world;
}
