/**
 * The LLM is untrusted (issue 9, items 1, 2, 4, 5): the real app and SDK against the hostile-LLM server.
 * A probe answered with lying usage or a null body must settle the breaker; overflowing usage must not give a
 * 5xx or +Inf counters; an endless or huge body is cut by the transport (llm_error within the deadline, flat
 * RSS); an LLM that ignores max_tokens cannot get a megabyte profile cached.
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { BAIT, hugeProfile, startHostileLlm, type HostileLlm, type HostileMode } from '../../testkit/hostile-llm.js';
import { MAX_REPORTED_TOKENS } from '../../src/llm/completion-body.js';

const items = (n: number, p: string) => Array.from({ length: n }, (_, i) => ({ id: `${p}${i + 1}`, title: `Film ${p}${i + 1}` }));
const payload = (userId: string, over: Record<string, unknown> = {}) => ({
  userId,
  method: 'direct',
  history: items(3, 'h'),
  candidates: items(4, 'c'),
  ...over,
});

let llm: HostileLlm;
let t: TestApp | undefined;
beforeAll(async () => {
  llm = await startHostileLlm();
});
afterAll(async () => {
  await llm.close();
});
afterEach(async () => {
  await t?.close();
  t = undefined;
  llm.setMode({ kind: 'honest' });
});

async function app(env: Record<string, string> = {}) {
  t = await buildTestApp({ env: { LLM_BASE_URL: llm.url, LLM_API_KEY: 'k', LLM_MODEL: 'm', LLM_MAX_RETRIES: '0', ...env } });
  return t.app;
}

async function rerank(userId: string, over: Record<string, unknown> = {}) {
  const started = Date.now();
  const res = await t!.app.inject({ method: 'POST', url: '/v1/rerank', payload: payload(userId, over) });
  return { res, json: res.json(), ms: Date.now() - started };
}

const metricsText = async () => (await t!.app.inject('/metrics')).body;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a half-open probe answered with a lying 200 settles the breaker', () => {
  const probes: Array<[string, HostileMode]> = [
    ['usage.prompt_tokens = -5', { kind: 'usage', usage: { prompt_tokens: -5, completion_tokens: 3 } }],
    ['usage.prompt_tokens = "12"', { kind: 'usage', usage: { prompt_tokens: '12', completion_tokens: 3 } }],
    ['usage = "12"', { kind: 'usage', usage: '12' }],
    ['body = null', { kind: 'null-body' }],
  ];
  it.each(probes)('%s', async (_name, probe) => {
    await app({ BREAKER_FAILURE_THRESHOLD: '2', BREAKER_RESET_MS: '500' });
    llm.failNext(2, { kind: 'status', status: 500 });
    for (const u of ['a', 'b']) expect((await rerank(u)).json.fallback).toEqual({ reason: 'llm_error' });
    expect((await rerank('c')).json.fallback).toEqual({ reason: 'circuit_open' });

    await sleep(600);
    llm.setMode(probe);
    const calls = llm.calls.length;
    const probed = await rerank('probe');
    expect(probed.res.statusCode).toBe(200);
    expect(llm.calls.length).toBe(calls + 1);

    // The probe was an HTTP answer: the breaker is closed again, and the next rerank reaches the LLM.
    llm.setMode({ kind: 'honest' });
    const after = await rerank('after');
    expect(after.json.fallback).toBeNull();
    expect(llm.calls.length).toBe(calls + 2);
    const metrics = await metricsText();
    expect(metrics).toMatch(/agp_llm_circuit_state 0/);
    expect(metrics).toMatch(/agp_llm_response_anomalies_total\{role="rerank",kind="(prompt_tokens|malformed_body)"\} 1/);
    expect(metrics).not.toMatch(/agp_llm_tokens_total\{[^}]*\} -/);
  });
});

describe('usage the LLM reports is validated and clamped', () => {
  it('1e308 tokens: a 200 with finite usage, and finite counters', async () => {
    await app();
    llm.setMode({ kind: 'usage', usage: { prompt_tokens: 1e308, completion_tokens: 1e308, total_tokens: Number.MAX_VALUE } });
    for (const method of ['direct', 'agp']) {
      const { res, json } = await rerank(`u-${method}`, { method });
      expect(res.statusCode).toBe(200);
      expect(json.fallback).toBeNull();
      expect(Number.isSafeInteger(json.usage.promptTokens)).toBe(true);
      expect(json.usage.promptTokens).toBe(json.usage.llmCalls * MAX_REPORTED_TOKENS);
      expect(json.usage.completionTokens).toBe(json.usage.llmCalls * MAX_REPORTED_TOKENS);
    }
    const metrics = await metricsText();
    expect(metrics).not.toMatch(/^agp_llm_tokens_total.*Inf/m);
    expect(metrics).toMatch(/agp_llm_tokens_total\{role="rerank",kind="prompt",model="m"\} 200000000/);
    expect(metrics).toMatch(/agp_llm_response_anomalies_total\{role="profile",kind="completion_tokens"\} 1/);
  });
});

/** Peak RSS growth (bytes) while `run` is pending, sampled every 5 ms. */
async function peakRssGrowth<T>(run: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    const value = await run();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

describe('the response body is capped', () => {
  it('an endless stream falls back with llm_error inside the deadline, with flat RSS', async () => {
    await app();
    llm.setMode({ kind: 'endless-stream' });
    const abandonedBefore = llm.abandoned;
    const deadlineMs = 1000;
    const { value, growth } = await peakRssGrowth(() =>
      Promise.all(['s1', 's2', 's3'].map((u) => rerank(u, { deadlineMs }))),
    );
    for (const r of value) {
      expect(r.res.statusCode).toBe(200);
      expect(r.json.fallback).toEqual({ reason: 'llm_error' });
      expect(r.ms).toBeLessThan(deadlineMs + 100);
    }
    expect(growth).toBeLessThan(64 * 1_048_576);
    await sleep(50);
    expect(llm.abandoned - abandonedBefore).toBe(3); // the sockets were closed, not left streaming
    expect(await metricsText()).toMatch(/agp_llm_response_anomalies_total\{role="rerank",kind="too_large"\} 3/);
  });

  it.each(Object.entries(BAIT))('parser bait longer than the cap (%s) never reaches the parser', async (_name, content) => {
    await app();
    llm.setMode({ kind: 'content', content });
    const { json, ms } = await rerank('bait', { deadlineMs: 1000 });
    expect(json.fallback).toEqual({ reason: 'llm_error' });
    expect(ms).toBeLessThan(1100);
  });

  it('a 20 MB profile is cut by the transport: llm_error inside a 1 s deadline', async () => {
    await app();
    llm.setMode(hugeProfile(20 * 1_048_576));
    const { res, json, ms } = await rerank('big20', { method: 'agp', deadlineMs: 1000 });
    expect(res.statusCode).toBe(200);
    expect(json.fallback).toEqual({ reason: 'llm_error' });
    expect(ms).toBeLessThan(1100);
  });
});

describe('profiles are capped before caching', () => {
  it('a 2 MB profile (max_tokens ignored) is cached and returned at PROFILE_MAX_CHARS, cut at a word', async () => {
    // A body cap above the profile, so the profile cap is what is tested.
    await app({ LLM_MAX_RESPONSE_BYTES: String(8 * 1_048_576), PROFILE_MAX_CHARS: '4000' });
    llm.setMode(hugeProfile(2 * 1_048_576));
    const first = await rerank('big2', { method: 'agp', includeProfile: true });
    expect(first.json.fallback).toBeNull();
    const text: string = first.json.profile.text;
    expect(text.length).toBeLessThanOrEqual(4000);
    expect(text.length).toBeGreaterThan(3900);
    expect(text).toMatch(/[a-z]…$/);
    expect(text.slice(0, -1)).not.toMatch(/\s$/);

    const hit = await rerank('big2', { method: 'agp', includeProfile: true });
    expect(hit.json.profile.cached).toBe(true);
    expect(hit.json.profile.text).toBe(text);
    // The rerank prompt carries the capped profile, not the 2 MB one.
    const rerankCall = llm.calls.filter((c) => c.role === 'rerank').at(-1)!;
    expect(rerankCall.messages.reduce((n, m) => n + m.content.length, 0)).toBeLessThan(20_000);
  });
});

describe('a slow drip is bounded by the deadline', () => {
  it('a byte every 20 ms falls back with timeout at the deadline', async () => {
    await app();
    await rerank('warm-up'); // the first inject of an app pays for lazy start-up
    llm.setMode({ kind: 'slow-drip', intervalMs: 20 }); // ~700 bytes: the answer would take ~14 s
    const { json, ms } = await rerank('drip', { deadlineMs: 500 });
    expect(json.fallback).toEqual({ reason: 'timeout' });
    // The service's own clock says deadline + 100 ms; the client side adds inject overhead on a loaded machine.
    expect(json.timingsMs.total).toBeLessThan(600);
    expect(ms).toBeLessThan(800);
  });
});
