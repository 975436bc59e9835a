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

describe('redis profile store', () => {
  it('misses cleanly', async () => {
    const { store } = freshStore();
    expect(await store.lookup(key())).toEqual({ exact: null, latest: null });
  });

  it('save/lookup: exact and latest, latest follows the most recent save', async () => {
    const { store } = freshStore();
    await store.save(key(), profile('likes noir'), 60);
    expect(await store.lookup(key())).toEqual({ exact: profile('likes noir'), latest: profile('likes noir') });

    const otherDigest = await store.lookup(key({ historyDigest: 'd2' }));
    expect(otherDigest.exact).toBeNull();
    expect(otherDigest.latest?.text).toBe('likes noir');

    await store.save(key({ historyDigest: 'd2' }), profile('likes comedy', 'd2'), 60);
    const first = await store.lookup(key());
    expect(first.exact?.text).toBe('likes noir');
    expect(first.latest).toEqual(profile('likes comedy', 'd2'));
    expect((await store.lookup(key({ domain: 'books' }))).latest).toBeNull();
    expect((await store.lookup(key({ promptVersion: 'v2' }))).latest).toBeNull();
  });

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

  it('entries expire after a short TTL', async () => {
    const { store } = freshStore();
    await store.save(key(), profile('short-lived'), 1);
    expect((await store.lookup(key())).exact?.text).toBe('short-lived');
    await sleep(1_300);
    expect(await store.lookup(key())).toEqual({ exact: null, latest: null });
  });

  it('deleteUser erases 2 domains × 2 versions and leaves other users intact', async () => {
    const { store, prefix } = freshStore();
    const keys = createKeySchema(prefix);
    const domains = ['movies', 'books'];
    const versions = ['v1', 'v2'];
    for (const domain of domains) {
      for (const promptVersion of versions) {
        await store.save(key({ domain, promptVersion }), profile(`${domain}/${promptVersion}`), 60);
        await store.save(key({ domain, promptVersion, historyDigest: 'd2' }), profile('newer', 'd2'), 60);
        await store.save(key({ domain, promptVersion, userId: 'u2' }), profile('other user'), 60);
      }
    }
    // 4 × (exact d1 + exact d2 + latest) = 12 entries
    expect(await store.deleteUser('u1')).toBe(12);
    for (const domain of domains) {
      for (const promptVersion of versions) {
        expect(await store.lookup(key({ domain, promptVersion }))).toEqual({ exact: null, latest: null });
        expect((await store.lookup(key({ domain, promptVersion, historyDigest: 'd2' }))).exact).toBeNull();
        const other = await store.lookup(key({ domain, promptVersion, userId: 'u2' }));
        expect(other.exact?.text).toBe('other user');
        expect(other.latest?.text).toBe('other user');
      }
    }
    expect(await redis.exists(keys.profileIndex('u1'))).toBe(0);
    expect(await redis.scard(keys.profileIndex('u2'))).toBe(8);
    expect(await store.deleteUser('u1')).toBe(0);
  });

  it('erases a user whose id contains braces and colons', async () => {
    const { store } = freshStore();
    const userId = 'a}{b:c';
    await store.save(key({ userId }), profile('x'), 60);
    expect((await store.lookup(key({ userId }))).exact?.text).toBe('x');
    expect(await store.deleteUser(userId)).toBe(2);
    expect((await store.lookup(key({ userId }))).latest).toBeNull();
  });

  it('a corrupt value reads as null instead of throwing', async () => {
    const { store, prefix } = freshStore();
    const keys = createKeySchema(prefix);
    await store.save(key(), profile('good'), 60);
    await redis.set(keys.profileExact(key()), '{not json');
    await redis.set(keys.profileLatest(key()), JSON.stringify({ text: 42 }));
    expect(await store.lookup(key())).toEqual({ exact: null, latest: null });
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
      expect(await store.lookup(key({ userId }))).toEqual({ exact: profile('p1'), latest: profile('p1') });
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
