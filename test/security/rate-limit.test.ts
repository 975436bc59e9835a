/**
 * Rate limiting of POST /v1/rerank (RATE_LIMIT_MAX=3 per RATE_LIMIT_WINDOW_MS=1000, keyed by x-client-id):
 * the 4th request of a client within the window is 429 RATE_LIMITED in the one error shape with Retry-After,
 * other clients are unaffected, the window really reopens, and with REDIS_URL two app instances share one
 * budget through Redis (a private redis-server on a free port; never the one on 6379).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';
import { sleep } from '../../testkit/wait.js';

const LIMIT_ENV = { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '1000' };
const body = { userId: 'rl-user', method: 'baseline', history: [], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] };

const rerank = (t: TestApp, clientId: string) => t.app.inject({ method: 'POST', url: '/v1/rerank', headers: { 'x-client-id': clientId }, payload: body });

function expectRateLimited(res: Awaited<ReturnType<typeof rerank>>): void {
  expect(res.statusCode).toBe(429);
  expect(res.json()).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String), requestId: res.headers['x-request-id'] } });
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(1);
}

describe('in-memory (one instance)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: LIMIT_ENV, jobs: false });
  });
  afterAll(async () => t?.close());

  it('the 4th request of one client within the window is 429 with Retry-After; another client is unaffected', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await rerank(t, 'client-a')).statusCode);
    expect(statuses).toEqual([200, 200, 200]);
    expectRateLimited(await rerank(t, 'client-a'));
    expect((await rerank(t, 'client-b')).statusCode).toBe(200);
    expectRateLimited(await rerank(t, 'client-a'));
  });

  it('only /v1/rerank is limited: erasure and probes still answer for a limited client', async () => {
    for (let i = 0; i < 4; i++) await rerank(t, 'client-c');
    expectRateLimited(await rerank(t, 'client-c'));
    const erase = await t.app.inject({ method: 'DELETE', url: '/v1/profiles/rl-user', headers: { 'x-client-id': 'client-c' } });
    expect(erase.statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-client-id': 'client-c' } })).statusCode).toBe(200);
  });

  it('the window reopens after RATE_LIMIT_WINDOW_MS', async () => {
    for (let i = 0; i < 3; i++) await rerank(t, 'client-d');
    expectRateLimited(await rerank(t, 'client-d'));
    await sleep(1_100);
    expect((await rerank(t, 'client-d')).statusCode).toBe(200);
  });
});

describe('Redis-backed (two instances share the limit)', () => {
  let redis: RedisServerHandle;
  let a: TestApp;
  let b: TestApp;
  let client: Redis;
  const prefix = uniquePrefix('rl');

  beforeAll(async () => {
    redis = await startRedisServer();
    const env = { ...LIMIT_ENV, REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix };
    [a, b] = await Promise.all([buildTestApp({ env, jobs: false }), buildTestApp({ env, jobs: false })]);
    client = new Redis(redis.url);
    // Warm both instances' connections with clients of their own, so the window below is not spent connecting.
    expect((await rerank(a, 'warm-a')).statusCode).toBe(200);
    expect((await rerank(b, 'warm-b')).statusCode).toBe(200);
  });
  afterAll(async () => {
    client?.disconnect();
    await Promise.allSettled([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('requests of one client spread over both instances count against one budget', async () => {
    const statuses = [(await rerank(a, 'shared')).statusCode, (await rerank(b, 'shared')).statusCode, (await rerank(a, 'shared')).statusCode];
    expect(statuses).toEqual([200, 200, 200]);
    expectRateLimited(await rerank(b, 'shared'));
    expectRateLimited(await rerank(a, 'shared'));
    expect((await rerank(b, 'other')).statusCode).toBe(200);
    // The counters live in Redis under the service's key prefix.
    const keys = await client.keys(`${prefix}:rl:*`);
    expect(keys.some((k) => k.includes('shared'))).toBe(true);
  });
});
