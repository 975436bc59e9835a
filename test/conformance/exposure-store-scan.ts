/**
 * ExposureStore.scan conformance (called from exposure-store-conformance.ts for every adapter): the window
 * bounds, the domain, paging across hour buckets and ties, positives, and erasure (an erased user's
 * exposures are never yielded).
 */
import { expect, it } from 'vitest';
import type { ExposureStore, ScannedExposure } from '../../src/experiments/ports.js';
import { dedupeKey } from '../../src/experiments/event-validation.js';
import { exposure, type ExposureStoreUnderTest } from './exposure-store-conformance.js';

const HOUR = 3_600_000;

async function collect(store: ExposureStore, domain: string, since: number, until: number, pageSize?: number): Promise<{ all: ScannedExposure[]; pages: number[] }> {
  const all: ScannedExposure[] = [];
  const pages: number[] = [];
  for await (const page of store.scan(domain, since, until, pageSize)) {
    pages.push(page.length);
    all.push(...page);
  }
  return { all, pages };
}

/** Registers the scan cases inside the caller's describe. */
export function scanConformance(create: () => Promise<ExposureStoreUnderTest>): void {
  it('scan yields exactly the domain’s exposures in [since, until), across hour buckets and ties, in pages', async () => {
    const { store, now } = await create();
    const base = Math.floor(now() / HOUR) * HOUR - 3 * HOUR;
    const inside = Array.from({ length: 25 }, (_, i) => exposure({ requestId: `in-${i}`, userId: `u${i % 4}`, at: base + Math.floor(i / 5) * (HOUR / 2) }));
    const before = exposure({ requestId: 'early', at: base - 1 });
    const atEnd = exposure({ requestId: 'end', at: base + 3 * HOUR });
    const other = exposure({ requestId: 'books', domain: 'books', at: base + 10 });
    await store.put([...inside, before, atEnd, other], 600);
    const { all, pages } = await collect(store, 'movies', base, base + 3 * HOUR, 4);
    expect(all.map((s) => s.exposure.requestId).sort()).toEqual(inside.map((e) => e.requestId).sort());
    expect(Math.max(...pages)).toBeLessThanOrEqual(4);
    expect(all.find((s) => s.exposure.requestId === 'in-7')?.exposure).toEqual(inside[7]);
    expect((await collect(store, 'books', base, base + HOUR)).all.map((s) => s.exposure.requestId)).toEqual(['books']);
    expect((await collect(store, 'movies', base, base)).all).toEqual([]);
  });

  it('scan carries each exposure’s positive counts', async () => {
    const { store, now } = await create();
    const at = now() - 1_000;
    await store.put([exposure({ requestId: 'p1', at }), exposure({ requestId: 'p2', at })], 600);
    await store.applyEvents('p1', [{ dedupeKey: dedupeKey({ itemId: 'item-3', type: 'click' }), itemId: 'item-3', positive: true }]);
    const { all } = await collect(store, 'movies', at - 1, at + 1);
    const byId = new Map(all.map((s) => [s.exposure.requestId, s.positives]));
    expect(byId.get('p1')).toEqual(new Map([['item-3', 1]]));
    expect(byId.get('p2')).toEqual(new Map());
  });

  it('scan never yields an erased user’s exposures', async () => {
    const { store, now } = await create();
    const at = now() - 1_000;
    await store.put([exposure({ requestId: 'e1', at, userId: 'gone' }), exposure({ requestId: 'e2', at, userId: 'kept' })], 600);
    expect(await store.deleteUser('gone')).toBe(1);
    const { all } = await collect(store, 'movies', at - 1, at + 1);
    expect(all.map((s) => s.exposure.userId)).toEqual(['kept']);
  });
}
