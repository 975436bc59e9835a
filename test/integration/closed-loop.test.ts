/**
 * The closed loop (issue 11, "How it is proven"), against the designed API: real redis-server, BullMQ (the
 * training queue and the loop's job schedulers), the LLM double simulating the taste world, and simulated
 * users (testkit/loop-world.ts) who rerank and click by their latent tastes.
 *
 * 1. From a deliberately weak active prompt, with no person acting once the schedule is written (its BullMQ
 *    job scheduler fires the run, every 3 s here): a dataset from live traffic → a trained prompt → the
 *    offline gate → a canary → promoted. Online NDCG@10 (the test's
 *    own, from the clicks it sent) is higher afterwards; the audit trail has every step, in order.
 * 2. A trainer forced to sabotage (the double's editPolicy 'sabotage'; its contrarian line is ignored while
 *    training and followed once the candidate exists) with a gate that lets anything through (minDelta −1):
 *    the canary is rolled back and serving never changes (every answer outside the candidate arm serves the
 *    active version).
 * 3. Crash: the loop worker in its own process (`agp worker`), SIGKILLed during training and during the canary
 *    decision, and restarted: no duplicate version, no second canary, the run finishes and the schedule goes on.
 *
 * Scenario 1 lowers LOOP_MIN_EVERY_MS so its schedule fires every 3 s; firings while the run is in progress are
 * skipped (audited once). Scenarios 2 and 3 use a yearly cron and fire their runs with POST …/run (what they
 * prove is the rollback and the crash, not the firing). LOOP_POLL_MS and LOOP_DECISION_INTERVAL_MS are short.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { expectInOrder, loopAdmin, type LoopAdmin, type RunView } from '../support/loop-admin.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { createLoopWorld, injectTransport, summarize, WEAK_PROMPT, type LoopWorld, type ServedRequest, type Transport } from '../../testkit/loop-world.js';
import { spawnNode, type ManagedChild } from '../../testkit/processes.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';
import { SABOTAGE_LINE } from '../../testkit/taste-world.js';
import { eventually } from '../../testkit/wait.js';

const TOKEN = 'closed-loop-admin-token-0123456789';
const WEAK = 'weak-1';
/** Short loop timings, long rerank deadlines (a busy machine must not turn reranks into fallbacks). */
const BASE_ENV = {
  LLM_API_KEY: 'sk-closed-loop',
  LLM_MODEL: 'double-model',
  ADMIN_TOKEN: TOKEN,
  LOOP_POLL_MS: '200',
  LOOP_DECISION_INTERVAL_MS: '250',
  LOOP_MIN_EVERY_MS: '1000',
  EXPERIMENT_POLL_MS: '200',
  PROMPT_REFRESH_MS: '200',
  DEFAULT_DEADLINE_MS: '20000',
  MAX_DEADLINE_MS: '20000',
  BREAKER_FAILURE_THRESHOLD: '1000',
};
/** One epoch of 8 batches of 5 asks for the four aspects (test/integration/loop-world.test.ts). */
const PARAMS = { epochs: 1, batchSize: 5, trainUsers: 40, valUsers: 20, historyLength: 8, seed: 3 };
/** A yearly cron: the scheduler exists (nextRunAt) but never fires during the test; runs are fired by POST …/run. */
const CRON = '0 0 1 1 *';
const schedule = (gate: Record<string, unknown> = {}) => ({
  cron: CRON,
  tz: 'UTC',
  window: '1h',
  params: PARAMS,
  gate: { minDelta: 0, holdoutShare: 0.3, minHoldoutUsers: 10, bootstrapIterations: 1000, ...gate },
  // The p99 guardrail is for production latencies; on a loaded test machine it would stop a good canary.
  rollout: { share: 0.5, maxDuration: '5m', guardrails: { maxLatencyP99Ms: 60_000 } },
});

let redis: RedisServerHandle;
let double: LlmDouble;
let dataDir: string;
const t0 = Date.now();

beforeAll(async () => {
  [redis, double] = await Promise.all([startRedisServer(), startLlmDouble()]);
  dataDir = await mkdtemp(join(tmpdir(), 'agp-closed-loop-'));
}, 60_000);

afterAll(async () => {
  await double?.close();
  await redis?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  console.log(`[closed-loop] whole file ${Date.now() - t0} ms`);
});

/** Sends waves of one request per user until the run is done; every answer goes through `check`. */
async function trafficUntilDone(world: LoopWorld, http: Transport, admin: LoopAdmin, domain: string, runId: string, check: (s: ServedRequest) => void, timeoutMs = 90_000) {
  const served: ServedRequest[] = [];
  const started = Date.now();
  for (;;) {
    const run = await admin.run(domain, runId);
    if (run?.step === 'done') return { served, run: run as RunView, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`run ${runId} not done after ${timeoutMs} ms of canary traffic: ${JSON.stringify(run)}`);
    served.push(...(await world.traffic(http, { domain, perUser: 1, onServed: check })));
  }
}

/** Waits until the app serves `version` outside any experiment (its registry and experiment snapshots poll the store). */
async function servingSettles(app: TestApp, domain: string, version: string): Promise<void> {
  await eventually(
    () => [app.container.registry.resolve(domain).version, app.container.experiments.running.forDomain(domain)?.record.id ?? null],
    ([v, exp]) => v === version && exp === null,
    { what: `${domain} to serve ${version} with no experiment`, timeoutMs: 5_000 },
  );
}

/** Waits for the canary (step decide) and returns the run and its arms' versions. */
async function canaryOf(admin: LoopAdmin, domain: string, runId: string) {
  const run = await admin.waitRun(domain, runId, (r) => r.step === 'decide' || r.step === 'done', 'the canary to start', 90_000);
  expect(run.outcome ?? null, `the run ended before its canary: ${run.reason}`).toBeNull();
  expect(run.experimentId).toBe(`canary-${runId}`);
  const exp = await admin.experiment(run.experimentId);
  expect(exp).toMatchObject({ domain, mode: 'ab', trafficShare: 0.5 });
  const versionOf = Object.fromEntries((exp.arms as Array<{ name: string; promptVersion: string }>).map((a) => [a.name, a.promptVersion]));
  expect(new Set(Object.values(versionOf))).toEqual(new Set([WEAK, run.candidateVersion]));
  return { run, versionOf };
}

describe('the closed loop (in-process API and worker)', () => {
  let t: TestApp;
  let http: Transport;
  let admin: LoopAdmin;

  beforeAll(async () => {
    t = await buildTestApp({ env: { ...BASE_ENV, REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix('cl'), LLM_BASE_URL: double.url, TRAINING_DATA_DIR: dataDir } });
    http = injectTransport(t.app);
    admin = loopAdmin(http, TOKEN);
  }, 60_000);
  afterAll(async () => t?.close());

  it('weak prompt → dataset → trained → gated → canary → promoted, no person acting; online NDCG@10 is higher', { timeout: 150_000 }, async () => {
    const started = Date.now();
    const domain = 'loop-promote';
    const world = createLoopWorld({ users: 80, seed: 21, prefix: 'lp' });
    await admin.importActive(domain, WEAK, WEAK_PROMPT, 8);
    const before = summarize(await world.traffic(http, { domain, perUser: 3 }));
    // The one thing a person does: write the schedule. Its job scheduler fires the first run 3 s later.
    const { cron: _yearly, tz: _tz, ...rest } = schedule();
    const view = await admin.putSchedule(domain, { ...rest, every: '3s' });
    expect(view).toMatchObject({ domain, everyMs: 3_000, cron: null, windowMs: 3_600_000, paused: false, pinned: null });
    expect(Date.parse(view.nextRunAt)).toBeGreaterThan(Date.now());
    const got = await admin.call('GET', `/admin/v1/schedules/${domain}`);
    expect(got.status).toBe(200);
    expect((got.body as { nextRunAt: string }).nextRunAt).toBe(view.nextRunAt);
    const fired = await eventually(
      async () => ((await admin.call('GET', `/admin/v1/schedules/${domain}/runs?limit=10`)).body as { runs: RunView[] }).runs,
      (runs) => runs.length > 0,
      { timeoutMs: 30_000, what: 'the schedule to fire a run' },
    );
    const runId = (fired.at(-1) as RunView).runId;
    expect(fired.at(-1)).toMatchObject({ trigger: 'schedule' });
    // From here on only users act: reranks, clicks, and reads.
    const { run: canary, versionOf } = await canaryOf(admin, domain, runId);
    expect(canary).toMatchObject({ domain, baseVersion: WEAK, trainingJobId: `loop-${runId}` });
    expect(canary.dataset.holdoutUsers).toBeGreaterThanOrEqual(10);
    expect(canary.gate).toMatchObject({ passed: true, minDelta: 0 });
    expect(canary.gate.ci95[0]).toBeGreaterThan(0);
    const candidate = canary.candidateVersion as string;
    const prompts = await admin.prompts(domain);
    expect(prompts.find((p) => p.version === candidate)).toMatchObject({ active: false, parentVersion: WEAK });

    const { run: done, served, ms } = await trafficUntilDone(world, http, admin, domain, runId, (s) => {
      if (s.experiment) expect(s.promptVersion).toBe(versionOf[s.experiment.arm ?? '']);
      else expect([WEAK, candidate]).toContain(s.promptVersion);
    });
    expect(done.outcome, done.reason).toBe('promoted');
    // The proof is over; a person pauses the schedule so its next run (from the new prompt) stays out of the
    // measurement below.
    expect((await admin.call('POST', `/admin/v1/schedules/${domain}/pause`)).status).toBe(200);
    expect(await admin.activeVersion(domain)).toBe(candidate);
    expect((await admin.experiment(canary.experimentId)).state).toBe('stopped');
    await servingSettles(t, domain, candidate);

    const afterWave = await world.traffic(http, { domain, perUser: 3 });
    const after = summarize(afterWave);
    console.log(`[closed-loop] promote: NDCG@10 ${before.ndcg.toFixed(3)} → ${after.ndcg.toFixed(3)}; canary ${served.length} requests, ${ms} ms; scenario ${Date.now() - started} ms`);
    expect(afterWave.every((s) => s.promptVersion === candidate && s.experiment === null)).toBe(true);
    expect(after.ndcg).toBeGreaterThan(before.ndcg + 0.3);

    const records = await admin.audit(domain, runId);
    const kinds = records.map((r) => r.kind as string);
    expectInOrder(kinds, ['run_started', 'dataset_built', 'trained', 'gated', 'candidate_registered', 'canary_started', 'promoted', 'run_ended']);
    for (const k of ['candidate_registered', 'canary_started', 'promoted']) expect(kinds.filter((x) => x === k)).toHaveLength(1);
    expect(records.every((r) => r.actor === 'loop' && r.domain === domain && typeof r.message === 'string')).toBe(true);
    expect(records.map((r) => r.at)).toEqual([...records.map((r) => r.at)].sort((a, b) => a - b));
    expect(records.find((r) => r.kind === 'gated')?.data).toMatchObject({ passed: true });
    const metrics = (await t.app.inject('/metrics')).body;
    expect(metrics).toMatch(/agp_loop_runs_total\{outcome="promoted"\} 1/);
  });

  it('a sabotaged candidate let through the gate is rolled back by its canary; serving never changes', { timeout: 150_000 }, async () => {
    const started = Date.now();
    const domain = 'loop-sabotage';
    const world = createLoopWorld({ users: 80, seed: 22, prefix: 'ls' });
    await admin.importActive(domain, WEAK, WEAK_PROMPT, 8);
    await admin.putSchedule(domain, schedule({ minDelta: -1 }));
    const servesWeak = (s: ServedRequest) => expect(s.promptVersion).toBe(WEAK);
    await world.traffic(http, { domain, perUser: 3, onServed: servesWeak });

    double.setEditPolicy('sabotage');
    double.setContrarian('ignore');
    let runId = '';
    try {
      runId = await admin.runNow(domain);
      await admin.waitRun(domain, runId, (r) => !['dataset', 'train'].includes(r.step), 'training to finish', 90_000);
    } finally {
      // The model now follows the hidden line: the candidate is worse than the weak prompt online.
      double.setEditPolicy('improve');
      double.setContrarian('follow');
    }
    const { run: canary, versionOf } = await canaryOf(admin, domain, runId);
    const bad = canary.candidateVersion as string;
    const detail = await admin.call('GET', `/admin/v1/prompts/${domain}/${bad}`);
    expect((detail.body as { text: string }).text).toContain(SABOTAGE_LINE);

    // Every answer outside the candidate arm serves the active (weak) version, before, during and after.
    const check = (s: ServedRequest) => {
      if (s.experiment && versionOf[s.experiment.arm ?? ''] === bad) expect(s.promptVersion).toBe(bad);
      else servesWeak(s);
    };
    const { run: done, served, ms } = await trafficUntilDone(world, http, admin, domain, runId, check);
    expect(done.outcome, done.reason).toBe('rolled_back');
    expect(done.reason).toMatch(/control/);
    const arm = (v: string) => summarize(served, (s) => s.experiment !== null && versionOf[s.experiment.arm ?? ''] === v);
    console.log(`[closed-loop] sabotage: weak ${arm(WEAK).ndcg.toFixed(3)} vs sabotaged ${arm(bad).ndcg.toFixed(3)}; canary ${served.length} requests, ${ms} ms; scenario ${Date.now() - started} ms`);
    expect(arm(bad).ndcg).toBeLessThan(arm(WEAK).ndcg);
    expect((await admin.experiment(canary.experimentId)).state).toBe('stopped');
    expect(await admin.activeVersion(domain)).toBe(WEAK);
    await servingSettles(t, domain, WEAK);
    const afterWave = await world.traffic(http, { domain, perUser: 1, onServed: servesWeak });
    expect(afterWave.every((s) => s.experiment === null)).toBe(true);

    const kinds = (await admin.audit(domain, runId)).map((r) => r.kind as string);
    expectInOrder(kinds, ['run_started', 'dataset_built', 'trained', 'gated', 'candidate_registered', 'canary_started', 'rolled_back', 'run_ended']);
    expect(kinds).not.toContain('promoted');
  });
});

describe('the closed loop with its worker killed (real worker processes)', () => {
  const domain = 'loop-crash';
  const workers: ManagedChild[] = [];
  let api: TestApp;
  let http: Transport;
  let admin: LoopAdmin;
  let env: Record<string, string>;

  const startWorker = (): ManagedChild => {
    const w = spawnNode('agp worker', {
      nodeFlags: ['--import', 'tsx'],
      args: ['src/cli/agp.ts', 'worker'],
      env: { ...process.env, NODE_ENV: 'production', ...env, LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' },
    });
    workers.push(w);
    return w;
  };
  const kill = async (w: ManagedChild) => {
    w.child.kill('SIGKILL');
    expect(await w.exited).toEqual({ code: null, signal: 'SIGKILL' });
  };

  beforeAll(async () => {
    env = {
      ...BASE_ENV,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniquePrefix('clcrash').replace(/[^A-Za-z0-9-]/g, ''),
      LLM_BASE_URL: double.url,
      TRAINING_DATA_DIR: dataDir,
      // A dead worker's jobs are taken over after ≈ lock + 2 stalled checks instead of 30–60 s.
      TRAINING_LOCK_DURATION_MS: '3000',
      TRAINING_STALLED_INTERVAL_MS: '500',
    };
    api = await buildTestApp({ env: { ...env, WORKER_ENABLED: 'false' } });
    http = injectTransport(api.app);
    admin = loopAdmin(http, TOKEN);
  }, 60_000);
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.allSettled(workers.map((w) => w.exited));
    await api?.close();
  });

  it('killed during training and during the canary decision: one version, one canary, the run finishes, the schedule goes on', { timeout: 150_000 }, async () => {
    const started = Date.now();
    const world = createLoopWorld({ users: 80, seed: 23, prefix: 'lc' });
    await admin.importActive(domain, WEAK, WEAK_PROMPT, 8);
    await admin.putSchedule(domain, schedule());
    await world.traffic(http, { domain, perUser: 3 });
    const w1 = startWorker();

    // Freeze the LLM at the first optimiser call of the run's training: the worker is inside a batch.
    let frozen = false;
    double.script((call) => {
      if (!frozen && call.role === 'summarise') {
        frozen = true;
        double.failNext(100_000, 'hang');
      }
      return undefined;
    });
    const runId = await admin.runNow(domain);
    await eventually(() => frozen && double.calls.some((c) => c.mode === 'hang'), Boolean, { what: 'training to be frozen mid-batch', timeoutMs: 60_000, detail: () => w1.output().slice(-2_000) });
    const during = await admin.run(domain, runId);
    expect(during?.step).toBe('train');
    await kill(w1);
    double.reset(); // answers again (and forgets the script)
    startWorker();

    const { run: canary, versionOf } = await canaryOf(admin, domain, runId);
    // Kill during the decision: one wave gives each arm fewer than the 100 exposures a decision needs.
    await world.traffic(http, { domain, perUser: 1 });
    expect((await admin.run(domain, runId))?.step).toBe('decide');
    await kill(workers[1] as ManagedChild);
    const w3 = startWorker();

    const { run: done } = await trafficUntilDone(world, http, admin, domain, runId, (s) => {
      if (s.experiment) expect(s.promptVersion).toBe(versionOf[s.experiment.arm ?? '']);
    }, 120_000);
    expect(done.outcome, `${done.reason}\n${w3.output().slice(-2_000)}`).toBe('promoted');

    // No duplicate version, no second canary, one training job.
    const versions = (await admin.prompts(domain)).map((p) => p.version).sort();
    expect(versions).toEqual([canary.candidateVersion, WEAK].sort());
    expect((await admin.experiments(domain)).map((e) => e.id)).toEqual([`canary-${runId}`]);
    const jobs = ((await admin.call('GET', '/admin/v1/training-jobs')).body as { jobs: Array<{ jobId: string; domain: string; state: string }> }).jobs;
    expect(jobs.filter((j) => j.domain === domain).map((j) => [j.jobId, j.state])).toEqual([[`loop-${runId}`, 'completed']]);
    const kinds = (await admin.audit(domain, runId)).map((r) => r.kind as string);
    for (const k of ['trained', 'candidate_registered', 'canary_started', 'promoted', 'run_ended']) expect(kinds.filter((x) => x === k), k).toHaveLength(1);

    // The schedule goes on: its scheduler is still there, and the next run starts.
    const view = (await admin.call('GET', `/admin/v1/schedules/${domain}`)).body as { nextRunAt: string | null; paused: boolean };
    expect(view.paused).toBe(false);
    expect(Date.parse(view.nextRunAt ?? '')).toBeGreaterThan(Date.now());
    const next = await admin.runNow(domain);
    expect(next).not.toBe(runId);
    await admin.waitRun(domain, next, (r) => r.step !== undefined, 'the next run to be recorded');
    expect((await admin.call('DELETE', `/admin/v1/schedules/${domain}`)).status).toBe(204);
    expect((await admin.call('GET', `/admin/v1/schedules/${domain}`)).status).toBe(404);
    console.log(`[closed-loop] crash: scenario ${Date.now() - started} ms`);
    await w3.stop(10_000);
  });
});
