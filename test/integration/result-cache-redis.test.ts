/**
 * The result cache on a real redis-server, two API replicas and the LLM double: a ranking cached by one
 * replica is a hit on the other; keys carry the user's hash tag, never the raw id; DELETE /v1/users on one
 * replica erases it for both; and the size of one cached entry (MEMORY USAGE) for 10 and 100 candidates.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';
import { createKeySchema, userHash } from '../../src/store/key-schema.js';

const items = (n: number, p = 'c') => Array.from({ length: n }, (_, i) => ({ id: `${p}${i + 1}`, title: `Title ${p}${i + 1}` }));
const body = (userId: string, over: Record<string, unknown> = {}) => ({ userId, history: items(4, 'h'), candidates: items(5), ...over });

let redis: RedisServerHandle;
let double: LlmDouble;
let a: TestApp;
let b: TestApp;
let client: Redis;
const prefix = uniquePrefix('rcache');
const keys = createKeySchema(prefix);

beforeAll(async () => {
  redis = await startRedisServer();
  double = await startLlmDouble();
  const env = {
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    LLM_BASE_URL: double.url,
    LLM_API_KEY: 'sk-test',
    LLM_MODEL: 'double-model',
    RERANK_CACHE_TTL_SECONDS: '600',
    RERANK_WINDOW_SIZE: '100',
    RERANK_WINDOW_STEP: '50',
    DEFAULT_DEADLINE_MS: '5000',
  };
  [a, b] = await Promise.all([buildTestApp({ env, jobs: false }), buildTestApp({ env, jobs: false })]);
  client = new Redis(redis.url);
});
afterAll(async () => {
  client?.disconnect();
  await Promise.allSettled([a?.close(), b?.close()]);
  await double?.close();
  await redis?.stop();
});

const post = (t: TestApp, payload: object) => t.app.inject({ method: 'POST', url: '/v1/rerank', payload });
const settle = () => Promise.all([a.container.resultCache?.drain(), b.container.resultCache?.drain()]);

describe('result cache on Redis', () => {
  it('a ranking cached by one replica is a hit on the other', async () => {
    expect((await post(a, body('shared-r', { method: 'direct' }))).json().cache).toBe('miss');
    await settle();
    double.reset();
    const hit = (await post(b, body('shared-r', { method: 'direct' }))).json();
    expect(hit).toMatchObject({ cache: 'hit', model: 'double-model', fallback: null });
    expect(hit.usage.llmCalls).toBe(0);
    expect(double.calls).toHaveLength(0);
  });

  it('files entries under the user’s tag with an index, and DELETE /v1/users on one replica erases them', async () => {
    await post(a, body('erase-r', { method: 'direct' }));
    await post(a, body('erase-r', { method: 'cot' }));
    await post(a, body('erase-r', { domain: 'books', method: 'direct' }));
    await settle();
    const stored = await client.keys(`${prefix}:rank:*`);
    expect(stored.some((k) => k.includes('erase-r'))).toBe(false);
    expect(await client.zcard(keys.rankingIndex('erase-r'))).toBe(3);
    const mine = stored.filter((k) => k.includes(`{${userHash('erase-r')}}:e:`));
    expect(mine).toHaveLength(3);
    expect((await b.app.inject({ method: 'DELETE', url: '/v1/users/erase-r' })).statusCode).toBe(200);
    expect(await client.exists(...mine, keys.rankingIndex('erase-r'))).toBe(0);
    expect((await post(a, body('erase-r', { method: 'direct' }))).json().cache).toBe('miss');
    // The other user's entry survived.
    expect((await post(b, body('shared-r', { method: 'direct' }))).json().cache).toBe('hit');
  });

  it('measures one cached entry: MEMORY USAGE for 10 and 100 candidates', async () => {
    const sizes: Record<number, number> = {};
    for (const n of [10, 100]) {
      const user = `size-${n}`;
      const res = await post(a, body(user, { method: 'direct', candidates: items(n) }));
      expect(res.json().fallback).toBeNull();
      await settle();
      const [entryKey] = await client.keys(`${prefix}:rank:{${userHash(user)}}:e:*`);
      expect(entryKey).toBeDefined();
      const bytes = Number(await client.call('MEMORY', 'USAGE', entryKey as string, 'SAMPLES', '0'));
      const index = Number(await client.call('MEMORY', 'USAGE', keys.rankingIndex(user), 'SAMPLES', '0'));
      sizes[n] = bytes;
      console.log(`result cache entry, ${n} candidates: MEMORY USAGE ${bytes} B (value ${(await client.strlen(entryKey as string))} B); per-user index ${index} B`);
    }
    // The index: one member (the entry's key) per cached ranking of the user.
    for (let i = 0; i < 20; i++) await post(a, body('size-index', { method: 'direct', candidates: items(5, `k${i}-`) }));
    await settle();
    expect(await client.zcard(keys.rankingIndex('size-index'))).toBe(20);
    const index20 = Number(await client.call('MEMORY', 'USAGE', keys.rankingIndex('size-index'), 'SAMPLES', '0'));
    console.log(`per-user index with 20 rankings: MEMORY USAGE ${index20} B`);
    // Digests as members keep the index a listpack (~50 B a ranking), not a skiplist of full key names.
    expect(index20).toBeLessThan(2_048);
    // An order of 100 indices is ~300 characters of JSON and 100 four-decimal scores ~700 more.
    expect(sizes[10]).toBeLessThan(600);
    expect(sizes[100]).toBeLessThan(1_600);
  });
});
