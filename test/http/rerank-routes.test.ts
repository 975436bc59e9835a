/**
 * POST /v1/rerank and DELETE /v1/profiles through app.inject, with the real SDK talking to the LLM double.
 * No Redis here: the embedded in-memory cache.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';

const items = (n: number, p = 'c') => Array.from({ length: n }, (_, i) => ({ id: `${p}${i + 1}`, title: `${p === 'h' ? 'Space opera' : 'Movie'} ${p}${i + 1}` }));
const body = (over: Record<string, unknown> = {}) => ({ userId: 'user-1', history: items(6, 'h'), candidates: items(5), ...over });

let double: LlmDouble;
let t: TestApp;

beforeAll(async () => {
  double = await startLlmDouble();
  t = await buildTestApp({
    env: { LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-test-secret', LLM_MODEL: 'double-model', DEFAULT_DEADLINE_MS: '1500', BREAKER_FAILURE_THRESHOLD: '1000' },
  });
});
afterAll(async () => {
  await t?.close();
  await double?.close();
});
beforeEach(() => double.reset());

async function rerank(payload: unknown) {
  return t.app.inject({ method: 'POST', url: '/v1/rerank', payload: payload as object });
}

function expectPermutation(ranking: Array<{ id: string; rank: number; baseRank: number }>, ids: string[]) {
  expect(ranking.map((r) => r.id).sort()).toEqual([...ids].sort());
  ranking.forEach((r, i) => {
    expect(r.rank).toBe(i + 1);
    expect(ids[r.baseRank - 1]).toBe(r.id);
  });
}

describe('POST /v1/rerank', () => {
  it('reranks with a profile and reports usage, version and timings', async () => {
    const res = await rerank(body({ userId: 'agp-1', includeProfile: true }));
    expect(res.statusCode).toBe(200);
    const json = res.json();
    expectPermutation(json.ranking, items(5).map((c) => c.id));
    expect(json).toMatchObject({ method: 'agp', promptVersion: 'builtin-v0', fallback: null, repaired: false });
    expect(json.profile.cached).toBe(false);
    expect(typeof json.profile.text).toBe('string');
    expect(json.usage.llmCalls).toBe(2);
    expect(json.usage.promptTokens).toBeGreaterThan(0);
    expect(json.requestId).toBe(res.headers['x-request-id']);
    expect(double.calls.map((c) => c.role)).toEqual(['profile', 'rerank']);
    expect(double.calls[0]?.headers.authorization).toBe('Bearer sk-test-secret');
  });

  it('hits the profile cache on the second call: exactly one LLM call', async () => {
    await rerank(body({ userId: 'agp-2' }));
    double.reset();
    const json = (await rerank(body({ userId: 'agp-2' }))).json();
    expect(json.profile).toEqual({ cached: true });
    expect(json.usage.llmCalls).toBe(1);
    expect(double.calls).toHaveLength(1);
  });

  it('cuts to topN and keeps baseRank', async () => {
    const json = (await rerank(body({ topN: 2, method: 'direct' }))).json();
    expect(json.ranking).toHaveLength(2);
    expect(json.profile).toBeNull();
  });

  it('baseline makes no LLM call', async () => {
    const json = (await rerank(body({ method: 'baseline' }))).json();
    expect(json.ranking.map((r: { id: string }) => r.id)).toEqual(items(5).map((c) => c.id));
    expect(json.fallback).toBeNull();
    expect(double.calls).toHaveLength(0);
  });

  it.each([
    ['error500', 'llm_error'],
    ['hang', 'timeout'],
    ['junk', 'unparseable'],
    ['partial', 'unparseable'],
  ] as const)('LLM %s becomes fallback %s with the baseline order, never a 5xx', async (mode, reason) => {
    double.setMode(mode);
    const started = Date.now();
    const res = await rerank(body({ method: 'direct', deadlineMs: 300 }));
    expect(res.statusCode).toBe(200);
    const json = res.json();
    expect(json.fallback).toEqual({ reason });
    expect(json.ranking.map((r: { id: string }) => r.id)).toEqual(items(5).map((c) => c.id));
    expect(Date.now() - started).toBeLessThan(300 + 250);
  });

  it('a repairable answer is used and flagged', async () => {
    double.setMode('repairable');
    const json = (await rerank(body({ method: 'cot' }))).json();
    expect(json.fallback).toBeNull();
    expect(json.repaired).toBe(true);
    expectPermutation(json.ranking, items(5).map((c) => c.id));
  });

  it('rejects duplicate candidate ids with a coded 400', async () => {
    const res = await rerank(body({ candidates: [{ id: 'a', title: 'A' }, { id: 'a', title: 'B' }] }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'DUPLICATE_CANDIDATE_ID', requestId: res.headers['x-request-id'] });
  });

  it.each([
    [{ userId: '' }],
    [{ candidates: [] }],
    [{ candidates: items(101) }],
    [{ history: items(201, 'h') }],
    [{ method: 'magic' }],
    [{ topN: 0 }],
    [{ domain: '../etc' }],
  ])('rejects invalid input %j with VALIDATION_ERROR', async (over) => {
    const res = await rerank(body(over));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_ERROR');
  });

  it('accepts a title longer than the prompt cap and truncates it in the prompt', async () => {
    const long = 'x'.repeat(3000);
    const res = await rerank(body({ method: 'direct', candidates: [{ id: 'a', title: long }, { id: 'b', title: 'B' }] }));
    expect(res.statusCode).toBe(200);
    const prompt = double.calls[0]!.messages.map((m) => m.content).join('\n');
    expect(prompt).not.toContain(long);
  });

  it('answers 413 with a code for an oversized body', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/rerank', headers: { 'content-type': 'application/json' }, payload: '{"x":"' + 'a'.repeat(1_100_000) + '"}' });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers 400 INVALID_JSON for malformed JSON', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/rerank', headers: { 'content-type': 'application/json' }, payload: '{"userId":' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_JSON');
  });
});

describe('DELETE /v1/profiles/:userId', () => {
  it('erases cached profiles so the next request regenerates', async () => {
    await rerank(body({ userId: 'erase-me' }));
    await rerank(body({ userId: 'erase-me', domain: 'books' }));
    const del = await t.app.inject({ method: 'DELETE', url: '/v1/profiles/erase-me' });
    expect(del.statusCode).toBe(200);
    expect(del.json().deleted).toBeGreaterThanOrEqual(2);
    double.reset();
    const json = (await rerank(body({ userId: 'erase-me' }))).json();
    expect(json.profile.cached).toBe(false);
    expect(double.calls.map((c) => c.role)).toContain('profile');
  });
});

describe('ops endpoints', () => {
  it('healthz, readyz, openapi.json, docs', async () => {
    expect((await t.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks).toEqual({ redis: 'not_configured', prompts: 'loaded', llm: 'configured' });
    expect((await t.app.inject('/openapi.json')).json().paths['/v1/rerank']).toBeDefined();
    const docs = await t.app.inject('/docs/');
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('unknown routes get a coded 404', async () => {
    const res = await t.app.inject('/nope');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('metrics expose reranks, fallbacks, cache, parse and LLM series', async () => {
    double.setMode('ok');
    await rerank(body({ userId: 'metrics-1' }));
    const text = (await t.app.inject('/metrics')).body;
    expect(text).toMatch(/agp_rerank_total\{method="agp",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/agp_rerank_fallbacks_total\{reason="llm_error"\} [1-9]/);
    expect(text).toMatch(/agp_profile_cache_total\{outcome="miss"\} [1-9]/);
    expect(text).toMatch(/agp_parse_total\{outcome="ok"\} [1-9]/);
    expect(text).toMatch(/agp_llm_calls_total\{role="profile",outcome="ok",model="double-model"\} [1-9]/);
    expect(text).toMatch(/agp_llm_tokens_total\{role="rerank",kind="prompt",model="double-model"\} [1-9]/);
    expect(text).toContain('agp_prompt_active_info{domain="default",version="builtin-v0"} 1');
    expect(text).toMatch(/agp_http_request_duration_seconds_count\{route="\/v1\/rerank",method="POST",status_code="200"\} [1-9]/);
    expect(text).not.toContain('metrics-1');
  });
});
