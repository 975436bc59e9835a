/**
 * The result cache on a real 3-master Redis Cluster: the Redis adapter over an ioredis Cluster client (every
 * command single-slot, so CROSSSLOT would surface as a failure), users' entries spread over the masters
 * while each user's entries, index and erasure epoch share one slot, and two API replicas sharing rankings
 * and erasing them with DELETE /v1/users.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisRankingCache } from '../../src/store/redis-ranking-cache.js';
import { createKeySchema } from '../../src/store/key-schema.js';
import { createRedis, whenReady, type RedisClient } from '../../src/store/redis-connection.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { uniquePrefix } from '../../testkit/redis-server.js';
import { startRedisCluster, type RedisClusterHandle } from '../../testkit/redis-cluster.js';

const items = (n: number, p = 'c') => Array.from({ length: n }, (_, i) => ({ id: `${p}${i + 1}`, title: `Title ${p}${i + 1}` }));
const body = (userId: string) => ({ userId, history: items(4, 'h'), candidates: items(6), method: 'direct' });

let cluster: RedisClusterHandle;
let double: LlmDouble;
let store: RedisClient;
let client: Cluster;
let a: TestApp;
let b: TestApp;
const prefix = uniquePrefix('rcl');
const keys = createKeySchema(prefix);

beforeAll(async () => {
  [cluster, double] = await Promise.all([startRedisCluster({ masters: 3 }), startLlmDouble()]);
  store = createRedis({ clusterNodes: cluster.nodes }, { role: 'cache' });
  expect(await whenReady(store, 10_000)).toBe(true);
  client = new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
  const env = {
    REDIS_CLUSTER_NODES: cluster.env,
    REDIS_KEY_PREFIX: prefix,
    LLM_BASE_URL: double.url,
    LLM_API_KEY: 'sk-test',
    LLM_MODEL: 'double-model',
    RERANK_CACHE_TTL_SECONDS: '600',
  };
  [a, b] = await Promise.all([buildTestApp({ env, jobs: false }), buildTestApp({ env, jobs: false })]);
}, 60_000);
afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  store?.disconnect();
  client?.disconnect();
  await double?.close();
  await cluster?.stop();
});

const post = (t: TestApp, payload: object) => t.app.inject({ method: 'POST', url: '/v1/rerank', payload });

describe('result cache on Redis Cluster', () => {
  it('the adapter works across masters: save, lookup, epoch check and erasure, each single-slot', async () => {
    const cache = createRedisRankingCache({ redis: store, keyPrefix: prefix });
    const users = Array.from({ length: 12 }, (_, i) => `cl-user-${i}`);
    for (const userId of users) {
      for (const digest of ['d1', 'd2']) {
        const { erasureEpoch } = await cache.lookup({ userId, digest });
        expect(await cache.save({ userId, digest }, { order: [1, 0], outcome: 'ok' }, 600, erasureEpoch)).toBe(true);
      }
    }
    const owners = new Set(await Promise.all(users.map((u) => cluster.ownerOf(keys.rankingIndex(u)))));
    expect(owners.size).toBeGreaterThan(1);
    for (const u of users) {
      const slots = await Promise.all([keys.rankingEntry(u, 'd1'), keys.rankingIndex(u), keys.rankingErasure(u)].map((k) => client.cluster('KEYSLOT', k)));
      expect(new Set(slots).size).toBe(1);
    }
    const before = (await cache.lookup({ userId: users[0] as string, digest: 'd3' })).erasureEpoch;
    expect(await cache.deleteUser(users[0] as string)).toBe(2);
    expect(await cache.save({ userId: users[0] as string, digest: 'd3' }, { order: [0], outcome: 'ok' }, 600, before)).toBe(false);
    expect((await cache.lookup({ userId: users[0] as string, digest: 'd1' })).entry).toBeNull();
    expect((await cache.lookup({ userId: users[1] as string, digest: 'd1' })).entry).toEqual({ order: [1, 0], outcome: 'ok' });
  });

  it('two replicas share rankings; DELETE /v1/users on one erases for both', async () => {
    expect((await post(a, body('cl-http'))).json().cache).toBe('miss');
    await a.container.resultCache?.drain();
    const hit = (await post(b, body('cl-http'))).json();
    expect(hit).toMatchObject({ cache: 'hit', fallback: null });
    expect(hit.usage.llmCalls).toBe(0);
    expect((await b.app.inject({ method: 'DELETE', url: '/v1/users/cl-http' })).statusCode).toBe(200);
    expect(await client.exists(keys.rankingIndex('cl-http'))).toBe(0);
    expect((await post(a, body('cl-http'))).json().cache).toBe('miss');
  });
});
