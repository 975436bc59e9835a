/**
 * In-memory ProfileStore for a single replica without Redis: a bounded LRU with a TTL per entry.
 * Same semantics as the Redis store: an exact entry and a `latest` entry per (domain, version, user),
 * both counting toward `maxEntries`, and per-user erasure across all domains and versions.
 *
 * Erasure epochs: one counter for the store, bumped by every erasure; a lookup reports its current value and
 * an erasure leaves a tombstone (user → counter) that makes writes carrying an older value no-ops. Tombstones
 * are bounded by `maxTombstones`; when one is evicted its counter becomes a floor below which every write is
 * dropped, so eviction can cost a cache write but never let an erased profile back in.
 */
import { LRUCache } from 'lru-cache';
import type { Clock, ErasureEpoch, ProfileKey, ProfileLookup, ProfileStore, StoredProfile } from '../agp/ports.js';
import { createKeySchema, userHash } from './key-schema.js';

export interface MemoryProfileStoreOptions {
  /** Upper bound on cached entries (exact and latest entries both count). */
  maxEntries: number;
  /** Time source for TTLs; must return epoch-like milliseconds (> 0). */
  clock?: Clock;
  /** Erasures remembered individually (default 10,000); older ones only through the floor. */
  maxTombstones?: number;
}

interface Entry {
  profile: StoredProfile;
  /** Digest of the owner's user id, to keep the per-user index in step on eviction. */
  owner: string;
}

/** A ProfileStore plus a size probe for tests and metrics. */
export interface MemoryProfileStore extends ProfileStore {
  /** Entries currently held (expired ones may still count until touched or evicted). */
  readonly size: number;
}

export function createMemoryProfileStore(opts: MemoryProfileStoreOptions): MemoryProfileStore {
  if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) {
    throw new Error(`maxEntries must be a positive integer, got ${opts.maxEntries}`);
  }
  const keys = createKeySchema('mem');
  /** owner digest → keys of that owner currently in the cache. */
  const byUser = new Map<string, Set<string>>();
  const clock = opts.clock;

  const cache = new LRUCache<string, Entry>({
    max: opts.maxEntries,
    ttlAutopurge: false,
    // An injected clock is read on every check (no 1 ms time caching), so tests can step it.
    ...(clock ? { perf: { now: () => clock.now() }, ttlResolution: 0 } : {}),
    dispose: (entry, key, reason) => {
      if (reason === 'set') return; // overwritten in place: the key stays indexed
      const set = byUser.get(entry.owner);
      if (!set) return;
      set.delete(key);
      if (set.size === 0) byUser.delete(entry.owner);
    },
  });

  let erasures = 0;
  /** Highest erasure counter whose tombstone is gone: every write with an older epoch is dropped. */
  let floor = 0;
  const tombstones = new LRUCache<string, number>({
    max: opts.maxTombstones ?? 10_000,
    dispose: (seq, _owner, reason) => {
      if (reason !== 'set') floor = Math.max(floor, seq);
    },
  });
  /** True when the owner was erased after `epoch` (an unparseable epoch counts as the oldest). */
  const erasedSince = (owner: string, epoch: ErasureEpoch): boolean => {
    const seen = Number.parseInt(epoch, 10) || 0;
    return floor > seen || (tombstones.get(owner) ?? 0) > seen;
  };

  const get = (key: string): StoredProfile | null => cache.get(key)?.profile ?? null;

  const put = (key: string, owner: string, profile: StoredProfile, ttlMs: number) => {
    cache.set(key, { profile: { ...profile }, owner }, { ttl: ttlMs });
    let set = byUser.get(owner);
    if (!set) {
      set = new Set();
      byUser.set(owner, set);
    }
    set.add(key);
  };

  return {
    get size() {
      return cache.size;
    },
    lookup(key: ProfileKey): Promise<ProfileLookup> {
      return Promise.resolve({ exact: get(keys.profileExact(key)), latest: get(keys.profileLatest(key)), erasureEpoch: String(erasures) });
    },
    save(key: ProfileKey, profile: StoredProfile, ttlSeconds: number, erasureEpoch?: ErasureEpoch): Promise<boolean> {
      const ttlMs = Math.max(1, Math.round(ttlSeconds * 1000));
      const owner = userHash(key.userId);
      if (erasureEpoch !== undefined && erasedSince(owner, erasureEpoch)) return Promise.resolve(false);
      // Kept as a flat copy: a profile is usually a slice of a longer LLM answer, and V8 keeps a slice's parent
      // string alive (a 4,000-character profile cut from a 60,000-character answer held all 60,000).
      const kept = { ...profile, text: structuredClone(profile.text) };
      put(keys.profileExact(key), owner, kept, ttlMs);
      put(keys.profileLatest(key), owner, kept, ttlMs);
      return Promise.resolve(true);
    },
    deleteUser(userId: string): Promise<number> {
      const owner = userHash(userId);
      // The tombstone goes in even when nothing is cached yet: the write being erased may still be in flight.
      tombstones.set(owner, ++erasures);
      const set = byUser.get(owner);
      if (!set) return Promise.resolve(0);
      let removed = 0;
      for (const key of [...set]) {
        if (cache.has(key)) removed += 1; // expired entries are not counted, as with Redis DEL
        cache.delete(key);
      }
      byUser.delete(owner);
      return Promise.resolve(removed);
    },
  };
}
