/** The embedded defaults: no LLM, no Redis. The service starts and answers baseline with a reason. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ env: {} });
});
afterAll(async () => t?.close());

describe('no LLM configured', () => {
  it('answers the baseline order with fallback llm_unconfigured', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/rerank',
      payload: { userId: 'u', history: [], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ fallback: { reason: 'llm_unconfigured' }, ranking: [{ id: 'a', rank: 1, baseRank: 1 }, { id: 'b', rank: 2, baseRank: 2 }] });
  });

  it('readyz reports the LLM as unconfigured but stays ready', async () => {
    const res = await t.app.inject('/readyz');
    expect(res.statusCode).toBe(200);
    expect(res.json().checks.llm).toBe('unconfigured');
  });

  it('admin routes are disabled (404) without ADMIN_TOKEN', async () => {
    const res = await t.app.inject('/admin/v1/prompts');
    expect(res.statusCode).toBe(404);
  });
});
