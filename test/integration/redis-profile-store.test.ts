import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProfileKey, ProfileStore, StoredProfile } from '../../src/agp/ports.js';
import { createKeySchema } from '../../src/store/key-schema.js';
import { createRedis, pingRedis, whenReady } from '../../src/store/redis-connection.js';
import type { RedisClient } from '../../src/store/redis-connection.js';
import { createRedisProfileStore } from '../../src/store/redis-profile-store.js';
import { startRedisServer, uniquePrefix } from '../../testkit/redis-server.js';
import type { RedisServerHandle } from '../../testkit/redis-server.js';
import { sleep } from '../../testkit/wait.js';

const key = (over: Partial<ProfileKey> = {}): ProfileKey => ({
  domain: 'movies',
  promptVersion: 'v1',
  userId: 'u1',
  historyDigest: 'd1',
  ...over,
});
const profile = (text: string, historyDigest = 'd1', createdAt = 1_700_000_000_000): StoredProfile => ({
  text,
  historyDigest,
  createdAt,
});

let server: RedisServerHandle;
let redis: RedisClient;

beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedis(server.url, { role: 'cache' });
  expect(await whenReady(redis, 5_000)).toBe(true);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

function freshStore(): { store: ProfileStore; prefix: string } {
  const prefix = uniquePrefix();
  return { store: createRedisProfileStore({ redis, keyPrefix: prefix }), prefix };
}

// Lookup, save, TTL and erasure are the ProfileStore conformance suite (test/conformance/profile-store.test.ts);
// here: what only the Redis store has (its keys, corrupt values, connections, Cluster slots).
describe('redis profile store', () => {
  it('writes the documented keys with a TTL and indexes them per user', async () => {
    const { store, prefix } = freshStore();
    const keys = createKeySchema(prefix);
    await store.save(key(), profile('p'), 100);
    const exactTtl = await redis.ttl(keys.profileExact(key()));
    const latestTtl = await redis.ttl(keys.profileLatest(key()));
    const idxTtl = await redis.ttl(keys.profileIndex('u1'));
    for (const ttl of [exactTtl, latestTtl, idxTtl]) expect(ttl).toBeGreaterThan(90);
    expect((await redis.smembers(keys.profileIndex('u1'))).sort()).toEqual(
      [keys.profileExact(key()), keys.profileLatest(key())].sort(),
    );
    expect(JSON.parse((await redis.get(keys.profileExact(key()))) ?? 'null')).toEqual(profile('p'));
  });

  it('a corrupt value reads as null instead of throwing', async () => {
    const { store, prefix } = freshStore();
    const keys = createKeySchema(prefix);
    await store.save(key(), profile('good'), 60);
    await redis.set(keys.profileExact(key()), '{not json');
    await redis.set(keys.profileLatest(key()), JSON.stringify({ text: 42 }));
    expect(await store.lookup(key())).toEqual({ exact: null, latest: null, erasureEpoch: expect.any(String) });
  });
});

describe('redis connection', () => {
  it('pingRedis answers true for a live server and false for a dead port, within the timeout', async () => {
    expect(await pingRedis(redis, 1_000)).toBe(true);
    const dead = createRedis('redis://127.0.0.1:1', { role: 'cache' });
    try {
      const t0 = Date.now();
      expect(await pingRedis(dead, 300)).toBe(false);
      expect(Date.now() - t0).toBeLessThan(1_000);
    } finally {
      dead.disconnect();
    }
  });

  it('a brand-new cache connection is usable at once (the first connection attempt is awaited)', async () => {
    const fresh = createRedis(server.url, { role: 'cache' });
    try {
      const store = createRedisProfileStore({ redis: fresh, keyPrefix: uniquePrefix() });
      await store.save(key(), profile('immediately'), 60); // no whenReady() before this
      expect((await store.lookup(key())).exact?.text).toBe('immediately');
    } finally {
      fresh.disconnect();
    }
  });

  it('with Redis unreachable from the start, only the first call waits; later calls fail fast', async () => {
    const dead = createRedis('redis://127.0.0.1:1', { role: 'cache' });
    try {
      const store = createRedisProfileStore({ redis: dead, keyPrefix: uniquePrefix() });
      const t0 = Date.now();
      await expect(store.lookup(key())).rejects.toThrow();
      expect(Date.now() - t0).toBeLessThan(1_000); // connection refused ends the first attempt at once
      const t1 = Date.now();
      await expect(store.lookup(key())).rejects.toThrow();
      expect(Date.now() - t1).toBeLessThan(100);
    } finally {
      dead.disconnect();
    }
  });

  it('a cache connection fails fast while Redis is down and recovers after it restarts', async () => {
    const own = await startRedisServer();
    const client = createRedis(own.url, { role: 'cache' });
    const store = createRedisProfileStore({ redis: client, keyPrefix: uniquePrefix() });
    try {
      expect(await whenReady(client, 5_000)).toBe(true);
      await store.save(key(), profile('before'), 60);
      own.kill('SIGKILL');
      await sleep(100);
      const t0 = Date.now();
      await expect(store.lookup(key())).rejects.toThrow();
      expect(Date.now() - t0).toBeLessThan(500);

      await own.restart(); // no persistence: data is gone, but the connection must come back by itself
      const until = Date.now() + 5_000;
      let recovered = false;
      while (!recovered && Date.now() < until) {
        recovered = await store.lookup(key()).then(
          () => true,
          () => false,
        );
        if (!recovered) await sleep(100);
      }
      expect(recovered).toBe(true);
      await store.save(key(), profile('after'), 60);
      expect((await store.lookup(key())).exact?.text).toBe('after');
    } finally {
      client.disconnect();
      await own.stop();
    }
  });
});

describe('redis profile store on a one-node Redis Cluster (CROSSSLOT enforced)', () => {
  it('lookup, save and deleteUser stay single-slot', async () => {
    const own = await startRedisServer({ cluster: true });
    const cluster = createRedis({ clusterNodes: [`127.0.0.1:${own.port}`] }, { role: 'cache' });
    try {
      expect(await whenReady(cluster, 5_000)).toBe(true);
      const prefix = uniquePrefix();
      const keys = createKeySchema(prefix);
      // The server really rejects multi-key commands across slots, so passing below means one slot.
      await expect(cluster.mget(keys.profileIndex('a'), keys.profileIndex('b'))).rejects.toThrow(/CROSSSLOT/);

      const store = createRedisProfileStore({ redis: cluster, keyPrefix: prefix });
      const userId = 'x}{y:z';
      await store.save(key({ userId }), profile('p1'), 60);
      await store.save(key({ userId, domain: 'books', historyDigest: 'd2' }), profile('p2', 'd2'), 60);
      await store.save(key({ userId: 'other' }), profile('keep'), 60);
      expect(await store.lookup(key({ userId }))).toEqual({ exact: profile('p1'), latest: profile('p1'), erasureEpoch: expect.any(String) });
      expect(await store.deleteUser(userId)).toBe(4);
      expect((await store.lookup(key({ userId, domain: 'books', historyDigest: 'd2' }))).latest).toBeNull();
      expect((await store.lookup(key({ userId: 'other' }))).exact?.text).toBe('keep');
      expect(await pingRedis(cluster, 1_000)).toBe(true);
    } finally {
      cluster.disconnect();
      await own.stop();
    }
  });
});
