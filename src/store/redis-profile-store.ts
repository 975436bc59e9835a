/**
 * Redis ProfileStore. All of one user's keys carry the same hash tag (see key-schema.ts), so each
 * operation is single-slot and works unchanged on Redis Cluster:
 *
 * - lookup: ONE round trip, `MGET exact latest erased`: the entries and the user's erasure epoch.
 * - save: ONE script: if the erasure epoch still equals the one the lookup saw, `SET exact EX ttl;
 *   SET latest EX ttl; SADD idx exact latest; EXPIRE idx ttl`, else nothing. The index gets the TTL of the
 *   most recent save; with a constant PROFILE_TTL_SECONDS that outlives every entry it lists.
 * - deleteUser: ONE atomic script: `INCR erased; EXPIRE erased tombstoneTtl`, then delete what the per-user
 *   index lists (no SCAN). A generation that started before the erasure carries the old epoch, so its write
 *   is dropped, whichever replica runs it.
 *
 * The epoch key is a short-lived tombstone: it must outlive any generation in flight when the erasure ran
 * (bounded by the rerank and refresh deadlines, seconds), and then expires, so erased users leave no
 * lasting trace. The counter restarts at 1 after it expires; an epoch seen before would have to belong
 * to a generation older than the tombstone's TTL.
 *
 * Values are JSON `{text, historyDigest, createdAt}`; a corrupt value reads as null. Redis errors
 * propagate: the caller decides the fallback. They are fast when Redis is down because the `cache`
 * connection from createRedis() has `enableOfflineQueue: false` and `maxRetriesPerRequest: 1`; only the
 * very first connection attempt is waited for (see ensureConnected).
 */
import type { ErasureEpoch, ProfileKey, ProfileLookup, ProfileStore, StoredProfile } from '../agp/ports.js';
import { UNKNOWN_ERASURE_EPOCH } from '../agp/ports.js';
import { createKeySchema, DEFAULT_KEY_PREFIX } from './key-schema.js';
import { ensureConnected } from './redis-connection.js';
import type { RedisClient } from './redis-connection.js';

export interface RedisProfileStoreOptions {
  redis: RedisClient;
  keyPrefix?: string;
  /** Lifetime of a user's erasure tombstone (default 3600 s); must exceed the longest profile generation. */
  erasureTombstoneSeconds?: number;
}

/** Default lifetime of an erasure tombstone: far above any generation deadline, short enough to leave no lasting trace. */
export const DEFAULT_ERASURE_TOMBSTONE_SECONDS = 3600;

/**
 * Bumps the erasure epoch KEYS[2] (TTL ARGV[1] s), deletes every key listed in the index set KEYS[1], then
 * the set; returns the number of entries removed.
 */
const ERASE_USER_LUA = `
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
local members = redis.call('SMEMBERS', KEYS[1])
local removed = 0
for i = 1, #members, 500 do
  removed = removed + redis.call('DEL', unpack(members, i, math.min(i + 499, #members)))
end
redis.call('DEL', KEYS[1])
return removed
`;

/**
 * KEYS: exact, latest, idx, erased. ARGV: value, ttl, epoch ('' = unconditional). Writes both entries and
 * indexes them unless the user's erasure epoch moved past ARGV[3]; returns 1 when written, 0 when dropped.
 */
const SAVE_LUA = `
if ARGV[3] ~= '' and (redis.call('GET', KEYS[4]) or '${UNKNOWN_ERASURE_EPOCH}') ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
redis.call('SADD', KEYS[3], KEYS[1], KEYS[2])
redis.call('EXPIRE', KEYS[3], ARGV[2])
return 1
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
  const tombstoneTtl = Math.max(1, Math.ceil(opts.erasureTombstoneSeconds ?? DEFAULT_ERASURE_TOMBSTONE_SECONDS));

  return {
    async lookup(key: ProfileKey): Promise<ProfileLookup> {
      await ensureConnected(redis);
      const [exact, latest, epoch] = await redis.mget(keys.profileExact(key), keys.profileLatest(key), keys.profileErasure(key.userId));
      return { exact: decodeProfile(exact), latest: decodeProfile(latest), erasureEpoch: epoch ?? UNKNOWN_ERASURE_EPOCH };
    },

    async save(key: ProfileKey, profile: StoredProfile, ttlSeconds: number, erasureEpoch?: ErasureEpoch): Promise<boolean> {
      const ttl = Math.max(1, Math.ceil(ttlSeconds));
      await ensureConnected(redis);
      const written = await redis.eval(
        SAVE_LUA,
        4,
        keys.profileExact(key),
        keys.profileLatest(key),
        keys.profileIndex(key.userId),
        keys.profileErasure(key.userId),
        encodeProfile(profile),
        ttl,
        erasureEpoch ?? '',
      );
      return Number(written) === 1;
    },

    async deleteUser(userId: string): Promise<number> {
      await ensureConnected(redis);
      const removed = await redis.eval(ERASE_USER_LUA, 2, keys.profileIndex(userId), keys.profileErasure(userId), tombstoneTtl);
      return Number(removed);
    },
  };
}
