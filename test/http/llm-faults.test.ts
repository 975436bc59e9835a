/**
 * The remaining fallback reasons end to end through the real SDK: overloaded (bounded wait for a
 * concurrency slot), circuit_open (no request reaches the LLM), and 429s that outlast the deadline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { sleep } from '../../testkit/wait.js';

const payload = (userId: string) => ({
  userId,
  method: 'direct',
  history: [{ id: 'h1', title: 'Space opera' }],
  candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }, { id: 'c', title: 'C' }],
});

let t: TestApp | undefined;
let double: LlmDouble | undefined;
afterEach(async () => {
  await t?.close();
  await double?.close();
});

async function setup(env: Record<string, string>) {
  double = await startLlmDouble();
  t = await buildTestApp({ env: { LLM_BASE_URL: double.url, LLM_API_KEY: 'k', LLM_MODEL: 'm', ...env } });
  return { app: t.app, double };
}

describe('LLM protection', () => {
  it('sheds with overloaded fast when the concurrency limit is full', async () => {
    const { app, double } = await setup({ LLM_MAX_CONCURRENCY: '1', LLM_QUEUE_TIMEOUT_MS: '10' });
    double.setLatency(400);
    const slow = app.inject({ method: 'POST', url: '/v1/rerank', payload: payload('a') });
    await sleep(50);
    const started = Date.now();
    const shed = await app.inject({ method: 'POST', url: '/v1/rerank', payload: payload('b') });
    expect(Date.now() - started).toBeLessThan(150);
    expect(shed.statusCode).toBe(200);
    expect(shed.json().fallback).toEqual({ reason: 'overloaded' });
    expect((await slow).json().fallback).toBeNull();
  });

  it('opens the circuit after repeated failures and stops calling the LLM', async () => {
    const { app, double } = await setup({ BREAKER_FAILURE_THRESHOLD: '2', BREAKER_RESET_MS: '60000', LLM_MAX_RETRIES: '0' });
    double.setMode('error500');
    for (const u of ['x1', 'x2']) {
      expect((await app.inject({ method: 'POST', url: '/v1/rerank', payload: payload(u) })).json().fallback).toEqual({ reason: 'llm_error' });
    }
    const before = double.calls.length;
    const res = await app.inject({ method: 'POST', url: '/v1/rerank', payload: payload('x3') });
    expect(res.json().fallback).toEqual({ reason: 'circuit_open' });
    expect(double.calls.length).toBe(before);
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toMatch(/agp_llm_circuit_state 1/);
    expect(metrics).toMatch(/agp_rerank_fallbacks_total\{reason="circuit_open"\} 1/);
  });

  it('a 429 whose Retry-After outlasts the deadline falls back without waiting it out', async () => {
    const { app, double } = await setup({});
    double.setMode('error429');
    double.setRetryAfter({ retryAfter: '5' });
    const started = Date.now();
    const res = await app.inject({ method: 'POST', url: '/v1/rerank', payload: { ...payload('r'), deadlineMs: 500 } });
    expect(Date.now() - started).toBeLessThan(700);
    expect(res.json().fallback.reason).toMatch(/^(llm_error|timeout)$/);
    expect(double.calls.length).toBe(1);
  });

  it('a 429 with a short Retry-After is retried inside the deadline and succeeds', async () => {
    const { app, double } = await setup({});
    double.failNext(1, 'error429');
    double.setRetryAfter({ retryAfter: null, retryAfterMs: 100 });
    const res = await app.inject({ method: 'POST', url: '/v1/rerank', payload: { ...payload('s'), deadlineMs: 2000 } });
    expect(res.json().fallback).toBeNull();
    expect(double.calls.length).toBe(2);
    expect(double.calls[1]!.at - double.calls[0]!.at).toBeGreaterThanOrEqual(90);
  });
});
