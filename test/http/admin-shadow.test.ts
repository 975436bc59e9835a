/**
 * Shadow experiments over HTTP on the embedded stores with the LLM double: bad definitions are refused with
 * 400, a shadow experiment holds its domain like any other, every rerank is answered as if there were none
 * (and BEFORE the candidate's delayed LLM calls even return), and the results report what was scored, with the
 * counterfactual equal to the test's own computation from the stored records and the clicks it sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candidateIds } from '../../src/experiments/shadow-scoring.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { oracleMetrics } from '../support/experiment-traffic.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { eventually } from '../../testkit/wait.js';

const TOKEN = 'admin-shadow-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
/** In the candidate prompt only: the double delays every call that carries it. */
const MARK = 'SHADOWMARK';
const SHADOW_DELAY_MS = 2_000;

let t: TestApp;
let double: LlmDouble;
beforeAll(async () => {
  double = await startLlmDouble();
  double.setLatency((call) => (call.messages.some((m) => m.content.includes(MARK)) ? SHADOW_DELAY_MS : 0));
  t = await buildTestApp({
    jobs: false,
    env: { ADMIN_TOKEN: TOKEN, LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-test', LLM_MODEL: 'double-model', EXPERIMENT_POLL_MS: '100' },
  });
  for (const [domain, version] of [['sh-movies', 'cand'], ['sh-budget', 'cand']] as const) {
    const res = await admin('POST', '/admin/v1/prompts', { domain, version, text: `${MARK}: describe what this user enjoys, in a few words.`, historyLength: 4 });
    expect(res.statusCode).toBe(201);
  }
});
afterAll(async () => {
  await t?.close();
  await double?.close();
});

function admin(method: 'GET' | 'POST', url: string, payload?: object) {
  return t.app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
}
const shadowBody = (domain: string, over: object = {}) => ({ domain, mode: 'shadow', arms: [{ name: 'cand', method: 'agp', promptVersion: 'cand' }], ...over });
const candidates = Array.from({ length: 6 }, (_, i) => ({ id: `m${i}`, title: i % 2 ? `space opera ${i}` : `cooking show ${i}` }));
const history = [0, 1, 2, 3].map((i) => ({ id: `h${i}`, title: `space saga ${i}` }));
const sees = (domain: string, id: string | null) =>
  eventually(() => t.container.experiments.running.forDomain(domain)?.record.id ?? null, (x) => x === id, { what: `the replica sees ${id ?? 'nothing'} in ${domain}` });

describe('shadow experiments', () => {
  it('refuses bad definitions with 400', async () => {
    const cases: Array<[object, string]> = [
      [shadowBody('bad', { arms: [{ name: 'a', method: 'agp' }, { name: 'b', method: 'direct' }] }), 'VALIDATION_ERROR'],
      [shadowBody('bad', { arms: [] }), 'VALIDATION_ERROR'],
      [shadowBody('bad', { shadow: { maxConcurrency: 0 } }), 'VALIDATION_ERROR'],
      [shadowBody('bad', { shadow: { maxConcurrency: 65 } }), 'VALIDATION_ERROR'],
      [shadowBody('bad', { shadow: { maxConcurrency: 1.5 } }), 'VALIDATION_ERROR'],
      [shadowBody('bad', { shadow: { llmCallsPerHour: 0 } }), 'VALIDATION_ERROR'],
      [shadowBody('bad', { shadow: { llmCallsPerHour: 1_000_001 } }), 'VALIDATION_ERROR'],
      [shadowBody('bad', { trafficShare: 0 }), 'VALIDATION_ERROR'],
      [shadowBody('bad', { arms: [{ name: 'a', method: 'agp', promptVersion: 'nope' }] }), 'UNKNOWN_PROMPT_VERSION'],
      [{ ...shadowBody('bad'), mode: 'canary' }, 'VALIDATION_ERROR'],
    ];
    for (const [body, code] of cases) {
      const res = await admin('POST', '/admin/v1/experiments', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe(code);
    }
    expect((await admin('GET', '/admin/v1/experiments?domain=bad')).json().experiments).toEqual([]);
  });

  it('serves as if there were no experiment, answers before the candidate’s calls return, and scores off the path', async () => {
    const created = await admin('POST', '/admin/v1/experiments', shadowBody('sh-movies', { shadow: { maxConcurrency: 8 } }));
    expect(created.statusCode).toBe(201);
    const exp = created.json();
    expect(exp).toMatchObject({ mode: 'shadow', trafficShare: 1, guardrails: {}, shadow: { maxConcurrency: 8, llmCallsPerHour: 1000 }, state: 'running' });
    // One running experiment per domain, shadow included.
    const busy = await admin('POST', '/admin/v1/experiments', { domain: 'sh-movies', mode: 'ab', arms: [{ name: 'a', method: 'baseline' }, { name: 'b', method: 'agp' }] });
    expect([busy.statusCode, busy.json().error.code]).toEqual([409, 'EXPERIMENT_ALREADY_RUNNING']);
    await sees('sh-movies', exp.id);

    const served: Array<{ requestId: string; ids: string[] }> = [];
    for (let i = 0; i < 6; i++) {
      const started = Date.now();
      const res = await t.app.inject({ method: 'POST', url: '/v1/rerank', payload: { userId: `sh-u${i}`, history, candidates, domain: 'sh-movies', method: 'agp', topN: 4 } });
      const took = Date.now() - started;
      expect(res.statusCode).toBe(200);
      const json = res.json();
      // Served by the active prompt, not the candidate; nothing says an experiment ran.
      expect(json).toMatchObject({ experiment: null, method: 'agp', promptVersion: expect.not.stringMatching(/^cand$/) });
      expect(took).toBeLessThan(SHADOW_DELAY_MS / 2);
      served.push({ requestId: json.requestId, ids: json.ranking.map((r: { id: string }) => r.id) });
    }
    // Every answer is out; the candidate's first (delayed) calls are still running.
    expect((await admin('GET', `/admin/v1/experiments/${exp.id}`)).json().shadow.scored).toBe(0);
    expect(double.calls.some((c) => c.messages.some((m) => m.content.includes(MARK)))).toBe(true);

    await t.container.experiments.recorder.flush();
    for (const s of served) expect((await t.container.experiments.exposures.get(s.requestId))?.experiment).toBeNull();
    // Users click the first served item of every other list.
    const clicked = new Map(served.filter((_, i) => i % 2 === 0).map((s) => [s.requestId, s.ids[0] as string]));
    const ev = await t.app.inject({ method: 'POST', url: '/v1/events', payload: { events: [...clicked].map(([requestId, itemId]) => ({ requestId, itemId, type: 'click' })) } });
    expect(ev.json()).toMatchObject({ accepted: clicked.size, unattributed: 0 });

    await t.container.experiments.shadow.flush();
    const results = (await admin('GET', `/admin/v1/experiments/${exp.id}`)).json();
    expect(results).toMatchObject({ id: exp.id, mode: 'shadow', arms: [], comparison: null, guardrailBreaches: [] });
    const sh = results.shadow;
    expect(sh).toMatchObject({ arm: { name: 'cand', method: 'agp', promptVersion: 'cand' }, maxConcurrency: 8, scored: 6, skipped: { budget: 0, queueFull: 0, failed: 0 }, retained: 6 });
    expect(sh.llmCalls).toBeGreaterThanOrEqual(12); // a profile and a rerank call each
    // The test's own computation from the stored records: tau from pair counts, metrics from its own code.
    const { records } = await t.container.experiments.shadowStore.read(exp.id);
    expect(new Map(records.map((r) => [r.requestId, r.served]))).toEqual(new Map(served.map((s) => [s.requestId, s.ids])));
    const pairTau = (a: string[], b: string[]) => {
      let s = 0;
      for (let i = 0; i < a.length; i++) for (let j = i + 1; j < a.length; j++) s += Math.sign(b.indexOf(a[j] as string) - b.indexOf(a[i] as string));
      return s / ((a.length * (a.length - 1)) / 2);
    };
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(sh.agreement.kendallTau.value).toBeCloseTo(mean(records.map((r) => pairTau([...r.served], candidateIds(r)))), 9);
    expect(sh.counterfactual).toMatchObject({ biased: true, exposures: 6, exposuresWithPositives: 3, note: expect.stringMatching(/^biased: /) });
    for (const m of ['ctr', 'mrr', 'ndcg@10'] as const) {
      const pos = (id: string) => new Set(clicked.has(id) ? [clicked.get(id) as string] : []);
      expect(sh.counterfactual.served[m].value).toBeCloseTo(mean(records.map((r) => oracleMetrics(r.served, pos(r.requestId))[m])), 9);
      expect(sh.counterfactual.candidate[m].value).toBeCloseTo(mean(records.map((r) => oracleMetrics(candidateIds(r), pos(r.requestId))[m])), 9);
    }
    // No A/B sums were written for it: shadow never counts in them.
    expect(await t.container.experiments.exposures.readSums(exp.id)).toEqual({});
    const metrics = (await t.app.inject('/metrics')).body;
    expect(metrics).toMatch(/agp_shadow_scores_total\{outcome="scored"\} 6/);
    expect(metrics).toMatch(/agp_experiment_running\{domain="sh-movies",experiment="[^"]+",mode="shadow"\} 1/);

    // An erased user's exposure is gone: its record drops out of the counterfactual (the records hold no user id).
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/users/sh-u0' })).json()).toMatchObject({ exposures: 1 });
    const afterErasure = (await admin('GET', `/admin/v1/experiments/${exp.id}`)).json().shadow;
    expect(afterErasure).toMatchObject({ scored: 6, retained: 6, counterfactual: { exposures: 5, exposuresWithPositives: 2 } });

    const promote = await admin('POST', `/admin/v1/experiments/${exp.id}/promote`, { arm: 'cand' });
    expect([promote.statusCode, promote.json().error.message]).toEqual([400, expect.stringMatching(/shadow experiment/)]);
    expect((await admin('POST', `/admin/v1/experiments/${exp.id}/stop`)).json()).toMatchObject({ state: 'stopped', mode: 'shadow' });
    await sees('sh-movies', null);
    await t.app.inject({ method: 'POST', url: '/v1/rerank', payload: { userId: 'after-stop', history, candidates, domain: 'sh-movies', method: 'agp' } });
    await t.container.experiments.shadow.flush();
    expect((await admin('GET', `/admin/v1/experiments/${exp.id}`)).json().shadow.scored).toBe(6);
  }, 30_000);

  it('stops scoring at the hourly LLM-call budget and counts the rest as skipped', async () => {
    double.setLatency(0);
    const exp = (await admin('POST', '/admin/v1/experiments', shadowBody('sh-budget', { shadow: { maxConcurrency: 1, llmCallsPerHour: 1 } }))).json();
    await sees('sh-budget', exp.id);
    for (let i = 0; i < 5; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/rerank', payload: { userId: `b-u${i}`, history, candidates, domain: 'sh-budget', method: 'baseline' } });
      expect(res.json().experiment).toBeNull();
      await t.container.experiments.shadow.flush();
    }
    const sh = (await admin('GET', `/admin/v1/experiments/${exp.id}`)).json().shadow;
    // The first rerank spends the budget (its profile and rerank calls); the other four are skipped.
    expect(sh).toMatchObject({ scored: 1, skipped: { budget: 4, queueFull: 0, failed: 0 } });
    expect(sh.llmCalls).toBeGreaterThanOrEqual(1);
  });

  it('a failing candidate opens its own breaker, never serving’s', async () => {
    const domain = 'sh-breaker';
    expect((await admin('POST', '/admin/v1/prompts', { domain, version: 'cand', text: `${MARK}: describe the user.`, historyLength: 4 })).statusCode).toBe(201);
    const exp = (await admin('POST', '/admin/v1/experiments', shadowBody(domain, { shadow: { maxConcurrency: 1 } }))).json();
    await sees(domain, exp.id);
    double.reset();
    // Baseline serving makes no LLM call: every failure below goes to the candidate, well past BREAKER_FAILURE_THRESHOLD (5).
    double.failNext(200, 'error500');
    for (let i = 0; i < 8; i++) {
      await t.app.inject({ method: 'POST', url: '/v1/rerank', payload: { userId: `br-u${i}`, history, candidates, domain, method: 'baseline' } });
      await t.container.experiments.shadow.flush();
    }
    expect((await admin('GET', `/admin/v1/experiments/${exp.id}`)).json().shadow).toMatchObject({ scored: 0, skipped: { failed: 8 } });
    double.reset();
    const served = (await t.app.inject({ method: 'POST', url: '/v1/rerank', payload: { userId: 'br-after', history, candidates, domain, method: 'agp' } })).json();
    expect(served).toMatchObject({ fallback: null, experiment: null });
    expect((await t.app.inject('/metrics')).body).toMatch(/^agp_llm_circuit_state 0$/m);
  }, 60_000);
});
