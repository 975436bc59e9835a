/**
 * Shadow scoring end to end on a private redis-server with the LLM double and two API replicas: reranks answer
 * fast and unchanged while the candidate's calls are delayed 2 s; the candidate is scored off the path on
 * whichever replica served; the results equal the test's own computation from what it was served and what it
 * clicked; and the hourly LLM-call budget holds over both replicas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { candidateIds } from '../../src/experiments/shadow-scoring.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { clicksOf, oracleMetrics, rerankBody, serve, simUsers, type Served } from '../support/experiment-traffic.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';
import { eventually } from '../../testkit/wait.js';

const TOKEN = 'shadow-e2e-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const MARK = 'SHADOWMARK';
const DELAY_MS = 2_000;

let redis: RedisServerHandle;
let double: LlmDouble;
let apps: TestApp[] = [];

beforeAll(async () => {
  [redis, double] = await Promise.all([startRedisServer(), startLlmDouble()]);
  double.setLatency((call) => (call.messages.some((m) => m.content.includes(MARK)) ? DELAY_MS : 0));
  const env = {
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: uniquePrefix('she2e'),
    LLM_BASE_URL: double.url,
    LLM_API_KEY: 'sk-test',
    LLM_MODEL: 'double-model',
    ADMIN_TOKEN: TOKEN,
    EXPERIMENT_POLL_MS: '100',
  };
  apps = await Promise.all([0, 1].map(() => buildTestApp({ jobs: false, env })));
}, 60_000);
afterAll(async () => {
  await Promise.allSettled(apps.map((a) => a.close()));
  await double?.close();
  await redis?.stop();
});

const a = () => apps[0] as TestApp;
const admin = (method: 'GET' | 'POST', url: string, payload?: object) => a().app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
const replicasSee = (domain: string, id: string) =>
  eventually(() => apps.every((t) => t.container.experiments.running.forDomain(domain)?.record.id === id), Boolean, { what: `both replicas see ${id}` });
const flushAll = () => Promise.all(apps.map((t) => Promise.all([t.container.experiments.recorder.flush(), t.container.experiments.shadow.flush()])));

async function startShadow(domain: string, shadow: object): Promise<string> {
  expect((await admin('POST', '/admin/v1/prompts', { domain, version: 'cand', text: `${MARK}: describe what this user enjoys.`, historyLength: 4 })).statusCode).toBe(201);
  const res = await admin('POST', '/admin/v1/experiments', { domain, mode: 'shadow', arms: [{ name: 'cand', method: 'agp', promptVersion: 'cand' }], shadow });
  expect(res.statusCode).toBe(201);
  const id = res.json().id as string;
  await replicasSee(domain, id);
  return id;
}

describe('shadow scoring end to end: one redis-server, two replicas', () => {
  it('never serves or slows the candidate; its scores equal the test’s own computation', async () => {
    const id = await startShadow('movies', { maxConcurrency: 16 });
    const served: Served[] = [];
    let turn = 0;
    for (const user of simUsers(8, 'shadow-u')) {
      for (let k = 0; k < 2; k++) {
        const app: FastifyInstance = (apps[turn++ % 2] as TestApp).app;
        const started = Date.now();
        const s = await serve(app, { ...rerankBody(user, k, 'movies'), method: 'baseline' });
        expect(Date.now() - started).toBeLessThan(DELAY_MS / 2);
        expect(s.experiment).toBeNull();
        expect(s.ids).toEqual(s.baseline); // baseline served, exactly as asked
        s.clicked = clicksOf(user, s.requestId, s.ids, s.titles, 10);
        served.push(s);
      }
    }
    await Promise.all(apps.map((t) => t.container.experiments.recorder.flush()));
    const events = served.flatMap((s) => [...s.clicked].map((itemId) => ({ requestId: s.requestId, itemId, type: 'click' })));
    expect(events.length).toBeGreaterThan(5);
    expect((await a().app.inject({ method: 'POST', url: '/v1/events', payload: { events } })).json()).toMatchObject({ accepted: events.length, unattributed: 0 });
    await flushAll();

    const sh = (await admin('GET', `/admin/v1/experiments/${id}`)).json().shadow;
    expect(sh).toMatchObject({ scored: served.length, skipped: { budget: 0, queueFull: 0, failed: 0 }, retained: served.length });
    const { records } = await a().container.experiments.shadowStore.read(id);
    const byId = new Map(records.map((r) => [r.requestId, r]));
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    const tau = (x: readonly string[], y: readonly string[]) => {
      let s = 0;
      for (let i = 0; i < x.length; i++) for (let j = i + 1; j < x.length; j++) s += Math.sign(y.indexOf(x[j] as string) - y.indexOf(x[i] as string));
      return s / ((x.length * (x.length - 1)) / 2);
    };
    for (const s of served) expect(byId.get(s.requestId)?.served).toEqual(s.ids);
    const candidate = (s: Served) => candidateIds(byId.get(s.requestId) as NonNullable<ReturnType<typeof byId.get>>);
    expect(Math.abs(sh.agreement.kendallTau.value - mean(served.map((s) => tau(s.ids, candidate(s)))))).toBeLessThan(1e-9);
    expect(sh.counterfactual).toMatchObject({ biased: true, exposures: served.length, exposuresWithPositives: served.filter((s) => s.clicked.size > 0).length });
    for (const m of ['ctr', 'mrr', 'ndcg@10'] as const) {
      expect(Math.abs(sh.counterfactual.served[m].value - mean(served.map((s) => oracleMetrics(s.ids, s.clicked)[m])))).toBeLessThan(1e-9);
      expect(Math.abs(sh.counterfactual.candidate[m].value - mean(served.map((s) => oracleMetrics(candidate(s), s.clicked)[m])))).toBeLessThan(1e-9);
    }
    // The baseline puts the 3 liked items of 10 last; the taste-aware candidate moves them first (21 of 45 pairs flip).
    expect(sh.agreement.kendallTau.value).toBeLessThan(0.5);
    expect(sh.counterfactual.candidate['ndcg@10'].value).toBeGreaterThan(sh.counterfactual.served['ndcg@10'].value);
    // Shadow is not served and counts in no A/B sum.
    for (const s of served) expect((await a().container.experiments.exposures.get(s.requestId))?.experiment).toBeNull();
    expect(await a().container.experiments.exposures.readSums(id)).toEqual({});
  }, 60_000);

  it('the hourly LLM-call budget holds over both replicas', async () => {
    double.setLatency(0);
    const id = await startShadow('books', { maxConcurrency: 1, llmCallsPerHour: 4 });
    for (let i = 0; i < 10; i++) {
      await serve((apps[i % 2] as TestApp).app, { ...rerankBody(simUsers(10, 'budget-u')[i]!, 0, 'books'), method: 'baseline' });
      await flushAll();
    }
    const sh = (await admin('GET', `/admin/v1/experiments/${id}`)).json().shadow;
    // Two calls a rerank (profile, rerank): one rerank on each replica spends the 4, the other 8 are skipped.
    expect(sh).toMatchObject({ scored: 2, llmCalls: 4, skipped: { budget: 8, queueFull: 0, failed: 0 } });
  }, 60_000);
});
