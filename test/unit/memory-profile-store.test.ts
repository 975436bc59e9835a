import { describe, expect, it } from 'vitest';
import type { ProfileKey, StoredProfile } from '../../src/agp/ports.js';
import { createMemoryProfileStore } from '../../src/store/memory-profile-store.js';

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

const key = (over: Partial<ProfileKey> = {}): ProfileKey => ({
  domain: 'movies',
  promptVersion: 'v1',
  userId: 'u1',
  historyDigest: 'd1',
  ...over,
});
const profile = (text: string, historyDigest = 'd1', createdAt = 1): StoredProfile => ({ text, historyDigest, createdAt });

describe('memory profile store', () => {
  it('returns null for both entries on a miss', async () => {
    const store = createMemoryProfileStore({ maxEntries: 10 });
    expect(await store.lookup(key())).toEqual({ exact: null, latest: null });
  });

  it('save writes the exact entry and makes it the latest; another digest sees only latest', async () => {
    const store = createMemoryProfileStore({ maxEntries: 10 });
    await store.save(key(), profile('likes noir'), 60);
    expect(await store.lookup(key())).toEqual({ exact: profile('likes noir'), latest: profile('likes noir') });

    const other = await store.lookup(key({ historyDigest: 'd2' }));
    expect(other.exact).toBeNull();
    expect(other.latest?.text).toBe('likes noir');

    await store.save(key({ historyDigest: 'd2' }), profile('likes comedy', 'd2', 2), 60);
    const again = await store.lookup(key());
    expect(again.exact?.text).toBe('likes noir');
    expect(again.latest).toEqual(profile('likes comedy', 'd2', 2));
  });

  it('does not share entries across domains, versions or users', async () => {
    const store = createMemoryProfileStore({ maxEntries: 10 });
    await store.save(key(), profile('p'), 60);
    expect((await store.lookup(key({ domain: 'books' }))).latest).toBeNull();
    expect((await store.lookup(key({ promptVersion: 'v2' }))).latest).toBeNull();
    expect((await store.lookup(key({ userId: 'u2' }))).latest).toBeNull();
  });

  it('keeps ids that differ only by a lone surrogate apart, in lookups and in erasure', async () => {
    const store = createMemoryProfileStore({ maxEntries: 10 });
    await store.save(key({ userId: 'alice\ufffd' }), profile('p'), 60);
    expect((await store.lookup(key({ userId: 'alice\ud800' }))).latest).toBeNull();
    await store.save(key({ userId: 'alice\ud800' }), profile('q'), 60);
    expect(await store.deleteUser('alice\ud800')).toBe(2);
    expect((await store.lookup(key({ userId: 'alice\ufffd' }))).latest?.text).toBe('p');
  });

  it('expires entries after their TTL', async () => {
    const clock = fakeClock();
    const store = createMemoryProfileStore({ maxEntries: 10, clock });
    await store.save(key(), profile('p'), 10);
    clock.advance(9_000);
    expect((await store.lookup(key())).exact?.text).toBe('p');
    clock.advance(1_001);
    expect(await store.lookup(key())).toEqual({ exact: null, latest: null });
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

  it('deleteUser erases every domain and version of the user and leaves other users intact', async () => {
    const store = createMemoryProfileStore({ maxEntries: 100 });
    for (const domain of ['movies', 'books']) {
      for (const promptVersion of ['v1', 'v2']) {
        await store.save(key({ domain, promptVersion }), profile(`${domain}-${promptVersion}`), 60);
        await store.save(key({ domain, promptVersion, userId: 'u2' }), profile('other'), 60);
      }
    }
    expect(await store.deleteUser('u1')).toBe(8); // 4 exact + 4 latest
    for (const domain of ['movies', 'books']) {
      for (const promptVersion of ['v1', 'v2']) {
        expect(await store.lookup(key({ domain, promptVersion }))).toEqual({ exact: null, latest: null });
        expect((await store.lookup(key({ domain, promptVersion, userId: 'u2' }))).exact?.text).toBe('other');
      }
    }
    expect(await store.deleteUser('u1')).toBe(0);
    expect(store.size).toBe(8);
  });

  it('deleteUser does not count entries already evicted or expired', async () => {
    const clock = fakeClock();
    const store = createMemoryProfileStore({ maxEntries: 100, clock });
    await store.save(key(), profile('old'), 1);
    clock.advance(2_000);
    await store.save(key({ domain: 'books' }), profile('new'), 60);
    expect(await store.deleteUser('u1')).toBe(2);
  });

  it('rejects a non-positive bound', () => {
    expect(() => createMemoryProfileStore({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
