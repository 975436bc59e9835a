/**
 * Redis ProfileStore. All of one user's keys carry the same hash tag (see key-schema.ts), so each
 * operation is single-slot and works unchanged on Redis Cluster:
 *
 * - lookup: ONE round trip, `MGET exact latest`.
 * - save: ONE transaction, `SET exact EX ttl; SET latest EX ttl; SADD idx exact latest; EXPIRE idx ttl`.
 *   The index gets the TTL of the most recent save; with a constant PROFILE_TTL_SECONDS that outlives
 *   every entry it lists.
 * - deleteUser: ONE atomic Lua script reading the per-user index and deleting what it lists (no SCAN).
 *
 * Values are JSON `{text, historyDigest, createdAt}`; a corrupt value reads as null. Redis errors
 * propagate: the caller decides the fallback. They are fast when Redis is down because the `cache`
 * connection from createRedis() has `enableOfflineQueue: false` and `maxRetriesPerRequest: 1`; only the
 * very first connection attempt is waited for (see ensureConnected).
 */
import type { ProfileKey, ProfileLookup, ProfileStore, StoredProfile } from '../agp/ports.js';
import { createKeySchema, DEFAULT_KEY_PREFIX } from './key-schema.js';
import { ensureConnected } from './redis-connection.js';
import type { RedisClient } from './redis-connection.js';

export interface RedisProfileStoreOptions {
  redis: RedisClient;
  keyPrefix?: string;
}

/** Deletes every key listed in the index set KEYS[1], then the set; returns the number of entries removed. */
const ERASE_USER_LUA = `
local members = redis.call('SMEMBERS', KEYS[1])
local removed = 0
for i = 1, #members, 500 do
  removed = removed + redis.call('DEL', unpack(members, i, math.min(i + 499, #members)))
end
redis.call('DEL', KEYS[1])
return removed
`;

/** Parses a stored value; anything that is not a well-formed profile reads as null. */
export function decodeProfile(raw: string | null | undefined): StoredProfile | null {
  if (raw == null) return null;
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null) return null;
    const { text, historyDigest, createdAt } = v as Record<string, unknown>;
    if (typeof text !== 'string' || typeof historyDigest !== 'string') return null;
    if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) return null;
    return { text, historyDigest, createdAt };
  } catch {
    return null;
  }
}

export function encodeProfile(p: StoredProfile): string {
  return JSON.stringify({ text: p.text, historyDigest: p.historyDigest, createdAt: p.createdAt });
}

export function createRedisProfileStore(opts: RedisProfileStoreOptions): ProfileStore {
  const { redis } = opts;
  const keys = createKeySchema(opts.keyPrefix ?? DEFAULT_KEY_PREFIX);

  return {
    async lookup(key: ProfileKey): Promise<ProfileLookup> {
      await ensureConnected(redis);
      const [exact, latest] = await redis.mget(keys.profileExact(key), keys.profileLatest(key));
      return { exact: decodeProfile(exact), latest: decodeProfile(latest) };
    },

    async save(key: ProfileKey, profile: StoredProfile, ttlSeconds: number): Promise<void> {
      const ttl = Math.max(1, Math.ceil(ttlSeconds));
      const exactKey = keys.profileExact(key);
      const latestKey = keys.profileLatest(key);
      const idxKey = keys.profileIndex(key.userId);
      const value = encodeProfile(profile);
      await ensureConnected(redis);
      const results = await redis
        .multi()
        .set(exactKey, value, 'EX', ttl)
        .set(latestKey, value, 'EX', ttl)
        .sadd(idxKey, exactKey, latestKey)
        .expire(idxKey, ttl)
        .exec();
      // exec() resolves null when the transaction was discarded, and carries per-command errors.
      if (results === null) throw new Error('redis profile save: transaction aborted');
      for (const [err] of results) if (err) throw err;
    },

    async deleteUser(userId: string): Promise<number> {
      await ensureConnected(redis);
      const removed = await redis.eval(ERASE_USER_LUA, 1, keys.profileIndex(userId));
      return Number(removed);
    },
  };
}
