/**
 * The rate limiter (RATE_LIMIT_MAX > 0, REDIS_URL set) under each Redis fault: paused (SIGSTOP), full
 * (maxmemory under noeviction) and killed. Its Redis store must fail open within its 100 ms bound: every
 * rerank still answers 200 with a permutation within deadline + 100 ms, and each skipped store call is
 * counted in agp_rate_limit_errors_total. Before the fix, 99.9 % of these reranks were 500s.
 * The healthy case first proves the limiter really counts in Redis (the 4th request of one client is a 429).
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC } from '../../src/observability/metrics.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { percentile } from '../../testkit/load.js';
import { fillRedis, pauseRedis } from '../../testkit/redis-faults.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';
import { eventually } from '../../testkit/wait.js';

const DEADLINE_MS = 1_000;
const LIMIT = 3;
const REQUESTS = 24;

let redis: RedisServerHandle;
let double: LlmDouble;
let t: TestApp;

beforeAll(async () => {
  redis = await startRedisServer();
  double = await startLlmDouble();
  t = await buildTestApp({
    env: {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniquePrefix('rl-fault'),
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-test',
      LLM_MODEL: 'double-model',
      DEFAULT_DEADLINE_MS: String(DEADLINE_MS),
      RATE_LIMIT_MAX: String(LIMIT),
      RATE_LIMIT_WINDOW_MS: '60000',
    },
    jobs: false,
  });
});
afterAll(async () => {
  redis?.kill('SIGCONT');
  await t?.close();
  await double?.close();
  await redis?.stop();
});

const candidates = Array.from({ length: 5 }, (_, i) => ({ id: `c${i}`, title: `Candidate ${i}` }));
let seq = 0;
async function rerank(clientId: string): Promise<{ status: number; ms: number; ids: string[] }> {
  seq += 1;
  const started = performance.now();
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/rerank',
    headers: { 'x-client-id': clientId },
    payload: { userId: `u${seq}`, history: [{ id: 'h1', title: 'A liked book' }], candidates },
  });
  const ms = performance.now() - started;
  const ids = res.statusCode === 200 ? (res.json() as { ranking: Array<{ id: string }> }).ranking.map((r) => r.id) : [];
  return { status: res.statusCode, ms, ids };
}

/** REQUESTS reranks, 6 at a time, half of them from one client far over its limit. */
async function burst(label: string): Promise<Array<{ status: number; ms: number; ids: string[] }>> {
  const out = [];
  for (let i = 0; i < REQUESTS; i += 6) {
    out.push(...(await Promise.all(Array.from({ length: 6 }, (_, k) => rerank(k % 2 === 0 ? 'greedy' : `${label}-${i + k}`)))));
  }
  return out;
}

/** agp_rate_limit_errors_total{reason}, read by name (so the figures of the code before it can be measured too). */
const skipped = async (reason: 'timeout' | 'error') =>
  (await t.container.metrics.registry.getSingleMetric(METRIC.rateLimitErrors)?.get())?.values.find((v) => v.labels.reason === reason)?.value ?? 0;

const readyz = async () => (await t.app.inject('/readyz')).json() as { status: string; checks: { redis: string } };

function expectServed(label: string, results: Array<{ status: number; ms: number; ids: string[] }>): void {
  const statuses: Record<number, number> = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const ms = results.map((r) => r.ms);
  console.log(`[rate-limit ${label}] ${JSON.stringify(statuses)} p50 ${percentile(ms, 50).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms`);
  expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
  for (const r of results) expect([...r.ids].sort()).toEqual(candidates.map((c) => c.id).sort());
  expect(Math.max(...ms)).toBeLessThanOrEqual(DEADLINE_MS + 100);
}

describe('rate limiter under Redis faults', () => {
  it('healthy: counts in Redis, so one client past its limit gets a 429', async () => {
    const statuses = [];
    for (let i = 0; i <= LIMIT; i++) statuses.push((await rerank('healthy-client')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await skipped('error')).toBe(0);
    expect(await skipped('timeout')).toBe(0);
  });

  it('full (noeviction): fails open at once and counts each store error', async () => {
    const unfill = await fillRedis(redis);
    try {
      const before = await skipped('error');
      expectServed('full', await burst('full'));
      expect((await skipped('error')) - before).toBe(REQUESTS);
    } finally {
      await unfill();
    }
  });

  it('paused (SIGSTOP): fails open after its 100 ms bound and counts each timeout; readyz says degraded', async () => {
    const resume = pauseRedis(redis);
    try {
      const before = await skipped('timeout');
      expectServed('paused', await burst('paused'));
      expect((await skipped('timeout')) - before).toBe(REQUESTS);
      const ready = await readyz();
      expect([ready.status, ready.checks.redis]).toEqual(['degraded', 'down']);
    } finally {
      resume();
    }
    // Back to counting once Redis answers again: the greedy client is over its limit.
    await eventually(async () => (await rerank('greedy')).status, (s) => s === 429, { what: 'the limiter to count again', timeoutMs: 5_000 });
  });

  it('killed: fails open at once and counts each store error', async () => {
    redis.kill('SIGKILL');
    await eventually(readyz, (r) => r.checks.redis === 'down', { what: 'readyz to see Redis down', timeoutMs: 5_000 });
    const before = await skipped('error');
    expectServed('killed', await burst('killed'));
    expect((await skipped('error')) - before).toBe(REQUESTS);
  });
});
