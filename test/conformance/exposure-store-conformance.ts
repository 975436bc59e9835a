/**
 * One conformance suite for the ExposureStore port, run against every adapter (memory, Redis): round trips,
 * misses, TTL, event deduplication (within a batch, across retries, under concurrency), positive counts,
 * erasure (including a put that was still queued when the erasure ran) and experiment running sums
 * (exposure-store-sums.ts).
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import type { EventWrite, ExposureRecord, ExposureStore } from '../../src/experiments/ports.js';
import { dedupeKey } from '../../src/experiments/event-validation.js';
import type { PortHarness } from './port-harness.js';
import { sumsConformance } from './exposure-store-sums.js';
import { scanConformance } from './exposure-store-scan.js';

/** A store under test, its clock, and how to let time pass for it. */
export interface ExposureStoreUnderTest {
  store: ExposureStore;
  now(): number;
  elapse(ms: number): Promise<void>;
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** A realistic exposure: 20 candidates, the first 10 served in a shuffled order, 5 history ids. */
export function exposure(over: Partial<ExposureRecord> = {}): ExposureRecord {
  const baseline = ids('item-', 20);
  return {
    requestId: 'r1',
    domain: 'movies',
    userId: 'u1',
    at: 1_700_000_000_000,
    experiment: { id: 'exp-1', arm: 'treatment' },
    method: 'agp',
    promptVersion: 'v3',
    fallbackReason: null,
    served: [3, 1, 0, 2, 9, 8, 7, 4, 5, 6].map((i) => baseline[i] ?? ''),
    servedArms: null,
    baseline,
    history: ids('h-', 5),
    ...over,
  };
}

const ev = (itemId: string, type: 'impression' | 'click' | 'purchase', eventId?: string): EventWrite => ({
  dedupeKey: dedupeKey({ itemId, type, eventId }),
  itemId,
  positive: type !== 'impression',
});

export function describeExposureStoreConformance(name: string, harness: PortHarness<ExposureStoreUnderTest>): void {
  describe(`ExposureStore conformance: ${name}`, () => {
    beforeAll(() => harness.start());
    afterAll(() => harness.stop());

    it('misses cleanly: no exposure, no positives, events find nothing', async () => {
      const { store } = await harness.create();
      expect(await store.get('nope')).toBeNull();
      expect(await store.positives('nope')).toBeNull();
      expect(await store.applyEvents('nope', [ev('item-1', 'click')])).toBeNull();
      expect(await store.get('nope')).toBeNull(); // applying created nothing
    });

    it('round-trips every field, including ids that are not candidates and hostile characters', async () => {
      const { store, now } = await harness.create();
      const odd = exposure({
        requestId: 'r-"{odd}:1',
        userId: 'a}{b:c',
        at: now(),
        experiment: { id: 'exp:{x}', arm: null },
        fallbackReason: 'timeout',
        served: ['item-2', 'not-a-candidate', 'item-0'],
        servedArms: ['A', null, 'B'],
        history: ['h\u0000"x', 'hé'],
      });
      const plain = exposure({ requestId: 'r2', experiment: null });
      expect(await store.put([odd, plain], 60)).toEqual([true, true]);
      expect(await store.get(odd.requestId)).toEqual(odd);
      expect(await store.get('r2')).toEqual(plain);
      expect(await store.positives('r2')).toEqual(new Map());
      // The first write of a requestId wins; a retried write changes nothing and reports false.
      expect(await store.put([{ ...plain, domain: 'books' }, exposure({ requestId: 'r3' })], 60)).toEqual([false, true]);
      expect(await store.get('r2')).toEqual(plain);
    });

    it('counts each dedupe key once: within a batch, across a retried batch, by eventId or (item, type)', async () => {
      const { store } = await harness.create();
      await store.put([exposure()], 60);
      const batch = [ev('item-3', 'impression'), ev('item-3', 'click'), ev('item-3', 'click'), ev('item-1', 'purchase', 'e-1'), ev('item-1', 'purchase', 'e-2')];
      const first = await store.applyEvents('r1', batch);
      expect(first?.fresh).toEqual([true, true, false, true, true]);
      expect(first?.before).toEqual(new Map());
      expect(first?.after).toEqual(new Map([['item-3', 1], ['item-1', 2]]));
      const retry = await store.applyEvents('r1', batch);
      expect(retry?.fresh).toEqual([false, false, false, false, false]);
      expect(retry?.before).toEqual(retry?.after);
      expect(await store.positives('r1')).toEqual(new Map([['item-3', 1], ['item-1', 2]]));
    });

    it('a released claim is handed out again to the retry; a stale release changes nothing', async () => {
      const { store } = await harness.create();
      await store.put([exposure()], 60);
      const batch = [ev('item-3', 'click'), ev('item-1', 'purchase')];
      const first = await store.applyEvents('r1', batch);
      const counts = new Map([['item-3', 1], ['item-1', 1]]);
      expect(first?.after).toEqual(counts);
      // The sums update failed: give the transition back, and the retried batch (all duplicates) gets it again.
      expect(await store.releaseClaim('r1', counts, new Map())).toBe(true);
      const retry = await store.applyEvents('r1', batch);
      expect(retry?.fresh).toEqual([false, false]);
      expect(retry?.before).toEqual(new Map());
      expect(retry?.after).toEqual(counts);
      // Claimed again: a further retry has nothing left to apply.
      const again = await store.applyEvents('r1', batch);
      expect(again?.before).toEqual(again?.after);
      // A later batch claimed past the old claim: releasing the old one must not rewind it.
      await store.applyEvents('r1', [ev('item-9', 'click')]);
      expect(await store.releaseClaim('r1', counts, new Map())).toBe(false);
      const last = await store.applyEvents('r1', [ev('item-9', 'click')]);
      expect(last?.before).toEqual(new Map([...counts, ['item-9', 1]]));
      expect(await store.releaseClaim('nope', counts, new Map())).toBe(false);
    });

    it('concurrent batches on one exposure: each key counted once and the transitions chain to the final state', async () => {
      const { store } = await harness.create();
      await store.put([exposure()], 60);
      const items = exposure().served;
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.applyEvents('r1', [ev(items[i % items.length] ?? '', 'click'), ev('item-0', 'purchase', 'shared')])),
      );
      const fresh = results.flatMap((r) => r?.fresh ?? []);
      expect(fresh.filter(Boolean)).toHaveLength(items.length + 1);
      // Summing every call's (after − before) gives the final counts: no transition is lost or doubled.
      const total = new Map<string, number>();
      for (const r of results) {
        for (const [item, n] of r?.after ?? []) total.set(item, (total.get(item) ?? 0) + n - (r?.before.get(item) ?? 0));
      }
      expect(total).toEqual(await store.positives('r1'));
      expect(total.get('item-0')).toBe(2);
    });

    it('an exposure and its events expire after the TTL', async () => {
      const { store, elapse } = await harness.create();
      await store.put([exposure()], 1);
      await store.applyEvents('r1', [ev('item-3', 'click')]);
      expect(await store.positives('r1')).toEqual(new Map([['item-3', 1]]));
      await elapse(1_300);
      expect(await store.get('r1')).toBeNull();
      expect(await store.positives('r1')).toBeNull();
      expect(await store.applyEvents('r1', [ev('item-3', 'purchase')])).toBeNull();
    });

    it('deleteUser erases the user’s exposures and events; other users keep theirs; events then find nothing', async () => {
      const { store, now } = await harness.create();
      const at = now() - 1_000;
      await store.put([exposure({ requestId: 'a1', at }), exposure({ requestId: 'a2', at, domain: 'books' }), exposure({ requestId: 'b1', at, userId: 'u2' })], 60);
      await store.applyEvents('a1', [ev('item-3', 'click')]);
      await store.applyEvents('b1', [ev('item-3', 'click')]);
      expect(await store.deleteUser('u1')).toBe(2);
      expect(await store.get('a1')).toBeNull();
      expect(await store.get('a2')).toBeNull();
      expect(await store.positives('a1')).toBeNull();
      expect(await store.applyEvents('a1', [ev('item-1', 'click')])).toBeNull();
      expect((await store.get('b1'))?.userId).toBe('u2');
      expect(await store.positives('b1')).toEqual(new Map([['item-3', 1]]));
      expect(await store.deleteUser('u1')).toBe(0);
    });

    it('an exposure served before an erasure and written after it is dropped; a later one is kept', async () => {
      const { store, now, elapse } = await harness.create();
      const servedBefore = exposure({ requestId: 'late', at: now() - 1 });
      await store.deleteUser('u1');
      expect(await store.put([servedBefore], 60)).toEqual([false]);
      expect(await store.get('late')).toBeNull();
      await elapse(5);
      const servedAfter = exposure({ requestId: 'fresh', at: now() });
      expect(await store.put([servedAfter], 60)).toEqual([true]);
      expect(await store.get('fresh')).toEqual(servedAfter);
      expect(await store.deleteUser('u1')).toBe(1);
    });

    sumsConformance(() => harness.create());
    scanConformance(() => harness.create());
  });
}
