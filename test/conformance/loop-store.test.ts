/**
 * The LoopStore conformance suite against the in-memory store, the Redis store on a private redis-server, and the
 * Redis store on a private 3-master Redis Cluster (no operation may be cross-slot). Plus the key layout: every
 * key of a domain in one slot, the indexes apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterHashTag, createKeySchema } from '../../src/store/key-schema.js';
import { createMemoryLoopStore } from '../../src/store/memory-loop-store.js';
import { createRedis, whenReady } from '../../src/store/redis-connection.js';
import type { RedisClient } from '../../src/store/redis-connection.js';
import { createRedisLoopStore } from '../../src/store/redis-loop-store.js';
import { startRedisCluster } from '../../testkit/redis-cluster.js';
import type { RedisClusterHandle } from '../../testkit/redis-cluster.js';
import { uniquePrefix } from '../../testkit/redis-server.js';
import { describeLoopStoreConformance, HOSTILE_DOMAIN } from './loop-store-conformance.js';
import type { LoopStoreUnderTest } from './loop-store-conformance.js';
import { onRedisServer } from './port-harness.js';
import type { PortHarness } from './port-harness.js';

/** The Redis store with its prefix, its twin on a second connection, and holes made by writing the index directly. */
function redisUnderTest(redis: RedisClient, other: RedisClient): LoopStoreUnderTest {
  const keyPrefix = uniquePrefix('loop');
  const keys = createKeySchema(keyPrefix);
  return {
    store: createRedisLoopStore({ redis, keyPrefix }),
    twin: createRedisLoopStore({ redis: other, keyPrefix }),
    indexHole: async (index, domain) => {
      await redis.sadd(index === 'schedules' ? keys.loopDomains() : keys.loopPinned(), domain);
    },
  };
}

/** One private 3-master cluster per suite and two cluster connections to it (two replicas). */
function onRedisCluster(): PortHarness<LoopStoreUnderTest> {
  let cluster: RedisClusterHandle | undefined;
  const clients: RedisClient[] = [];
  return {
    async start() {
      cluster = await startRedisCluster({ masters: 3 });
      for (let i = 0; i < 2; i++) {
        const redis = createRedis({ clusterNodes: cluster.nodes }, { role: 'cache' });
        clients.push(redis);
        if (!(await whenReady(redis, 10_000))) throw new Error('cluster connection did not come up');
      }
    },
    async stop() {
      for (const c of clients.splice(0)) c.disconnect();
      await cluster?.stop();
    },
    create: () => Promise.resolve(redisUnderTest(clients[0] as RedisClient, clients[1] as RedisClient)),
  };
}

describeLoopStoreConformance(
  'memory',
  { start: () => Promise.resolve(), stop: () => Promise.resolve(), create: () => Promise.resolve({ store: createMemoryLoopStore() }) },
);

describeLoopStoreConformance(
  'Redis',
  onRedisServer(async (connect) => redisUnderTest(await connect(), await connect())),
);

describeLoopStoreConformance('Redis Cluster (3 masters)', onRedisCluster());

describe('loop key layout', () => {
  const keys = createKeySchema('agp');
  const perDomain = (d: string) => [keys.loopSchedule(d), keys.loopPin(d), keys.loopRun(d), keys.loopRuns(d), keys.loopAudit(d)];

  it('puts every key of a domain under one `{loop.<32 hex>}` tag, a different one per domain, and no raw domain in a key', () => {
    for (const d of ['movies', HOSTILE_DOMAIN]) {
      const tags = new Set(perDomain(d).map(clusterHashTag));
      expect(tags.size).toBe(1);
      expect([...tags][0]).toMatch(/^loop\.[0-9a-f]{32}$/);
      expect(new Set(perDomain(d)).size).toBe(5);
    }
    expect(clusterHashTag(keys.loopRun('movies'))).not.toBe(clusterHashTag(keys.loopRun('books')));
    expect(perDomain(HOSTILE_DOMAIN).join(' ')).not.toContain('vi{es}');
  });

  it('keeps the two indexes out of every domain tag', () => {
    expect([keys.loopDomains(), keys.loopPinned()]).toEqual(['agp:loop:domains', 'agp:loop:pins']);
    expect(clusterHashTag(keys.loopDomains())).toBe('agp:loop:domains');
  });
});

describe('Redis loop store: errors propagate', () => {
  let redis: RedisClient;
  beforeAll(() => {
    // Nothing listens on port 1: the fail-fast role rejects instead of waiting.
    redis = createRedis('redis://127.0.0.1:1', { role: 'cache' });
  });
  afterAll(() => redis.disconnect());

  it('rejects instead of answering null or empty when Redis is unreachable', async () => {
    const store = createRedisLoopStore({ redis, keyPrefix: uniquePrefix('loop') });
    await expect(store.currentRun('movies')).rejects.toThrow();
    await expect(store.listAudit('movies', { limit: 5 })).rejects.toThrow();
  });
});
