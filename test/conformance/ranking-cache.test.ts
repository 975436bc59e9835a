/** The RankingCache conformance suite against the in-memory cache and the Redis cache (private redis-server). */
import { expect, it } from 'vitest';
import { createMemoryRankingCache } from '../../src/store/memory-ranking-cache.js';
import { createRedisRankingCache } from '../../src/store/redis-ranking-cache.js';
import { clusterHashTag, createKeySchema, userHash } from '../../src/store/key-schema.js';
import { sleep } from '../../testkit/wait.js';
import { startRedisServer, uniquePrefix } from '../../testkit/redis-server.js';
import { createRedis, whenReady } from '../../src/store/redis-connection.js';
import { onRedisServer, standalone } from './port-harness.js';
import { describeRankingCacheConformance } from './ranking-cache-conformance.js';

describeRankingCacheConformance(
  'memory',
  standalone(() => {
    let now = 1_700_000_000_000;
    const cache = createMemoryRankingCache({ maxEntries: 1_000, clock: { now: () => now } });
    return { cache, elapse: (ms: number) => Promise.resolve(void (now += ms)) };
  }),
);

describeRankingCacheConformance(
  'Redis',
  onRedisServer(async (connect) => {
    const redis = await connect();
    const prefix = uniquePrefix();
    const keys = createKeySchema(prefix);
    return {
      cache: createRedisRankingCache({ redis, keyPrefix: prefix }),
      // Redis expires keys on its own clock.
      elapse: sleep,
      writeRaw: async (userId: string, digest: string, raw: string) => void (await redis.set(keys.rankingEntry(userId, digest), raw, 'EX', 60)),
    };
  }),
);

it('memory: bounded by maxEntries, and erasure counts only what is still held', async () => {
  const cache = createMemoryRankingCache({ maxEntries: 2 });
  for (const digest of ['a', 'b', 'c']) await cache.save({ userId: 'u', digest }, { order: [0], outcome: 'ok' }, 60, '0');
  expect(cache.size).toBe(2);
  expect((await cache.lookup({ userId: 'u', digest: 'a' })).entry).toBeNull();
  expect(await cache.deleteUser('u')).toBe(2);
});

it('Redis: the per-user index is trimmed of expired entries, carries a TTL, and all keys share the user slot', async () => {
  const server = await startRedisServer();
  const redis = createRedis(server.url, { role: 'cache' });
  try {
    expect(await whenReady(redis, 5_000)).toBe(true);
    const prefix = uniquePrefix();
    const keys = createKeySchema(prefix);
    const cache = createRedisRankingCache({ redis, keyPrefix: prefix });
    await cache.save({ userId: 'u', digest: 'short' }, { order: [0], outcome: 'ok' }, 1, '0');
    await sleep(2_100);
    await cache.save({ userId: 'u', digest: 'long' }, { order: [0], outcome: 'ok' }, 60, '0');
    // The expired entry's member went with the second save: the index cannot grow without bound.
    expect(await redis.zrange(keys.rankingIndex('u'), 0, -1)).toEqual(['long']);
    expect(keys.rankingEntry('u', '') + 'long').toBe(keys.rankingEntry('u', 'long'));
    const ttl = await redis.ttl(keys.rankingIndex('u'));
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
    const tags = [keys.rankingEntry('u', 'long'), keys.rankingIndex('u'), keys.rankingErasure('u')].map(clusterHashTag);
    expect(new Set(tags).size).toBe(1);
    expect(tags[0]).toBe(userHash('u'));
  } finally {
    redis.disconnect();
    await server.stop();
  }
}, 20_000);
