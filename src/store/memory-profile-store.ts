/**
 * In-memory ProfileStore for a single replica without Redis: a bounded LRU with a TTL per entry.
 * Same semantics as the Redis store: an exact entry and a `latest` entry per (domain, version, user),
 * both counting toward `maxEntries`, and per-user erasure across all domains and versions.
 */
import { LRUCache } from 'lru-cache';
import type { Clock, ProfileKey, ProfileLookup, ProfileStore, StoredProfile } from '../agp/ports.js';
import { createKeySchema, userHash } from './key-schema.js';

export interface MemoryProfileStoreOptions {
  /** Upper bound on cached entries (exact and latest entries both count). */
  maxEntries: number;
  /** Time source for TTLs; must return epoch-like milliseconds (> 0). */
  clock?: Clock;
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
      return Promise.resolve({ exact: get(keys.profileExact(key)), latest: get(keys.profileLatest(key)) });
    },
    save(key: ProfileKey, profile: StoredProfile, ttlSeconds: number): Promise<void> {
      const ttlMs = Math.max(1, Math.round(ttlSeconds * 1000));
      const owner = userHash(key.userId);
      put(keys.profileExact(key), owner, profile, ttlMs);
      put(keys.profileLatest(key), owner, profile, ttlMs);
      return Promise.resolve();
    },
    deleteUser(userId: string): Promise<number> {
      const owner = userHash(userId);
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
