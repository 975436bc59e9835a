/** The catalogue recorder: off the request path, writes only changed or half-expired items, never throws. */
import { describe, expect, it } from 'vitest';
import { createCatalogueRecorder, type CatalogueEntry, type ItemCatalogue } from '../../src/experiments/item-catalogue.js';

function store(fail = false): ItemCatalogue & { writes: CatalogueEntry[][] } {
  const writes: CatalogueEntry[][] = [];
  return {
    writes,
    put: (entries) => (fail ? Promise.reject(new Error('down')) : Promise.resolve(void writes.push([...entries]))),
    getMany: () => Promise.resolve([]),
  };
}

describe('createCatalogueRecorder', () => {
  it('observe returns before any write; a repeat of unchanged items writes nothing until half the TTL passed', async () => {
    let now = 0;
    const s = store();
    const outcomes: Record<string, number> = {};
    const rec = createCatalogueRecorder({ store: s, ttlSeconds: 100, clock: { now: () => now }, onOutcome: (o, n) => (outcomes[o] = (outcomes[o] ?? 0) + n) });
    const items = [{ id: 'a', title: 'A' }, { id: 'b', title: 'B', text: 'bee' }];
    rec.observe('d', items);
    expect(s.writes).toEqual([]);
    expect(rec.pending).toBe(2);
    await rec.flush();
    expect(s.writes.flat()).toEqual([{ domain: 'd', id: 'a', title: 'A' }, { domain: 'd', id: 'b', title: 'B', text: 'bee' }]);
    rec.observe('d', items);
    now += 49_000;
    rec.observe('d', items);
    await rec.flush();
    expect(s.writes.flat()).toHaveLength(2);
    expect(outcomes.unchanged).toBe(4);
    rec.observe('d', [{ id: 'a', title: 'A2' }]);
    now += 2_000; // past half the TTL: b is rewritten to refresh its TTL
    rec.observe('d', [{ id: 'b', title: 'B', text: 'bee' }]);
    await rec.flush();
    expect(s.writes.flat().slice(2).map((e) => `${e.id}:${e.title}`)).toEqual(['a:A2', 'b:B']);
  });

  it('a failing store is counted and retried on the next sighting; a full queue drops; observe never throws', async () => {
    const s = store(true);
    const outcomes: Record<string, number> = {};
    const rec = createCatalogueRecorder({ store: s, ttlSeconds: 100, maxQueue: 1, onOutcome: (o, n) => (outcomes[o] = (outcomes[o] ?? 0) + n) });
    expect(() => rec.observe('d', [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }])).not.toThrow();
    await rec.flush();
    expect(outcomes).toMatchObject({ dropped: 1, failed: 1 });
    rec.observe('d', [{ id: 'a', title: 'A' }]);
    await rec.flush();
    expect(outcomes.failed).toBe(2);
  });
});

describe('catalogue change detection and bounds', () => {
  it('a changed title or text (length or sampled characters) is rewritten; an identical item is not', async () => {
    const s = store();
    const rec = createCatalogueRecorder({ store: s, ttlSeconds: 1_000, clock: { now: () => 0 } });
    const text = 'x'.repeat(320);
    rec.observe('d', [{ id: 'a', title: 'A', text }]);
    rec.observe('d', [{ id: 'a', title: 'A', text }]);
    rec.observe('d', [{ id: 'a', title: 'A!', text }]);
    rec.observe('d', [{ id: 'a', title: 'A!', text: `${text}y` }]);
    // Same length, a change at a sampled position (every 5th character of 321, from 0).
    rec.observe('d', [{ id: 'a', title: 'A!', text: `z${text.slice(1)}y` }]);
    await rec.flush();
    expect(s.writes.flat().map((e) => `${e.title}:${e.text?.length}:${e.text?.[0]}`)).toEqual(['A:320:x', 'A!:320:x', 'A!:321:x', 'A!:321:z']);
  });

  it('remembers at most recentMax items: an item pushed out of both generations is written again', async () => {
    const s = store();
    const rec = createCatalogueRecorder({ store: s, ttlSeconds: 1_000, clock: { now: () => 0 }, recentMax: 4 });
    const item = (i: number) => ({ id: `i${i}`, title: `T${i}` });
    for (let i = 0; i < 10; i++) rec.observe('d', [item(i)]);
    rec.observe('d', [item(9)]); // still remembered
    rec.observe('d', [item(0)]); // long forgotten
    await rec.flush();
    expect(s.writes.flat().map((e) => e.id)).toEqual([...Array.from({ length: 10 }, (_, i) => `i${i}`), 'i0']);
  });
});
