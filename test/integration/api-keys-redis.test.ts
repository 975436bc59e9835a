/**
 * API keys in Redis (API_KEYS=redis), on a private redis-server and on the 3-master Cluster: two API replicas
 * share the keys (a key created or revoked on one is honoured by the other within API_KEYS_POLL_MS, no
 * restart), usage and the daily quota are counted across replicas, only hashes are stored, every key sits in
 * the `{apikeys}` slot, the day counter expires, and revoke/rotate are a compare-and-set.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey } from '../../src/api-keys/api-keys.js';
import { createKeySchema, clusterHashTag } from '../../src/store/key-schema.js';
import { createRedisApiKeyStore } from '../../src/store/redis-api-key-store.js';
import { createRedis, whenReady, type RedisClient } from '../../src/store/redis-connection.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';
import { startRedisCluster, type RedisClusterHandle } from '../../testkit/redis-cluster.js';

const ADMIN = 'admin-token-0123456789';
const payload = { userId: 'u', method: 'baseline', history: [], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] };
const rerank = (t: TestApp, key: string) => t.app.inject({ method: 'POST', url: '/v1/rerank', payload, headers: { authorization: `Bearer ${key}` } });
const admin = (t: TestApp, method: 'GET' | 'POST' | 'DELETE', url: string, body?: object) =>
  t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN}` }, ...(body ? { payload: body } : {}) });

async function waitForStatus(t: TestApp, key: string, status: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < 3_000) {
    if ((await rerank(t, key)).statusCode === status) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never answered ${status}`);
}

/** The shared scenario on two replicas of one Redis (single server or Cluster). */
function replicaSuite(name: string, setup: () => Promise<{ env: Record<string, string>; raw: RedisClient; prefix: string; close(): Promise<void> }>): void {
  describe(name, () => {
    let a: TestApp;
    let b: TestApp;
    let raw: RedisClient;
    let prefix: string;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const s = await setup();
      ({ raw, prefix, close } = s);
      const env = { ...s.env, API_KEYS: 'redis', API_KEYS_POLL_MS: '200', ADMIN_TOKEN: ADMIN };
      [a, b] = await Promise.all([buildTestApp({ env, jobs: false }), buildTestApp({ env, jobs: false })]);
    }, 60_000);
    afterAll(async () => {
      await Promise.allSettled([a?.close(), b?.close()]);
      await close?.();
    });

    it('a key created on replica A works on B within a second; revoking on A stops it on B', async () => {
      const created = await admin(a, 'POST', '/admin/v1/api-keys', { name: 'shared', dailyLlmCallQuota: 5 });
      expect(created.statusCode).toBe(201);
      const { key } = created.json() as { key: string };
      expect((await rerank(a, key)).statusCode).toBe(200);
      expect(await waitForStatus(b, key, 200)).toBeLessThan(1_500);
      expect((await admin(a, 'DELETE', '/admin/v1/api-keys/shared')).statusCode).toBe(200);
      expect((await rerank(a, key)).statusCode).toBe(401);
      expect(await waitForStatus(b, key, 401)).toBeLessThan(1_500);
    });

    it('rotation on B: the old key is refused on both replicas, the new one accepted', async () => {
      const { key: old } = (await admin(a, 'POST', '/admin/v1/api-keys', { name: 'rot' })).json() as { key: string };
      await waitForStatus(b, old, 200);
      const { key: fresh } = (await admin(b, 'POST', '/admin/v1/api-keys/rot/rotate', {})).json() as { key: string };
      expect((await rerank(b, old)).statusCode).toBe(401);
      await waitForStatus(a, old, 401);
      expect((await rerank(a, fresh)).statusCode).toBe(200);
    });

    it('usage from both replicas adds up; Redis holds hashes only, all in the {apikeys} slot, day counters expire', async () => {
      const { key } = (await admin(a, 'POST', '/admin/v1/api-keys', { name: 'usage' })).json() as { key: string };
      await waitForStatus(b, key, 200); // one rerank on b
      expect((await rerank(a, key)).statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
      const view = (await admin(b, 'GET', '/admin/v1/api-keys/usage')).json();
      expect(view.usage.reranks).toBeGreaterThanOrEqual(2);
      const schema = createKeySchema(prefix);
      const records = await raw.hgetall(schema.apiKeyRecords());
      const stored = JSON.stringify(records);
      expect(stored).toContain(hashApiKey(key));
      expect(stored).not.toContain(key);
      const today = new Date().toISOString().slice(0, 10);
      for (const k of [schema.apiKeyRecords(), schema.apiKeyUsage('usage'), schema.apiKeyDaily('usage', today)]) expect(clusterHashTag(k)).toBe('apikeys');
      const ttl = await raw.ttl(schema.apiKeyDaily('usage', today));
      expect(ttl).toBeGreaterThan(86_400);
      expect(ttl).toBeLessThanOrEqual(2 * 86_400);
    });

    it('replace is a compare-and-set: a stale record loses', async () => {
      const store = createRedisApiKeyStore({ redis: raw, keyPrefix: prefix });
      const g = generateApiKey();
      const rec = { name: 'cas', hash: g.hash, prefix: g.prefix, last4: g.last4, createdAt: 1, revokedAt: null };
      expect(await store.create!(rec)).toBe(true);
      expect(await store.create!(rec)).toBe(false);
      expect(await store.replace!(rec, { ...rec, revokedAt: 2 })).toBe(true);
      expect(await store.replace!(rec, { ...rec, revokedAt: 3 })).toBe(false);
      expect((await store.list()).find((r) => r.name === 'cas')?.revokedAt).toBe(2);
    });
  });
}

replicaSuite('single redis-server', async () => {
  const server: RedisServerHandle = await startRedisServer();
  const prefix = uniquePrefix('keys');
  const raw = new Redis(server.url);
  return { env: { REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix }, raw, prefix, close: async () => { raw.disconnect(); await server.stop(); } };
});

replicaSuite('Redis Cluster (3 masters)', async () => {
  const cluster: RedisClusterHandle = await startRedisCluster({ masters: 3 });
  const prefix = uniquePrefix('keyscl');
  const raw = createRedis({ clusterNodes: cluster.nodes }, { role: 'cache' });
  expect(await whenReady(raw, 10_000)).toBe(true);
  return { env: { REDIS_CLUSTER_NODES: cluster.env, REDIS_KEY_PREFIX: prefix }, raw, prefix, close: async () => { raw.disconnect(); await cluster.stop(); } };
});
