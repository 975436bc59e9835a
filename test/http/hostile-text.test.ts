/**
 * Hostile request text through the real app (app.inject, real SDK, the LLM double):
 * - 20 candidates whose texts are `"<<" + " " × 16382` (a 328 KB body) were answered at 5.5 s against a 1 s
 *   deadline, and /healthz stalled as long, because the sanitiser was quadratic. Now: within deadline + 100 ms.
 * - `userId: "alice\ud800"` was served the profile cached for `"alice\ufffd"` (the hash was over UTF-8, where a
 *   lone surrogate becomes U+FFFD). Now every id must be well-formed UTF-16: 400 VALIDATION_ERROR.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { LIMITS } from '../../src/http/schemas.js';

const DEADLINE_MS = 1_000;
const history = [{ id: 'h1', title: 'Heat' }, { id: 'h2', title: 'Alien' }];
const candidates = (n: number, text?: string) => Array.from({ length: n }, (_, i) => ({ id: `c${i + 1}`, title: `Movie ${i + 1}`, text }));

let double: LlmDouble;
let t: TestApp;

beforeAll(async () => {
  double = await startLlmDouble();
  t = await buildTestApp({
    jobs: false,
    env: { LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-test', LLM_MODEL: 'double-model', DEFAULT_DEADLINE_MS: String(DEADLINE_MS), BREAKER_FAILURE_THRESHOLD: '1000' },
  });
});
afterAll(async () => {
  await t?.close();
  await double?.close();
});
beforeEach(() => double.reset());

const rerank = (payload: object) => t.app.inject({ method: 'POST', url: '/v1/rerank', payload });

describe('hostile candidate texts', () => {
  it('20 texts of "<<" + 16382 blanks are answered within the deadline + 100 ms, and /healthz does not stall', async () => {
    const text = `<<${' '.repeat(LIMITS.textMax - 2)}`;
    const payload = { userId: 'bait-user', history, candidates: candidates(20, text) }; // agp: profile, then rank
    expect(JSON.stringify(payload).length).toBeGreaterThan(328_000);

    // Probe /healthz every 10 ms while the rerank runs: a blocked event loop shows as a slow probe.
    const probes: number[] = [];
    let running = true;
    const prober = (async () => {
      while (running) {
        const start = performance.now();
        await t.app.inject({ method: 'GET', url: '/healthz' });
        probes.push(performance.now() - start);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const start = performance.now();
    const res = await rerank(payload);
    const elapsed = performance.now() - start;
    running = false;
    await prober;

    expect(res.statusCode).toBe(200);
    expect(res.json().fallback).toBeNull(); // ranked by the LLM, not cut short by the deadline
    expect(res.json().ranking.map((r: { id: string }) => r.id).sort()).toEqual(candidates(20).map((c) => c.id).sort());
    expect(elapsed).toBeLessThan(DEADLINE_MS + 100);
    expect(Math.max(...probes)).toBeLessThan(200);
    // The text reached the prompt sanitised: no markup, and no 16 KB of blanks.
    expect(double.calls.map((c) => c.role)).toEqual(['profile', 'rerank']);
    const prompt = double.calls[1]?.messages.map((m) => m.content).join('\n') ?? '';
    expect(prompt.length).toBeLessThan(5_000);
  });
});

describe('ids must be well-formed UTF-16', () => {
  it('"alice\\ud800" is rejected instead of getting the profile cached for "alice\\ufffd"', async () => {
    const first = await rerank({ userId: 'alice\ufffd', history, candidates: candidates(3), includeProfile: true });
    expect(first.statusCode).toBe(200);
    expect(first.json().profile.cached).toBe(false);

    const res = await rerank({ userId: 'alice\ud800', history, candidates: candidates(3), includeProfile: true });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'VALIDATION_ERROR', message: expect.stringContaining('userId'), requestId: res.headers['x-request-id'] } });
  });

  it.each([
    ['a candidate id', { candidates: [{ id: 'c\udc00', title: 'x' }, { id: 'c2', title: 'y' }] }, 'candidates'],
    ['a history id', { history: [{ id: '\ud83dh', title: 'x' }] }, 'history'],
    ['a user id ending in a high surrogate', { userId: 'bob\ud83d' }, 'userId'],
  ])('%s with a lone surrogate is a 400 in the envelope', async (_name, over, field) => {
    const res = await rerank({ userId: 'u', history, candidates: candidates(3), ...over });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining(field) });
  });

  it('well-formed astral ids (a surrogate pair) are accepted', async () => {
    const res = await rerank({ userId: 'emoji-\ud83c\udfac', history: [{ id: '\ud83d\ude00', title: 'x' }], candidates: candidates(3), method: 'baseline' });
    expect(res.statusCode).toBe(200);
  });
});
