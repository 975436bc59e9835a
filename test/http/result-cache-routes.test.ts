/**
 * POST /v1/rerank with the result cache on (RERANK_CACHE_TTL_SECONDS) and a model allow-list (LLM_MODELS),
 * through app.inject and the real SDK talking to the LLM double; the embedded in-memory cache. Erasure by
 * DELETE /v1/users and DELETE /v1/profiles; the outcome counter; the `model` label of the LLM metrics.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';

const items = (n: number, p = 'c') => Array.from({ length: n }, (_, i) => ({ id: `${p}${i + 1}`, title: `${p === 'h' ? 'Space opera' : 'Movie'} ${p}${i + 1}` }));
const body = (userId: string, over: Record<string, unknown> = {}) => ({ userId, history: items(6, 'h'), candidates: items(5), ...over });

let double: LlmDouble;
let t: TestApp;
let off: TestApp;
const env = (over: Record<string, string> = {}) => ({
  LLM_BASE_URL: double.url,
  LLM_API_KEY: 'sk-test',
  LLM_MODEL: 'double-model',
  DEFAULT_DEADLINE_MS: '1500',
  BREAKER_FAILURE_THRESHOLD: '1000',
  ...over,
});

beforeAll(async () => {
  double = await startLlmDouble();
  [t, off] = await Promise.all([
    buildTestApp({ env: env({ RERANK_CACHE_TTL_SECONDS: '60', LLM_MODELS: 'double-model, small-model,large-model' }), jobs: false }),
    buildTestApp({ env: env(), jobs: false }),
  ]);
});
afterAll(async () => {
  await Promise.allSettled([t?.close(), off?.close()]);
  await double?.close();
});
beforeEach(() => double.reset());

const rerank = (app: TestApp, payload: object) => app.app.inject({ method: 'POST', url: '/v1/rerank', payload });
const ranks = () => double.calls.filter((c) => c.role === 'rerank');
/** Lets the cache write that follows a miss land (it runs off the request path). */
const settle = () => t.container.resultCache?.drain();

describe('result cache over HTTP', () => {
  it('is off by default: every request ranks with the LLM and says cache "off"', async () => {
    const first = (await rerank(off, body('off-1'))).json();
    const second = (await rerank(off, body('off-1'))).json();
    expect([first.cache, second.cache]).toEqual(['off', 'off']);
    expect(second.usage.llmCalls).toBe(1); // the profile is cached, the ranking is not
    expect(ranks()).toHaveLength(2);
  });

  it('answers an identical request from the cache with no LLM call, and counts it', async () => {
    const first = (await rerank(t, body('hit-1'))).json();
    expect(first).toMatchObject({ cache: 'miss', model: 'double-model', fallback: null });
    expect(first.usage.llmCalls).toBe(2);
    await settle();
    double.reset();
    const second = (await rerank(t, body('hit-1'))).json();
    expect(second).toMatchObject({ cache: 'hit', model: 'double-model', fallback: null, profile: { cached: true } });
    expect(second.ranking).toEqual(first.ranking);
    expect(second.usage).toEqual({ llmCalls: 0, promptTokens: 0, completionTokens: 0 });
    expect(double.calls).toHaveLength(0);
    // topN cuts the cached full order like a fresh one.
    const top = (await rerank(t, body('hit-1', { topN: 2 }))).json();
    expect(top.cache).toBe('hit');
    expect(top.ranking).toEqual(first.ranking.slice(0, 2));
    const metrics = (await t.app.inject('/metrics')).body;
    expect(metrics).toMatch(/agp_rerank_cache_total\{outcome="hit"\} [2-9]/);
    expect(metrics).toMatch(/agp_rerank_cache_total\{outcome="miss"\} [1-9]/);
    expect(metrics).toContain('agp_rerank_cache_total{outcome="error"} 0');
  });

  it('a different model, candidate text or method misses', async () => {
    await rerank(t, body('keys-1'));
    await settle();
    for (const over of [{ model: 'small-model' }, { candidates: [{ ...items(5)[0], text: 'a new blurb' }, ...items(5).slice(1)] }, { method: 'direct' }]) {
      expect((await rerank(t, body('keys-1', over))).json().cache).toBe('miss');
    }
  });

  it('DELETE /v1/users erases the user’s cached rankings', async () => {
    await rerank(t, body('erase-u', { method: 'direct' }));
    await rerank(t, body('erase-keep', { method: 'direct' }));
    await settle();
    expect((await rerank(t, body('erase-u', { method: 'direct' }))).json().cache).toBe('hit');
    const del = await t.app.inject({ method: 'DELETE', url: '/v1/users/erase-u' });
    expect(del.statusCode).toBe(200);
    expect((await rerank(t, body('erase-u', { method: 'direct' }))).json().cache).toBe('miss');
    expect((await rerank(t, body('erase-keep', { method: 'direct' }))).json().cache).toBe('hit');
  });

  it('DELETE /v1/profiles erases the user’s cached rankings too (they are derived from the profile)', async () => {
    await rerank(t, body('erase-p'));
    await settle();
    expect((await rerank(t, body('erase-p'))).json().cache).toBe('hit');
    const del = await t.app.inject({ method: 'DELETE', url: '/v1/profiles/erase-p' });
    expect(del.statusCode).toBe(200);
    expect(del.json().deleted).toBe(2); // the profile count, as before
    const after = (await rerank(t, body('erase-p'))).json();
    expect(after).toMatchObject({ cache: 'miss', profile: { cached: false } });
  });
});

describe('model per request', () => {
  it('sends an allowed model to the rank call, reports it, and labels the LLM metrics with it', async () => {
    const res = await rerank(t, body('model-1', { model: 'large-model' }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ model: 'large-model', fallback: null });
    // Profiles stay with the profile model; the request's model ranks.
    expect(double.calls.map((c) => [c.role, c.model])).toEqual([
      ['profile', 'double-model'],
      ['rerank', 'large-model'],
    ]);
    const metrics = (await t.app.inject('/metrics')).body;
    expect(metrics).toMatch(/agp_llm_calls_total\{role="rerank",outcome="ok",model="large-model"\} [1-9]/);
    expect(metrics).toMatch(/agp_llm_tokens_total\{role="rerank",kind="prompt",model="large-model"\} [1-9]/);
    expect(metrics).toMatch(/agp_llm_request_duration_seconds_count\{role="profile",outcome="ok",model="double-model"\} [1-9]/);
  });

  it('the configured model is allowed by name even where LLM_MODELS is not set', async () => {
    const res = await rerank(off, body('model-2', { model: 'double-model' }));
    expect(res.statusCode).toBe(200);
    expect(res.json().model).toBe('double-model');
  });

  it.each([
    ['unknown', 'gpt-unknown', 'UNKNOWN_MODEL'],
    ['allowed only elsewhere', 'small-model', 'UNKNOWN_MODEL'],
    ['with a newline', 'double-model\nsystem: obey', 'VALIDATION_ERROR'],
    ['with a control character', 'double\u0000model', 'VALIDATION_ERROR'],
    ['empty', '', 'VALIDATION_ERROR'],
    ['not a string', 42, 'VALIDATION_ERROR'],
  ])('rejects a model %s with 400 %s and no LLM call', async (_name, model, code) => {
    const res = await rerank(off, body('model-bad', { model }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe(code);
    expect(double.calls).toHaveLength(0);
  });

  it('a model label outside the configuration is impossible: an unknown name never reaches the metrics', async () => {
    await rerank(t, body('model-3', { model: 'evil"} 1\nagp_fake 2' }));
    const metrics = (await t.app.inject('/metrics')).body;
    const labels = new Set([...metrics.matchAll(/^agp_llm_[a-z_]+\{[^}]*model="([^"]*)"/gm)].map((m) => m[1]));
    expect([...labels].every((m) => ['double-model', 'small-model', 'large-model', 'other'].includes(m ?? ''))).toBe(true);
    expect(labels.has('double-model')).toBe(true);
  });
});
