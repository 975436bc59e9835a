/**
 * An erasure that lands while the user's profile is being generated wins: the late write is dropped and the
 * profile is not served again. The LLM double holds every answer for LATENCY_MS so the DELETE arrives while the
 * profile call is in flight. Run against the in-memory store (one replica) and Redis (the DELETE on another
 * replica than the generation).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { userHash } from '../../src/store/key-schema.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';

const LATENCY_MS = 400;
const items = (n: number, p: string) => Array.from({ length: n }, (_, i) => ({ id: `${p}${i + 1}`, title: `Title ${p}${i + 1}` }));
const body = (userId: string, history = items(4, 'h')) => ({ userId, history, candidates: items(5, 'c') });

let double: LlmDouble;
let redis: RedisServerHandle;

beforeAll(async () => {
  [double, redis] = await Promise.all([startLlmDouble(), startRedisServer()]);
});
afterAll(async () => {
  await double?.close();
  await redis?.stop();
});
beforeEach(() => {
  double.reset();
  double.setLatency(0);
});

/** Resolves once the double has received `n` profile calls (the generation is then in flight). */
async function profileCallsReach(n: number): Promise<void> {
  const until = Date.now() + 10_000;
  while (double.calls.filter((c) => c.role === 'profile').length < n) {
    if (Date.now() > until) throw new Error('the profile call never reached the LLM double');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.each(['memory', 'redis'] as const)('erasure during generation (%s store)', (store) => {
  let gen: TestApp;
  let eraser: TestApp;
  const prefix = uniquePrefix('erase-race');

  beforeAll(async () => {
    const env = {
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-test',
      LLM_MODEL: 'double-model',
      DEFAULT_DEADLINE_MS: '10000',
      PROFILE_REFRESH_DEADLINE_MS: '10000',
      BREAKER_FAILURE_THRESHOLD: '1000',
      ...(store === 'redis' ? { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix } : {}),
    };
    gen = await buildTestApp({ env, jobs: false });
    // With Redis the erasure arrives at another replica; in memory there is only the one.
    eraser = store === 'redis' ? await buildTestApp({ env, jobs: false }) : gen;
  });
  afterAll(async () => {
    await gen?.close();
    if (eraser !== gen) await eraser?.close();
  });

  const rerank = (payload: object) => gen.app.inject({ method: 'POST', url: '/v1/rerank', payload });
  const erase = (userId: string) => eraser.app.inject({ method: 'DELETE', url: `/v1/profiles/${userId}` });

  /** A rerank after the generation settled: a cached profile here means the erased one came back. */
  async function servedAgain(payload: object): Promise<boolean> {
    await gen.container.profiles.drain();
    double.setLatency(0);
    const json = (await rerank(payload)).json();
    return json.profile.cached === true;
  }

  it('a foreground generation in flight does not write after the DELETE', async () => {
    double.setLatency(LATENCY_MS);
    const pending = rerank(body('race-fg'));
    await profileCallsReach(1);
    const del = await erase('race-fg');
    expect(del.statusCode).toBe(200);
    const first = (await pending).json();
    // The caller who was waiting still gets their answer, built from the history they sent.
    expect(first.fallback).toBeNull();
    expect(first.profile.cached).toBe(false);
    expect(await servedAgain(body('race-fg'))).toBe(false);
  });

  it('a stale-while-revalidate background refresh in flight does not write after the DELETE', async () => {
    await rerank(body('race-bg'));
    const changed = body('race-bg', items(5, 'h'));
    double.reset();
    double.setLatency(LATENCY_MS);
    // The stale answer waits for its rank call (LATENCY_MS) while the refresh's profile call runs beside it.
    const pending = rerank(changed);
    await profileCallsReach(1);
    expect((await erase('race-bg')).statusCode).toBe(200);
    expect((await pending).json().profile).toEqual({ cached: true, stale: true });
    expect(await servedAgain(changed)).toBe(false);
  });

  it('profiles generated after the erasure are cached again', async () => {
    expect((await erase('after-erase')).statusCode).toBe(200);
    await rerank(body('after-erase'));
    expect(await servedAgain(body('after-erase'))).toBe(true);
  });

  it.runIf(store === 'redis')('leaves only a short-lived tombstone, keyed by the user hash, never the raw id', async () => {
    const client = new Redis(redis.url);
    try {
      const keys = await client.keys(`${prefix}:prof:{${userHash('race-fg')}}:*`);
      // The refetch above cached a new profile (generated after the erasure): entries, index, tombstone.
      const tomb = keys.filter((k) => k.endsWith(':erased'));
      expect(tomb).toHaveLength(1);
      const ttl = await client.ttl(tomb[0] as string);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3600);
      expect(keys.some((k) => k.includes('race-fg'))).toBe(false);
    } finally {
      client.disconnect();
    }
  });
});
