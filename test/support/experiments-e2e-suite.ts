/**
 * The experiments end-to-end suite, run on a real redis-server (experiments-e2e.test.ts) and on the 3-master
 * cluster (experiments-cluster.test.ts), with the LLM double: an A/B test (baseline holdout against a pinned
 * AGP prompt) and an interleaving test over HTTP; simulated users click what they like; the per-arm results
 * must equal what the test computes itself from the responses it got and the events it sent, to 1e-9. Then
 * promotion, guardrail auto-stop and erasure. With two replicas, traffic alternates between them: the
 * running-experiment snapshot, the exposures and the sums are shared through Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildTestApp, type TestApp } from './build-test-app.js';
import { clicksOf, oracleArm, oracleTally, rerankBody, serve, simUsers, type Served } from './experiment-traffic.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { uniquePrefix } from '../../testkit/redis-server.js';
import { eventually } from '../../testkit/wait.js';

const TOKEN = 'experiments-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

/** Where the suite's Redis lives: env for the app (REDIS_URL or REDIS_CLUSTER_NODES), and how to stop it. */
export interface RedisTargetForSuite {
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Registers the suite; `replicas` API apps share the target. */
export function describeExperimentsEndToEnd(name: string, start: () => Promise<RedisTargetForSuite>, replicas = 1): void {
  let target: RedisTargetForSuite;
  let double: LlmDouble;
  let apps: TestApp[] = [];
  let t: TestApp;
  let turn = 0;
  /** The app the next rerank goes to (round robin over the replicas). */
  const next = (): FastifyInstance => (apps[turn++ % apps.length] as TestApp).app;

  beforeAll(async () => {
    [target, double] = await Promise.all([start(), startLlmDouble()]);
    const env = {
      ...target.env,
      REDIS_KEY_PREFIX: uniquePrefix('xe2e'),
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-test',
      LLM_MODEL: 'double-model',
      ADMIN_TOKEN: TOKEN,
      EXPERIMENT_LOOK_MS: '3600000',
      EXPERIMENT_POLL_MS: '200',
      PROMPT_REFRESH_MS: '200',
    };
    apps = await Promise.all(Array.from({ length: replicas }, () => buildTestApp({ jobs: false, env })));
    t = apps[0] as TestApp;
  });
  afterAll(async () => {
    await Promise.allSettled(apps.map((a) => a.close()));
    await double?.close();
    await target?.stop();
  });

  /** Every replica serves the experiment (their snapshots poll the store). */
  const everyReplicaSees = (domain: string, id: string | null) =>
    eventually(() => apps.every((a) => (a.container.experiments.running.forDomain(domain)?.record.id ?? null) === id), Boolean, { what: `replicas see ${id ?? 'no experiment'} in ${domain}` });

  const admin = (method: 'GET' | 'POST', url: string, payload?: object) => t.app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });

  async function importPrompt(domain: string, version: string): Promise<void> {
    const res = await admin('POST', '/admin/v1/prompts', { domain, version, text: `Describe what this user enjoys (${version}).`, historyLength: 4 });
    expect(res.statusCode).toBe(201);
  }

  /** Sends each served list's clicks (plus an impression, and the whole batch twice: a retry). */
  async function sendEvents(served: Served[]): Promise<{ accepted: number; duplicates: number }> {
    const events = served.flatMap((s) => [
      { requestId: s.requestId, itemId: s.ids[0], type: 'impression' },
      ...[...s.clicked].map((itemId) => ({ requestId: s.requestId, itemId, type: 'click' })),
    ]);
    const first = await t.app.inject({ method: 'POST', url: '/v1/events', payload: { events } });
    expect(first.statusCode).toBe(202);
    const retry = await t.app.inject({ method: 'POST', url: '/v1/events', payload: { events } });
    expect(retry.json()).toMatchObject({ accepted: 0, duplicates: events.length, unattributed: 0, rejected: [] });
    return first.json();
  }

  async function runTraffic(domain: string, users: number, perUser: number): Promise<Served[]> {
    const out: Served[] = [];
    for (const user of simUsers(users, `${domain}-u`)) {
      for (let k = 0; k < perUser; k++) {
        const s = await serve(next(), rerankBody(user, k, domain));
        s.clicked = clicksOf(user, s.requestId, s.ids, s.titles);
        out.push(s);
      }
    }
    return out;
  }

  /** The recorder's outcome counters of every replica (what a timeout should explain). */
  const recorderCounts = async () =>
    (await Promise.all(apps.map(async (a) => (await a.app.inject('/metrics')).body.split('\n').filter((l) => /^agp_exposures_recorded_total/.test(l)).join(' ')))).join(' | ');
  const waitForExposures = async (id: string, n: number) => {
    try {
      return await eventually(async () => (await admin('GET', `/admin/v1/experiments/${id}`)).json(), (j) => j.arms.reduce((a: number, b: { exposures: number }) => a + b.exposures, 0) >= n, {
        what: `${n} exposures recorded`,
        timeoutMs: 15_000,
      });
    } catch (err) {
      throw new Error(`${(err as Error).message}\nrecorder: ${await recorderCounts()}`);
    }
  };

  interface ArmJson {
    users: number;
    exposures: number;
    fallbackRate: number;
    metrics: Record<'ctr' | 'mrr' | 'ndcg@10', { value: number; ci95: [number, number] }>;
    baselineOrder: Record<'ctr' | 'mrr' | 'ndcg@10', { value: number; ci95: [number, number] }> & { label: string };
  }

  function expectArm(actual: ArmJson, expected: ReturnType<typeof oracleArm>): void {
    expect(actual.users).toBe(expected.users);
    expect(actual.exposures).toBe(expected.exposures);
    expect(actual.fallbackRate).toBeCloseTo(expected.fallbackRate, 9);
    for (const m of ['ctr', 'mrr', 'ndcg@10'] as const) {
      expect(Math.abs(actual.metrics[m].value - expected.served[m])).toBeLessThan(1e-9);
      expect(Math.abs(actual.baselineOrder[m].value - expected.baseline[m])).toBeLessThan(1e-9);
      const [lo, hi] = actual.metrics[m].ci95;
      expect(lo).toBeLessThanOrEqual(actual.metrics[m].value + 1e-12);
      expect(hi).toBeGreaterThanOrEqual(actual.metrics[m].value - 1e-12);
    }
    expect(actual.baselineOrder.label).toMatch(/counterfactual/);
  }

  describe(`experiments end to end: ${name}`, () => {
    it('A/B: assignment is stable, results equal the test’s own computation, promotion activates the winner', async () => {
      await importPrompt('movies', 'mv-2');
      const created = await admin('POST', '/admin/v1/experiments', {
        domain: 'movies',
        mode: 'ab',
        arms: [
          { name: 'control', method: 'baseline' },
          { name: 'agp-v2', method: 'agp', promptVersion: 'mv-2' },
        ],
      });
      expect(created.statusCode).toBe(201);
      const exp = created.json();
      expect(exp).toMatchObject({ state: 'running', mode: 'ab', trafficShare: 1 });
      const dup = await admin('POST', '/admin/v1/experiments', { domain: 'movies', mode: 'ab', arms: [{ name: 'a', method: 'baseline' }, { name: 'b', method: 'agp' }] });
      expect(dup.statusCode).toBe(409);
      expect(dup.json().error.code).toBe('EXPERIMENT_ALREADY_RUNNING');
      await everyReplicaSees('movies', exp.id);

      const served = await runTraffic('movies', 30, 3);
      // The same user always lands in the same arm, and the arm decides the method and version served.
      const armOf = new Map<string, string | null>();
      for (const s of served) {
        expect(s.experiment?.id).toBe(exp.id);
        const arm = s.experiment?.arm ?? null;
        if (armOf.has(s.userId)) expect(armOf.get(s.userId)).toBe(arm);
        armOf.set(s.userId, arm);
        if (arm === 'control') expect(s.llmCalls).toBe(0);
      }
      expect(new Set(armOf.values())).toEqual(new Set(['control', 'agp-v2']));

      await waitForExposures(exp.id, served.length);
      await sendEvents(served);
      const results = (await admin('GET', `/admin/v1/experiments/${exp.id}`)).json();
      for (const arm of ['control', 'agp-v2']) {
        expectArm(results.arms.find((a: { name: string }) => a.name === arm), oracleArm(served, arm, false));
      }
      const treat = served.filter((s) => s.experiment?.arm === 'agp-v2');
      const meanCalls = treat.reduce((a, s) => a + s.llmCalls, 0) / treat.length;
      expect(results.arms[1].llmCallsPerExposure).toBeCloseTo(meanCalls, 9);
      const c = oracleArm(served, 'control', false).served['ndcg@10'];
      const tr = oracleArm(served, 'agp-v2', false).served['ndcg@10'];
      expect(results.comparison.diff).toBeCloseTo(tr - c, 9);
      expect(tr).toBeGreaterThan(c); // the taste-aware arm ranks the liked items higher
      expect(['treatment', 'inconclusive']).toContain(results.comparison.decision);

      const promoted = await admin('POST', `/admin/v1/experiments/${exp.id}/promote`, { arm: 'agp-v2' });
      expect(promoted.statusCode).toBe(200);
      expect(promoted.json()).toMatchObject({ activated: 'mv-2', experiment: { state: 'stopped', stopReason: { kind: 'promoted', arm: 'agp-v2' } } });
      await everyReplicaSees('movies', null);
      for (const a of apps) {
        const raw = await eventually(
          async () => (await a.app.inject({ method: 'POST', url: '/v1/rerank', payload: rerankBody(simUsers(1, 'late')[0]!, 0, 'movies') })).json(),
          (j) => j.promptVersion === 'mv-2',
          { what: 'every replica serves the promoted version' },
        );
        expect(raw.experiment).toBeNull();
      }
    });

    it('interleaving: every list is a team-draft permutation, wins and per-arm values match the test’s', async () => {
      const exp = (
        await admin('POST', '/admin/v1/experiments', {
          domain: 'books',
          mode: 'interleave',
          arms: [
            { name: 'base', method: 'baseline' },
            { name: 'agp', method: 'agp' },
          ],
        })
      ).json();
      await everyReplicaSees('books', exp.id);
      const served = await runTraffic('books', 20, 2);
      for (const s of served) {
        expect(s.experiment).toEqual({ id: exp.id, arm: null });
        expect([...s.ids].sort()).toEqual([...s.baseline].sort());
        let [a, b] = [0, 0];
        for (const arm of s.arms) {
          if (arm === 'base') a++;
          else if (arm === 'agp') b++;
          else throw new Error(`item without an arm: ${String(arm)}`);
          expect(Math.abs(a - b)).toBeLessThanOrEqual(1);
        }
      }
      await waitForExposures(exp.id, 2 * served.length);
      await sendEvents(served);
      const results = (await admin('GET', `/admin/v1/experiments/${exp.id}`)).json();
      const tally = oracleTally(served, 'base', 'agp');
      expect(results.comparison).toMatchObject(tally);
      expect(tally.wins).toBeGreaterThan(tally.losses); // users who like what the AGP arm ranks first make it win
      for (const arm of ['base', 'agp']) expectArm(results.arms.find((a: { name: string }) => a.name === arm), oracleArm(served, arm, true));
      expect((await admin('POST', `/admin/v1/experiments/${exp.id}/stop`)).json().state).toBe('stopped');
      expect((await admin('POST', `/admin/v1/experiments/${exp.id}/stop`)).statusCode).toBe(409);
    });

    it('a guardrail breach stops the experiment and says why', async () => {
      const exp = (
        await admin('POST', '/admin/v1/experiments', {
          domain: 'music',
          mode: 'ab',
          arms: [
            { name: 'control', method: 'baseline' },
            { name: 'agp', method: 'agp' },
          ],
          guardrails: { maxFallbackRate: 0.1, minExposures: 3 },
        })
      ).json();
      await everyReplicaSees('music', exp.id);
      double.setMode('error500');
      try {
        // 30 users: the arms split at random by the experiment id, and the agp arm needs minExposures (3) of them
        // (P(fewer than 3 of 30) ≈ 5e-7; with 12 users it was 2% and failed once in CI).
        const served = await runTraffic('music', 30, 1);
        await waitForExposures(exp.id, served.length);
      } finally {
        double.setMode('ok');
      }
      await t.container.experiments.admin.look();
      const after = (await admin('GET', `/admin/v1/experiments/${exp.id}`)).json();
      expect(after.state, JSON.stringify(after.arms.map((a: { name: string; exposures: number; fallbackRate: number }) => [a.name, a.exposures, a.fallbackRate]))).toBe('stopped');
      expect(after.stopReason).toMatchObject({ kind: 'guardrail', arm: 'agp' });
      expect(after.stopReason.message).toMatch(/fallback rate/);
      const metrics = (await t.app.inject('/metrics')).body;
      expect(metrics).toMatch(/agp_experiment_stops_total\{reason="guardrail"\} 1/);
    });

    it('erasing a user removes its exposures: later events for its requests are unattributed', async () => {
      const user = simUsers(1, 'erase-me')[0]!;
      const s = await serve(t.app, rerankBody(user, 0, 'erasure'));
      await eventually(() => t.container.experiments.exposures.get(s.requestId), (x) => x !== null, { what: 'exposure stored' });
      const del = await t.app.inject({ method: 'DELETE', url: `/v1/users/${user.id}` });
      expect(del.statusCode).toBe(200);
      expect(del.json()).toMatchObject({ userId: user.id, exposures: 1 });
      const ev = await t.app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ requestId: s.requestId, itemId: s.ids[0], type: 'click' }] } });
      expect(ev.json()).toEqual({ accepted: 0, duplicates: 0, unattributed: 1, rejected: [] });
    });
  });
}
