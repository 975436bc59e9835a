/**
 * SIGTERM on the real server process: in-flight requests complete, the process exits 0, and new
 * connections are refused afterwards.
 */
import { spawn } from 'node:child_process';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { freePort } from '../../testkit/redis-server.js';

let double: LlmDouble;
beforeAll(async () => {
  double = await startLlmDouble({ latency: 400 });
});
afterAll(async () => double?.close());

async function waitReady(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const res = await request(`${url}/readyz`);
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become ready');
}

describe('graceful shutdown', () => {
  it('finishes in-flight requests on SIGTERM and exits cleanly', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', LLM_BASE_URL: double.url, LLM_API_KEY: 'k', LLM_MODEL: 'm', DEFAULT_DEADLINE_MS: '3000' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, 20_000);

    const body = JSON.stringify({ userId: 'u', method: 'direct', history: [], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] });
    const inflight = Array.from({ length: 20 }, () =>
      request(`${url}/v1/rerank`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then(async (r) => ({ status: r.statusCode, json: (await r.body.json()) as { fallback: unknown } })),
    );
    // SIGTERM only once every request is in flight at the LLM (a fixed sleep races on a loaded machine).
    const until = Date.now() + 10_000;
    while (double.calls.length < 20 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(double.calls.length).toBe(20);
    child.kill('SIGTERM');
    const results = await Promise.all(inflight);
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(results.every((r) => r.json.fallback === null)).toBe(true);
    expect(await exited).toBe(0);
    await expect(request(`${url}/healthz`)).rejects.toThrow();
  }, 40_000);
});
