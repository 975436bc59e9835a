/**
 * In-memory RankingCache for a single replica without Redis: a bounded LRU with a TTL per entry, a per-user
 * index for erasure, and the erasure epochs of memory-profile-store.ts (one counter, bounded tombstones whose
 * eviction raises a floor, so eviction can cost a cache write but never let an erased ranking back in).
 * Values are kept encoded (the same JSON as in Redis), so a caller cannot mutate a cached entry.
 */
import { LRUCache } from 'lru-cache';
import type { CachedRanking, Clock, ErasureEpoch, RankingCache, RankingCacheKey, RankingLookup } from '../agp/ports.js';
import { userHash } from './key-schema.js';
import { decodeRanking, encodeRanking } from './ranking-codec.js';

/** Options of the memory result cache. */
export interface MemoryRankingCacheOptions {
  /** Upper bound on cached rankings (RERANK_CACHE_MAX_ENTRIES). */
  maxEntries: number;
  /** Time source for TTLs (epoch-like ms > 0); tests step it. */
  clock?: Clock;
  /** Erasures remembered individually (default 10,000); older ones only through the floor. */
  maxTombstones?: number;
}

interface Entry {
  value: string;
  owner: string;
}

/** A RankingCache plus a size probe for tests. */
export interface MemoryRankingCache extends RankingCache {
  readonly size: number;
}

/** Creates the in-memory result cache. */
export function createMemoryRankingCache(opts: MemoryRankingCacheOptions): MemoryRankingCache {
  if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) throw new Error(`maxEntries must be a positive integer, got ${opts.maxEntries}`);
  const clock = opts.clock;
  /** owner digest → cache keys of that owner currently held. */
  const byUser = new Map<string, Set<string>>();
  const cache = new LRUCache<string, Entry>({
    max: opts.maxEntries,
    ttlAutopurge: false,
    ...(clock ? { perf: { now: () => clock.now() }, ttlResolution: 0 } : {}),
    dispose: (entry, key, reason) => {
      if (reason === 'set') return;
      const set = byUser.get(entry.owner);
      set?.delete(key);
      if (set?.size === 0) byUser.delete(entry.owner);
    },
  });
  let erasures = 0;
  let floor = 0;
  const tombstones = new LRUCache<string, number>({
    max: opts.maxTombstones ?? 10_000,
    dispose: (seq, _owner, reason) => {
      if (reason !== 'set') floor = Math.max(floor, seq);
    },
  });
  const erasedSince = (owner: string, epoch: ErasureEpoch): boolean => {
    const seen = Number.parseInt(epoch, 10) || 0;
    return floor > seen || (tombstones.get(owner) ?? 0) > seen;
  };
  // The owner digest separates users whatever their ids contain; the digest cannot contain a NUL.
  const keyOf = (owner: string, digest: string) => `${owner}\u0000${digest}`;

  return {
    get size() {
      return cache.size;
    },
    lookup(key: RankingCacheKey): Promise<RankingLookup> {
      const hit = cache.get(keyOf(userHash(key.userId), key.digest));
      return Promise.resolve({ entry: decodeRanking(hit?.value), erasureEpoch: String(erasures) });
    },
    save(key: RankingCacheKey, entry: CachedRanking, ttlSeconds: number, erasureEpoch: ErasureEpoch): Promise<boolean> {
      const owner = userHash(key.userId);
      if (erasedSince(owner, erasureEpoch)) return Promise.resolve(false);
      const k = keyOf(owner, key.digest);
      cache.set(k, { value: encodeRanking(entry), owner }, { ttl: Math.max(1, Math.round(ttlSeconds * 1000)) });
      let set = byUser.get(owner);
      if (!set) byUser.set(owner, (set = new Set()));
      set.add(k);
      return Promise.resolve(true);
    },
    deleteUser(userId: string): Promise<number> {
      const owner = userHash(userId);
      // The tombstone goes in even when nothing is cached: a ranking of the user may still be in flight.
      tombstones.set(owner, ++erasures);
      const set = byUser.get(owner);
      if (!set) return Promise.resolve(0);
      let removed = 0;
      for (const k of [...set]) {
        if (cache.has(k)) removed += 1;
        cache.delete(k);
      }
      byUser.delete(owner);
      return Promise.resolve(removed);
    },
  };
}
