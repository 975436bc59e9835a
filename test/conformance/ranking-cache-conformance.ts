/**
 * One conformance suite for the RankingCache port (the result cache), run against every adapter (memory,
 * Redis): round trips, misses, users kept apart, TTL, corrupt values, erasure (only the user's entries, and a
 * write carrying an epoch from before the erasure is dropped).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedRanking, RankingCache } from '../../src/agp/ports.js';
import type { PortHarness } from './port-harness.js';

/** A cache under test, and how to let time pass for it. */
export interface RankingCacheUnderTest {
  cache: RankingCache;
  elapse(ms: number): Promise<void>;
  /** Writes a raw value where the entry of (userId, digest) lives (corrupt-value case); absent: skipped. */
  writeRaw?(userId: string, digest: string, raw: string): Promise<void>;
}

const entry = (order: number[], extra: Record<string, unknown> = {}): CachedRanking => ({ order, outcome: 'ok', ...extra });

/** Registers the suite for one adapter. */
export function describeRankingCacheConformance(name: string, harness: PortHarness<RankingCacheUnderTest>): void {
  describe(`RankingCache conformance: ${name}`, () => {
    beforeAll(() => harness.start(), 30_000);
    afterAll(() => harness.stop());

    it('misses, then returns what was saved (with its extra fields)', async () => {
      const { cache } = await harness.create();
      const key = { userId: 'u1', digest: 'd1' };
      const miss = await cache.lookup(key);
      expect(miss.entry).toBeNull();
      const value = entry([2, 0, 1], { scores: [0.5, 1, 0], agreement: null });
      expect(await cache.save(key, value, 60, miss.erasureEpoch)).toBe(true);
      expect((await cache.lookup(key)).entry).toEqual(value);
      expect((await cache.lookup({ userId: 'u1', digest: 'd2' })).entry).toBeNull();
    });

    it('keeps users apart: the same digest under another user misses', async () => {
      const { cache } = await harness.create();
      const epoch = (await cache.lookup({ userId: 'alice', digest: 'same' })).erasureEpoch;
      await cache.save({ userId: 'alice', digest: 'same' }, entry([1, 0]), 60, epoch);
      expect((await cache.lookup({ userId: 'bob', digest: 'same' })).entry).toBeNull();
      // A lone surrogate and U+FFFD are different users.
      await cache.save({ userId: 'x\ud800', digest: 'same' }, entry([0, 1]), 60, epoch);
      expect((await cache.lookup({ userId: 'x\ufffd', digest: 'same' })).entry).toBeNull();
    });

    it('expires entries after the TTL', async () => {
      const t = await harness.create();
      const key = { userId: 'u-ttl', digest: 'd' };
      await t.cache.save(key, entry([0, 1]), 1, (await t.cache.lookup(key)).erasureEpoch);
      expect((await t.cache.lookup(key)).entry).not.toBeNull();
      await t.elapse(1_100);
      expect((await t.cache.lookup(key)).entry).toBeNull();
    });

    it('erases every cached ranking of the user and only theirs', async () => {
      const { cache } = await harness.create();
      for (const digest of ['a', 'b', 'c']) await cache.save({ userId: 'gone', digest }, entry([0]), 60, '0');
      await cache.save({ userId: 'kept', digest: 'a' }, entry([0]), 60, '0');
      expect(await cache.deleteUser('gone')).toBe(3);
      for (const digest of ['a', 'b', 'c']) expect((await cache.lookup({ userId: 'gone', digest })).entry).toBeNull();
      expect((await cache.lookup({ userId: 'kept', digest: 'a' })).entry).toEqual(entry([0]));
      expect(await cache.deleteUser('gone')).toBe(0);
      expect(await cache.deleteUser('never-seen')).toBe(0);
    });

    it('drops a write whose lookup came before an erasure; a fresh lookup may write again', async () => {
      const { cache } = await harness.create();
      const key = { userId: 'racer', digest: 'd' };
      const before = (await cache.lookup(key)).erasureEpoch;
      await cache.deleteUser('racer');
      expect(await cache.save(key, entry([1, 0]), 60, before)).toBe(false);
      expect((await cache.lookup(key)).entry).toBeNull();
      const after = (await cache.lookup(key)).erasureEpoch;
      expect(after).not.toBe(before);
      expect(await cache.save(key, entry([1, 0]), 60, after)).toBe(true);
      expect((await cache.lookup(key)).entry).toEqual(entry([1, 0]));
      // Another user's epoch is untouched by this erasure.
      const other = { userId: 'bystander', digest: 'd' };
      expect(await cache.save(other, entry([0]), 60, (await cache.lookup(other)).erasureEpoch)).toBe(true);
    });

    it('reads a corrupt or non-permutation value as a miss', async (ctx) => {
      const t = await harness.create();
      if (!t.writeRaw) return ctx.skip();
      for (const raw of ['{', '[]', '{"order":[0,0],"outcome":"ok"}', '{"order":[0,1],"outcome":"unparseable"}', '{"order":[1,2],"outcome":"ok"}']) {
        await t.writeRaw('u-corrupt', 'd', raw);
        expect((await t.cache.lookup({ userId: 'u-corrupt', digest: 'd' })).entry).toBeNull();
      }
      await t.writeRaw('u-corrupt', 'd', '{"order":[1,0],"outcome":"repaired"}');
      expect((await t.cache.lookup({ userId: 'u-corrupt', digest: 'd' })).entry).toEqual({ order: [1, 0], outcome: 'repaired' });
    });
  });
}
