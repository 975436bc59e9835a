/**
 * POST /v1/rerank with `shuffles`: validation, per-domain defaults, the server cap, `ranking[i].score`,
 * `agreement` and `passes`, through app.inject with the real SDK talking to the LLM double.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';

const items = (n: number, p = 'c') => Array.from({ length: n }, (_, i) => ({ id: `${p}${i + 1}`, title: `${p === 'h' ? 'Space opera' : 'Movie'} ${p}${i + 1}` }));
const body = (over: Record<string, unknown> = {}) => ({ userId: 'user-1', history: items(6, 'h'), candidates: items(6), method: 'direct', ...over });

interface Ranked { id: string; rank: number; baseRank: number; score: number }

let double: LlmDouble;
let t: TestApp;

beforeAll(async () => {
  double = await startLlmDouble();
  t = await buildTestApp({
    env: {
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-test-secret',
      LLM_MODEL: 'double-model',
      DEFAULT_DEADLINE_MS: '1500',
      BREAKER_FAILURE_THRESHOLD: '1000',
      RERANK_SHUFFLES_DOMAINS: 'movies=2,books=5',
      RERANK_SHUFFLES_MAX: '4',
    },
  });
});
afterAll(async () => {
  await t?.close();
  await double?.close();
});
beforeEach(() => double.reset());

const rerank = (payload: unknown) => t.app.inject({ method: 'POST', url: '/v1/rerank', payload: payload as object });
const rankCalls = () => double.calls.filter((c) => c.role === 'rerank').length;

describe('POST /v1/rerank shuffles', () => {
  it.each([[0], [6], [2.5], ['3'], [null]])('rejects shuffles %j with VALIDATION_ERROR', async (shuffles) => {
    const res = await rerank(body({ shuffles }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_ERROR');
    expect(double.calls).toHaveLength(0);
  });

  it('one pass by default: position scores, null agreement, scores descending with rank', async () => {
    const res = await rerank(body());
    expect(res.statusCode).toBe(200);
    const json = res.json() as { ranking: Ranked[]; agreement: number | null; passes: unknown };
    expect(rankCalls()).toBe(1);
    expect(json.agreement).toBeNull();
    expect(json.passes).toEqual({ requested: 1, succeeded: 1 });
    expect(json.ranking.map((r) => r.score)).toEqual([1, 0.8, 0.6, 0.4, 0.2, 0]);
  });

  it('k passes run in parallel over different prompt orders; usage counts every call; scores and agreement in [0, 1]', async () => {
    double.setLatency(150);
    const started = Date.now();
    const res = await rerank(body({ shuffles: 3 }));
    const took = Date.now() - started;
    double.setLatency(0);
    const json = res.json() as { ranking: Ranked[]; agreement: number; passes: unknown; usage: { llmCalls: number }; fallback: unknown };
    expect(json.fallback).toBeNull();
    expect(rankCalls()).toBe(3);
    expect(json.usage.llmCalls).toBe(3);
    expect(took).toBeLessThan(3 * 150); // parallel, not 3 sequential calls
    expect(new Set(double.calls.map((c) => c.messages.at(-1)?.content)).size).toBe(3);
    expect(json.passes).toEqual({ requested: 3, succeeded: 3 });
    expect(json.agreement).toBeGreaterThanOrEqual(0);
    expect(json.agreement).toBeLessThanOrEqual(1);
    const scores = json.ranking.map((r) => r.score);
    expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores); // Borda order: scores never rise down the list
  });

  it('takes the domain default, and clamps to RERANK_SHUFFLES_MAX', async () => {
    const movies = (await rerank(body({ domain: 'movies' }))).json();
    expect(movies.passes).toEqual({ requested: 2, succeeded: 2 });
    double.reset();
    const books = (await rerank(body({ domain: 'books' }))).json(); // domain default 5, cap 4
    expect(books.passes.requested).toBe(4);
    expect(rankCalls()).toBe(4);
    double.reset();
    const asked = (await rerank(body({ domain: 'movies', shuffles: 5 }))).json(); // request wins over the domain, then the cap
    expect(asked.passes.requested).toBe(4);
    double.reset();
    const proto = (await rerank(body({ domain: 'constructor' }))).json(); // no prototype lookups
    expect(proto.passes.requested).toBe(1);
  });

  it('falls back with baseline scores and null agreement when every pass fails', async () => {
    double.setMode('junk');
    const json = (await rerank(body({ shuffles: 3 }))).json();
    expect(json.fallback).toEqual({ reason: 'unparseable' });
    expect(json.agreement).toBeNull();
    expect(json.passes).toEqual({ requested: 3, succeeded: 0 });
    expect(json.ranking.map((r: Ranked) => [r.baseRank, r.score])).toEqual([[1, 1], [2, 0.8], [3, 0.6], [4, 0.4], [5, 0.2], [6, 0]]);
  });

  it('baseline reports position scores and zero passes', async () => {
    const json = (await rerank(body({ method: 'baseline', shuffles: 3 }))).json();
    expect(json.passes).toEqual({ requested: 0, succeeded: 0 });
    expect(json.ranking[0].score).toBe(1);
    expect(double.calls).toHaveLength(0);
  });
});
