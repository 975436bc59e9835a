/**
 * Erasure-epoch conformance for any ProfileStore: a write carrying the epoch of a lookup made before an
 * erasure is dropped, a write after it lands, and an unknown epoch writes only while no erasure is remembered.
 * Part of the ProfileStore conformance suite, so every adapter implements one rule.
 */
import { describe, expect, it } from 'vitest';
import type { ProfileKey, ProfileStore, StoredProfile } from '../../src/agp/ports.js';
import { UNKNOWN_ERASURE_EPOCH } from '../../src/agp/ports.js';

const key = (userId: string, over: Partial<ProfileKey> = {}): ProfileKey => ({ domain: 'movies', promptVersion: 'v1', userId, historyDigest: 'd1', ...over });
const profile = (text: string): StoredProfile => ({ text, historyDigest: 'd1', createdAt: 1_700_000_000_000 });

/** Registers the erasure-epoch tests; `fresh` returns an empty store (its own key space). */
export function describeErasureEpochs(name: string, fresh: () => Promise<ProfileStore>): void {
  describe(`${name}: erasure epochs`, () => {
    it('drops a write whose lookup preceded an erasure, even of a user with nothing cached yet', async () => {
      const store = await fresh();
      const before = (await store.lookup(key('u1'))).erasureEpoch;
      expect(await store.deleteUser('u1')).toBe(0);
      expect(await store.save(key('u1'), profile('late'), 60, before)).toBe(false);
      expect((await store.lookup(key('u1'))).latest).toBeNull();
    });

    it('lands a write whose lookup followed the erasure, and leaves other users alone', async () => {
      const store = await fresh();
      const other = (await store.lookup(key('u2'))).erasureEpoch;
      await store.deleteUser('u1');
      const after = (await store.lookup(key('u1'))).erasureEpoch;
      expect(await store.save(key('u1'), profile('fresh'), 60, after)).toBe(true);
      expect((await store.lookup(key('u1'))).exact?.text).toBe('fresh');
      expect(await store.save(key('u2'), profile('other'), 60, other)).toBe(true);
      // A second erasure moves the epoch again: the earlier "after" is now stale.
      await store.deleteUser('u1');
      expect(await store.save(key('u1', { historyDigest: 'd2' }), profile('again'), 60, after)).toBe(false);
    });

    it('an unknown epoch (failed lookup) writes only while no erasure of the user is remembered', async () => {
      const store = await fresh();
      expect(await store.save(key('u3'), profile('first'), 60, UNKNOWN_ERASURE_EPOCH)).toBe(true);
      await store.deleteUser('u3');
      expect(await store.save(key('u3'), profile('late'), 60, UNKNOWN_ERASURE_EPOCH)).toBe(false);
      expect((await store.lookup(key('u3'))).latest).toBeNull();
    });
  });
}
