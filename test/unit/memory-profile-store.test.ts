/**
 * What only the memory store does: its LRU bound. The behaviour every ProfileStore shares (lookup, save,
 * TTL, erasure) is the conformance suite, test/conformance/profile-store.test.ts.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { ProfileKey, StoredProfile } from '../../src/agp/ports.js';
import { capProfileText } from '../../src/agp/pipeline.js';
import { createMemoryProfileStore } from '../../src/store/memory-profile-store.js';

const key = (over: Partial<ProfileKey> = {}): ProfileKey => ({
  domain: 'movies',
  promptVersion: 'v1',
  userId: 'u1',
  historyDigest: 'd1',
  ...over,
});
const profile = (text: string, historyDigest = 'd1', createdAt = 1): StoredProfile => ({ text, historyDigest, createdAt });

describe('memory profile store', () => {
  it('keeps ids that differ only by a lone surrogate apart, in lookups and in erasure', async () => {
    const store = createMemoryProfileStore({ maxEntries: 10 });
    await store.save(key({ userId: 'alice\ufffd' }), profile('p'), 60);
    expect((await store.lookup(key({ userId: 'alice\ud800' }))).latest).toBeNull();
    await store.save(key({ userId: 'alice\ud800' }), profile('q'), 60);
    expect(await store.deleteUser('alice\ud800')).toBe(2);
    expect((await store.lookup(key({ userId: 'alice\ufffd' }))).latest?.text).toBe('p');
  });

  it("keeps a profile's characters, not the answer it was cut from", async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const store = createMemoryProfileStore({ maxEntries: 10_000 });
    const users = 500;
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let u = 0; u < users; u++) {
      // A fresh 60,000-character answer, as JSON.parse hands it over, capped to a 4,000-character profile.
      const answer = JSON.parse(JSON.stringify(`user ${u}: ${'quiet films about distant seas. '.repeat(1_875)}`)) as string;
      await store.save(key({ userId: `u${u}` }), profile(capProfileText(answer, 4_000)), 60);
    }
    gc();
    const perProfile = (process.memoryUsage().heapUsed - before) / users;
    // About 4 KB of text plus entries and index; the 60 KB answers behind a slice would be 15 times that.
    expect(perProfile).toBeLessThan(20_000);
    const kept = (await store.lookup(key({ userId: 'u7' }))).exact?.text ?? '';
    expect(kept.startsWith('user 7: quiet films')).toBe(true);
    expect(kept.length).toBeGreaterThan(3_900);
  });

  it('is bounded by maxEntries and evicts the least recently used', async () => {
    const store = createMemoryProfileStore({ maxEntries: 4 });
    // Each save writes two entries (exact + latest).
    await store.save(key({ userId: 'a' }), profile('a'), 60);
    await store.save(key({ userId: 'b' }), profile('b'), 60);
    expect(store.size).toBe(4);
    await store.lookup(key({ userId: 'a' })); // a is now most recently used
    await store.save(key({ userId: 'c' }), profile('c'), 60);
    expect(store.size).toBe(4);
    expect((await store.lookup(key({ userId: 'b' }))).latest).toBeNull();
    expect((await store.lookup(key({ userId: 'a' }))).latest?.text).toBe('a');
    expect((await store.lookup(key({ userId: 'c' }))).latest?.text).toBe('c');
    for (let i = 0; i < 100; i++) await store.save(key({ userId: `x${i}` }), profile('x'), 60);
    expect(store.size).toBe(4);
  });

  it('rejects a non-positive bound', () => {
    expect(() => createMemoryProfileStore({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});


describe('memory profile store: evicted tombstones', () => {
  it('past maxTombstones an old erasure still wins through the floor', async () => {
    const store = createMemoryProfileStore({ maxEntries: 100, maxTombstones: 2 });
    const before = (await store.lookup(key({ userId: 'u1' }))).erasureEpoch;
    for (const userId of ['u1', 'u2', 'u3']) await store.deleteUser(userId); // u1's tombstone is evicted
    expect(await store.save(key({ userId: 'u1' }), profile('late'), 60, before)).toBe(false);
    const after = (await store.lookup(key({ userId: 'u1' }))).erasureEpoch;
    expect(await store.save(key({ userId: 'u1' }), profile('fresh'), 60, after)).toBe(true);
  });
});
