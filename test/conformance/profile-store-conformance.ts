/**
 * One conformance suite for the ProfileStore port, run against every adapter (memory, Redis): misses,
 * exact and latest entries, isolation across domains, versions and users, TTL expiry, and erasure.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import type { ProfileKey, ProfileStore, StoredProfile } from '../../src/agp/ports.js';
import type { PortHarness } from './port-harness.js';
import { describeErasureEpochs } from './profile-store-erasure.js';

/** A store under test, and how to let time pass for it (a fake clock, or real sleeping). */
export interface ProfileStoreUnderTest {
  store: ProfileStore;
  elapse(ms: number): Promise<void>;
}

const key = (over: Partial<ProfileKey> = {}): ProfileKey => ({ domain: 'movies', promptVersion: 'v1', userId: 'u1', historyDigest: 'd1', ...over });
const profile = (text: string, historyDigest = 'd1', createdAt = 1_700_000_000_000): StoredProfile => ({ text, historyDigest, createdAt });
const MISS = { exact: null, latest: null, erasureEpoch: expect.any(String) as unknown };

/** Registers the suite for one adapter. */
export function describeProfileStoreConformance(name: string, harness: PortHarness<ProfileStoreUnderTest>): void {
  describe(`ProfileStore conformance: ${name}`, () => {
    beforeAll(() => harness.start());
    afterAll(() => harness.stop());

    it('misses cleanly', async () => {
      const { store } = await harness.create();
      expect(await store.lookup(key())).toEqual(MISS);
    });

    it('save writes the exact entry and makes it the latest; another digest sees only the latest', async () => {
      const { store } = await harness.create();
      await store.save(key(), profile('likes noir'), 60);
      expect(await store.lookup(key())).toEqual({ exact: profile('likes noir'), latest: profile('likes noir'), erasureEpoch: expect.any(String) });

      const other = await store.lookup(key({ historyDigest: 'd2' }));
      expect(other.exact).toBeNull();
      expect(other.latest?.text).toBe('likes noir');

      await store.save(key({ historyDigest: 'd2' }), profile('likes comedy', 'd2', 2), 60);
      const again = await store.lookup(key());
      expect(again.exact?.text).toBe('likes noir');
      expect(again.latest).toEqual(profile('likes comedy', 'd2', 2));
    });

    it('does not share entries across domains, versions or users', async () => {
      const { store } = await harness.create();
      await store.save(key(), profile('p'), 60);
      expect((await store.lookup(key({ domain: 'books' }))).latest).toBeNull();
      expect((await store.lookup(key({ promptVersion: 'v2' }))).latest).toBeNull();
      expect((await store.lookup(key({ userId: 'u2' }))).latest).toBeNull();
    });

    it('entries expire after their TTL', async () => {
      const { store, elapse } = await harness.create();
      await store.save(key(), profile('short-lived'), 1);
      expect((await store.lookup(key())).exact?.text).toBe('short-lived');
      await elapse(1_300);
      expect(await store.lookup(key())).toEqual(MISS);
    });

    it('deleteUser erases 2 domains × 2 versions (exact and latest) and leaves other users intact', async () => {
      const { store } = await harness.create();
      for (const domain of ['movies', 'books']) {
        for (const promptVersion of ['v1', 'v2']) {
          await store.save(key({ domain, promptVersion }), profile(`${domain}/${promptVersion}`), 60);
          await store.save(key({ domain, promptVersion, historyDigest: 'd2' }), profile('newer', 'd2'), 60);
          await store.save(key({ domain, promptVersion, userId: 'u2' }), profile('other user'), 60);
        }
      }
      // 4 × (exact d1 + exact d2 + latest) = 12 entries
      expect(await store.deleteUser('u1')).toBe(12);
      for (const domain of ['movies', 'books']) {
        for (const promptVersion of ['v1', 'v2']) {
          expect(await store.lookup(key({ domain, promptVersion }))).toEqual(MISS);
          expect((await store.lookup(key({ domain, promptVersion, historyDigest: 'd2' }))).exact).toBeNull();
          const other = await store.lookup(key({ domain, promptVersion, userId: 'u2' }));
          expect(other).toEqual({ exact: profile('other user'), latest: profile('other user'), erasureEpoch: expect.any(String) });
        }
      }
      expect(await store.deleteUser('u1')).toBe(0);
    });

    it('deleteUser does not count entries that already expired', async () => {
      const { store, elapse } = await harness.create();
      await store.save(key(), profile('old'), 1);
      await elapse(1_300);
      await store.save(key({ domain: 'books' }), profile('new'), 60);
      expect(await store.deleteUser('u1')).toBe(2);
    });

    it('erases a user whose id contains braces and colons', async () => {
      const { store } = await harness.create();
      const userId = 'a}{b:c';
      await store.save(key({ userId }), profile('x'), 60);
      expect((await store.lookup(key({ userId }))).exact?.text).toBe('x');
      expect(await store.deleteUser(userId)).toBe(2);
      expect((await store.lookup(key({ userId }))).latest).toBeNull();
    });
    describeErasureEpochs(name, async () => (await harness.create()).store);
  });
}
