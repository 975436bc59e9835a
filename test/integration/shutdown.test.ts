/**
 * SIGTERM on the real server process: in-flight requests complete, the process exits 0, and new
 * connections are refused afterwards.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { startServerProcess } from '../../testkit/processes.js';
import { eventually } from '../../testkit/wait.js';

let double: LlmDouble;
beforeAll(async () => {
  double = await startLlmDouble({ latency: 400 });
});
afterAll(async () => double?.close());

describe('graceful shutdown', () => {
  it('finishes in-flight requests on SIGTERM and exits cleanly', async () => {
    const server = await startServerProcess({
      env: { LOG_LEVEL: 'warn', LLM_BASE_URL: double.url, LLM_API_KEY: 'k', LLM_MODEL: 'm', DEFAULT_DEADLINE_MS: '3000' },
      readyTimeoutMs: 20_000,
    });
    const url = server.origin;

    const body = JSON.stringify({ userId: 'u', method: 'direct', history: [], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] });
    const inflight = Array.from({ length: 20 }, () =>
      request(`${url}/v1/rerank`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then(async (r) => ({ status: r.statusCode, json: (await r.body.json()) as { fallback: unknown } })),
    );
    // SIGTERM only once every request is in flight at the LLM (a fixed sleep races on a loaded machine).
    await eventually(() => double.calls.length, (n) => n >= 20, { what: '20 calls at the LLM', timeoutMs: 10_000, intervalMs: 10 });
    expect(double.calls.length).toBe(20);
    server.child.kill('SIGTERM');
    const results = await Promise.all(inflight);
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(results.every((r) => r.json.fallback === null)).toBe(true);
    expect((await server.exited).code).toBe(0);
    await expect(request(`${url}/healthz`)).rejects.toThrow();
  }, 40_000);
});
