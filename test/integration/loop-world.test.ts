/**
 * The loop, by hand, in the taste world (testkit/loop-world.ts): proof that the world, the simulator and
 * the experiment statistics line up, with features that exist today (before the automatic loop).
 *
 * Real redis-server, BullMQ training worker in the app's process, the LLM double through the openai SDK.
 * From a deliberately weak active prompt (it asks for nothing users care about, so the baseline order is
 * served): live traffic with position-based clicks → a dataset from the exposures (POST /admin/v1/datasets)
 * → a training job on it (activate: never) → an A/B experiment weak vs trained decides `treatment` →
 * promotion → online NDCG@10 (the test's own, from the clicks it sent) is higher. And a trainer forced to
 * sabotage (the double's editPolicy 'sabotage', its contrarian line ignored while training and followed while
 * serving) makes a candidate the A/B rejects: decision `control`, and the active version never changes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { createLoopWorld, injectTransport, summarize, WEAK_PROMPT, type ServedRequest, type Transport } from '../../testkit/loop-world.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';
import { aspectsAskedBy, SABOTAGE_LINE } from '../../testkit/taste-world.js';
import { eventually, sleep } from '../../testkit/wait.js';

const TOKEN = 'loop-world-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const DOMAIN = 'tasteworld';
const WEAK = 'weak-1';
/** 60 users; the first wave sends 4 requests each (≈ 150 rows with a click), each A/B wave 2 each. */
const world = createLoopWorld({ users: 60, seed: 11 });
/** Trainer parameters: one epoch of 8 batches of 5 is enough for the four aspects to be asked for. */
const PARAMS = { epochs: 1, batchSize: 5, trainUsers: 40, valUsers: 20, historyLength: 8, seed: 3 };
/** The A/B must decide within this much test time. */
const DECISION_BUDGET_MS = 60_000;

let redis: RedisServerHandle;
let double: LlmDouble;
let t: TestApp;
let dataDir: string;
let http: Transport;
let before: ReturnType<typeof summarize>;
let datasetPath: string;
let trained: string;

/** An admin call; a 503 (a Redis command slower than its bound on a busy machine) is retried as a client would. */
async function admin(method: 'GET' | 'POST', path: string, body?: unknown) {
  for (let attempt = 1; ; attempt++) {
    const res = await http({ method, path, headers: auth, ...(body === undefined ? {} : { body }) });
    if (res.status !== 503 || attempt === 5) return res;
    await sleep(500);
  }
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- admin answers are checked field by field
const json = (r: { body: unknown }) => r.body as any;

beforeAll(async () => {
  [redis, double] = await Promise.all([startRedisServer(), startLlmDouble()]);
  dataDir = await mkdtemp(join(tmpdir(), 'agp-loop-world-'));
  t = await buildTestApp({
    env: {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniquePrefix('lw'),
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-loop-world',
      LLM_MODEL: 'double-model',
      ADMIN_TOKEN: TOKEN,
      TRAINING_DATA_DIR: dataDir,
      EXPERIMENT_POLL_MS: '200',
      PROMPT_REFRESH_MS: '200',
      // A busy machine must not turn reranks into fallbacks (the baseline order): that is not what is measured.
      DEFAULT_DEADLINE_MS: '20000',
      MAX_DEADLINE_MS: '20000',
    },
  });
  http = injectTransport(t.app);
  expect((await admin('POST', '/admin/v1/prompts', { domain: DOMAIN, version: WEAK, text: WEAK_PROMPT, historyLength: 8 })).status).toBe(201);
  expect((await admin('POST', `/admin/v1/prompts/${DOMAIN}/${WEAK}/activate`)).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await double?.close();
  await redis?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Trains from the dataset (warm start: the active prompt); resolves the new version and its text. */
async function trainFromDataset(): Promise<{ version: string; text: string; metrics: { initialValNdcg: number; bestValNdcg: number } }> {
  const submit = await admin('POST', '/admin/v1/training-jobs', { domain: DOMAIN, dataset: { path: datasetPath }, params: PARAMS, activate: 'never' });
  expect(submit.status, JSON.stringify(submit.body)).toBe(202);
  const { jobId } = json(submit);
  const job = await eventually(async () => json(await admin('GET', `/admin/v1/training-jobs/${jobId}`)), (j) => ['completed', 'failed', 'cancelled'].includes(j.state), {
    what: 'the training job to finish',
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  expect(job.state, job.error).toBe('completed');
  expect(job.result.activated).toBe(false);
  const version = job.result.promptVersion as string;
  const detail = json(await admin('GET', `/admin/v1/prompts/${DOMAIN}/${version}`));
  expect(detail.parentVersion).toBe(WEAK);
  return { version, text: detail.text, metrics: job.result.metrics };
}

/**
 * Runs an A/B experiment weak (control) vs `candidate` in waves until its always-valid decision is not
 * `inconclusive`. Every answer must serve the version of its arm (the weak one outside the experiment).
 */
async function abTest(candidate: string) {
  const created = await admin('POST', '/admin/v1/experiments', {
    domain: DOMAIN,
    mode: 'ab',
    arms: [
      { name: 'control', method: 'agp', promptVersion: WEAK },
      { name: 'candidate', method: 'agp', promptVersion: candidate },
    ],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = json(created).id as string;
  const versionOf: Record<string, string> = { control: WEAK, candidate };
  const served: ServedRequest[] = [];
  const started = Date.now();
  for (;;) {
    const wave = await world.traffic(http, {
      domain: DOMAIN,
      perUser: 2,
      onServed: (s) => {
        expect(s.experiment?.id).toBe(id);
        expect(s.promptVersion).toBe(versionOf[s.experiment?.arm ?? 'control']);
        expect(s.fallback).toBeNull();
      },
    });
    served.push(...wave);
    const first = json(await admin('GET', `/admin/v1/experiments/${id}`));
    const ms = Date.now() - started;
    if (first.comparison.decision !== 'inconclusive' || ms > DECISION_BUDGET_MS) {
      // The recorder writes off the request path and a batch's running sums ride with its next write: wait
      // until every exposure served is in the sums before comparing them with the test's own numbers.
      const counted = (r: { arms: Array<{ exposures: number }> }) => r.arms.reduce((a, x) => a + x.exposures, 0);
      const results = await eventually(async () => json(await admin('GET', `/admin/v1/experiments/${id}`)), (r) => counted(r) >= served.length, {
        what: `${served.length} exposures in the experiment's sums`,
        timeoutMs: 10_000,
      });
      const arm = (name: string) => summarize(served, (s) => s.experiment?.arm === name);
      return { id, results, served, ms, control: arm('control'), candidate: arm('candidate') };
    }
  }
}

describe('the loop by hand in the taste world', () => {
  it('with the weak prompt active, live traffic is ranked no better than the baseline', { timeout: 60_000 }, async () => {
    const wave = await world.traffic(http, { domain: DOMAIN, perUser: 4 });
    before = summarize(wave);
    console.log('[loop-world] weak prompt:', before);
    expect(wave.filter((s) => s.promptVersion !== WEAK || s.experiment !== null || s.fallback !== null)).toEqual([]);
    // The weak profile shares no word with any title: the service serves the caller's order.
    expect(wave.every((s) => s.ids.join() === s.baseline.join())).toBe(true);
    expect(before.ndcg).toBeLessThan(0.5);
    expect(before.latentNdcg).toBeLessThan(0.6);
  });

  it('a dataset from that traffic trains a prompt that asks for what users care about', { timeout: 90_000 }, async () => {
    const built = await admin('POST', '/admin/v1/datasets', { domain: DOMAIN });
    expect(built.status, JSON.stringify(built.body)).toBe(201);
    const ds = json(built);
    // One row per request with a click; every request of the wave was recorded.
    expect(ds.exposures).toBe(before.requests);
    expect(ds.rows).toBe(Math.round(before.clickRate * before.requests));
    expect(ds.skipped).toMatchObject({ noHistory: 0, titleExpired: 0 });
    datasetPath = ds.path;

    const good = await trainFromDataset();
    console.log('[loop-world] trained:', good.version, good.metrics.initialValNdcg, '→', good.metrics.bestValNdcg);
    expect(aspectsAskedBy(good.text).length).toBeGreaterThanOrEqual(3);
    // Validation targets are first clicks (sometimes a near miss), on 20 rows: the A/B below is the real proof.
    expect(good.metrics.bestValNdcg).toBeGreaterThan(good.metrics.initialValNdcg + 0.05);
    trained = good.version;
  });

  it('a trainer forced to sabotage makes a candidate the A/B rejects (control), and serving never changes', { timeout: 120_000 }, async () => {
    double.setEditPolicy('sabotage');
    double.setContrarian('ignore');
    let bad: Awaited<ReturnType<typeof trainFromDataset>>;
    try {
      bad = await trainFromDataset();
    } finally {
      double.setEditPolicy('improve');
      double.setContrarian('follow');
    }
    // Offline the sabotaged prompt looked like the honest improvement it also contains.
    expect(bad.text).toContain(SABOTAGE_LINE);
    expect(bad.metrics.bestValNdcg).toBeGreaterThan(bad.metrics.initialValNdcg);

    const ab = await abTest(bad.version);
    console.log(`[loop-world] sabotage A/B: ${ab.results.comparison.decision} after ${ab.served.length} requests, ${ab.ms} ms`, ab.control, ab.candidate);
    expect(ab.results.comparison.decision).toBe('control');
    expect(ab.candidate.ndcg).toBeLessThan(ab.control.ndcg - 0.1);
    expect((await admin('POST', `/admin/v1/experiments/${ab.id}/stop`)).status).toBe(200);
    const prompts = json(await admin('GET', `/admin/v1/prompts?domain=${DOMAIN}`)).prompts as Array<{ version: string; active: boolean }>;
    expect(prompts.filter((p) => p.active).map((p) => p.version)).toEqual([WEAK]);
  });

  it('an A/B weak vs trained decides treatment within a minute; promoted, online NDCG@10 is higher', { timeout: 120_000 }, async () => {
    const ab = await abTest(trained);
    console.log(`[loop-world] A/B: ${ab.results.comparison.decision} after ${ab.served.length} requests, ${ab.ms} ms`, ab.control, ab.candidate);
    expect(ab.results.comparison.decision).toBe('treatment');
    expect(ab.ms).toBeLessThan(DECISION_BUDGET_MS);
    // The service's numbers are the test's own, computed from what it was served and the clicks it sent.
    const arms = ab.results.arms as Array<{ name: string; exposures: number; metrics: { 'ndcg@10': { value: number } } }>;
    for (const [name, mine] of [['control', ab.control], ['candidate', ab.candidate]] as const) {
      const arm = arms.find((a) => a.name === name);
      expect(arm?.exposures).toBe(mine.requests);
      expect(Math.abs((arm?.metrics['ndcg@10'].value ?? -1) - mine.ndcg)).toBeLessThan(1e-9);
    }
    expect(ab.results.comparison.diff).toBeCloseTo(ab.candidate.ndcg - ab.control.ndcg, 9);

    const promoted = await admin('POST', `/admin/v1/experiments/${ab.id}/promote`, { arm: 'candidate' });
    expect(promoted.status).toBe(200);
    expect(json(promoted).activated).toBe(trained);
    const wave = await world.traffic(http, { domain: DOMAIN, perUser: 4 });
    const after = summarize(wave);
    console.log('[loop-world] after promotion:', after);
    expect(wave.every((s) => s.promptVersion === trained && s.experiment === null)).toBe(true);
    expect(after.ndcg).toBeGreaterThan(before.ndcg + 0.3);
    expect(after.latentNdcg).toBeGreaterThan(0.9);
  });
});
