/**
 * When `profile` is null in a rerank answer: exactly when the answer used no profile. An `agp` request with an
 * empty history makes no profile call (there is nothing to describe); under `llm_unconfigured` no call at all.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';

const candidates = [
  { id: 'c1', title: 'Dune' },
  { id: 'c2', title: 'Arrival' },
  { id: 'c3', title: 'Notting Hill' },
];

let double: LlmDouble;
let t: TestApp;
let unconfigured: TestApp;

beforeAll(async () => {
  double = await startLlmDouble();
  t = await buildTestApp({ env: { LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-test', LLM_MODEL: 'double-model', BREAKER_FAILURE_THRESHOLD: '1000' }, jobs: false });
  unconfigured = await buildTestApp({ env: {}, jobs: false });
});
afterAll(async () => {
  await t?.close();
  await unconfigured?.close();
  await double?.close();
});
beforeEach(() => double.reset());

const rerank = (app: TestApp, payload: object) => app.app.inject({ method: 'POST', url: '/v1/rerank', payload });

describe('profile in rerank answers', () => {
  it('agp with an empty history: no profile call, one rank call, profile null', async () => {
    const res = await rerank(t, { userId: 'cold-1', history: [], candidates, method: 'agp', includeProfile: true });
    expect(res.statusCode).toBe(200);
    const json = res.json();
    expect(double.calls.map((c) => c.role)).toEqual(['rerank']);
    expect(json).toMatchObject({ method: 'agp', fallback: null, profile: null });
    expect(json.usage.llmCalls).toBe(1);
    expect(json.timingsMs.profile).toBeUndefined();
    expect(json.ranking.map((r: { id: string }) => r.id).sort()).toEqual(['c1', 'c2', 'c3']);
  });

  it('agp with a history still profiles first (the empty-history rule is not a general skip)', async () => {
    const res = await rerank(t, { userId: 'warm-1', history: [{ id: 'h1', title: 'Interstellar' }], candidates, method: 'agp' });
    expect(double.calls.map((c) => c.role)).toEqual(['profile', 'rerank']);
    expect(res.json().profile).toEqual({ cached: false });
  });

  it('agp under llm_unconfigured: baseline order, profile null, as the README says', async () => {
    const res = await rerank(unconfigured, { userId: 'u', history: [{ id: 'h1', title: 'Interstellar' }], candidates, method: 'agp' });
    expect(res.json()).toMatchObject({ fallback: { reason: 'llm_unconfigured' }, profile: null });
    expect(res.json().ranking.map((r: { id: string }) => r.id)).toEqual(['c1', 'c2', 'c3']);
  });
});
