/**
 * Redis RankingCache (the result cache). Every key of one user carries the user's hash tag (key-schema.ts),
 * so each operation is single-slot and works unchanged on Redis Cluster:
 *
 * - lookup: ONE round trip, `MGET entry erased`: the ranking and the user's erasure epoch.
 * - save: ONE script: unless the epoch moved past the one the lookup saw, `SET entry EX ttl`, trim expired
 *   members from the user's index (a sorted set of entry digests scored by expiry, so it cannot grow without
 *   bound), ZADD the digest, and extend the index's TTL. Expiry is read from the server's TIME, not a replica's clock.
 * - deleteUser: ONE script: `INCR erased; EXPIRE erased tombstoneTtl`, delete what the index lists, then it.
 *
 * Values are JSON (ranking-codec.ts); a corrupt value reads as a miss. Redis errors propagate: the result
 * cache treats a failed lookup as a miss and a failed write as a lost write.
 */
import type { CachedRanking, ErasureEpoch, RankingCache, RankingCacheKey, RankingLookup } from '../agp/ports.js';
import { UNKNOWN_ERASURE_EPOCH } from '../agp/ports.js';
import { createKeySchema, DEFAULT_KEY_PREFIX, encodeSegment } from './key-schema.js';
import { ensureConnected } from './redis-connection.js';
import type { RedisClient } from './redis-connection.js';
import { decodeRanking, encodeRanking } from './ranking-codec.js';

/** Options of the Redis result cache. */
export interface RedisRankingCacheOptions {
  redis: RedisClient;
  keyPrefix?: string;
  /** Lifetime of a user's erasure epoch (default 3600 s); must exceed the longest ranking (a rerank deadline). */
  erasureTombstoneSeconds?: number;
}

/**
 * KEYS: entry, idx, erased. ARGV: value, ttl (s), epoch, index member (the entry key's last segment: short,
 * so the index stays a compact listpack). 1 when written, 0 when the user was erased since.
 */
const SAVE_LUA = `
if (redis.call('GET', KEYS[3]) or '${UNKNOWN_ERASURE_EPOCH}') ~= ARGV[3] then return 0 end
local ttl = tonumber(ARGV[2])
local now = tonumber(redis.call('TIME')[1])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[4])
local cur = redis.call('TTL', KEYS[2])
if cur < ttl then redis.call('EXPIRE', KEYS[2], ttl) end
return 1
`;

/**
 * KEYS: idx, erased. ARGV: tombstone TTL (s), the entry-key base (the user's entries are base .. member, all
 * in the user's slot). Bumps the epoch, deletes the listed entries and the index.
 */
const ERASE_LUA = `
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local removed = 0
for i = 1, #members, 500 do
  local batch = {}
  for j = i, math.min(i + 499, #members) do batch[#batch + 1] = ARGV[2] .. members[j] end
  removed = removed + redis.call('DEL', unpack(batch))
end
redis.call('DEL', KEYS[1])
return removed
`;

/** Creates the Redis result cache. */
export function createRedisRankingCache(opts: RedisRankingCacheOptions): RankingCache {
  const { redis } = opts;
  const keys = createKeySchema(opts.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const tombstoneTtl = Math.max(1, Math.ceil(opts.erasureTombstoneSeconds ?? 3600));
  return {
    async lookup(key: RankingCacheKey): Promise<RankingLookup> {
      await ensureConnected(redis);
      const [raw, epoch] = await redis.mget(keys.rankingEntry(key.userId, key.digest), keys.rankingErasure(key.userId));
      return { entry: decodeRanking(raw), erasureEpoch: epoch ?? UNKNOWN_ERASURE_EPOCH };
    },
    async save(key: RankingCacheKey, entry: CachedRanking, ttlSeconds: number, erasureEpoch: ErasureEpoch): Promise<boolean> {
      await ensureConnected(redis);
      const ttl = Math.max(1, Math.ceil(ttlSeconds));
      const written = await redis.eval(
        SAVE_LUA,
        3,
        keys.rankingEntry(key.userId, key.digest),
        keys.rankingIndex(key.userId),
        keys.rankingErasure(key.userId),
        encodeRanking(entry),
        ttl,
        erasureEpoch,
        encodeSegment(key.digest),
      );
      return Number(written) === 1;
    },
    async deleteUser(userId: string): Promise<number> {
      await ensureConnected(redis);
      const base = keys.rankingEntry(userId, '');
      return Number(await redis.eval(ERASE_LUA, 2, keys.rankingIndex(userId), keys.rankingErasure(userId), tombstoneTtl, base));
    },
  };
}
