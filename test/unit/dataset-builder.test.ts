/**
 * The dataset builder over the memory stores: rows, skips by reason, titles, maxUsers, loadability by the
 * canonical reader (what `agp train` reads), erasure, and streaming (a 200k-exposure fake scan is never held).
 */
import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/agp/dataset.js';
import { buildDataset, type DatasetSink } from '../../src/experiments/dataset-builder.js';
import { dedupeKey } from '../../src/experiments/event-validation.js';
import type { ItemCatalogue } from '../../src/experiments/item-catalogue.js';
import type { ExposureRecord, ExposureStore, ScannedExposure } from '../../src/experiments/ports.js';
import { createMemoryExposureStore } from '../../src/store/memory-exposure-store.js';
import { createMemoryItemCatalogue } from '../../src/store/memory-item-catalogue.js';
import { exposure } from '../conformance/exposure-store-conformance.js';

const T0 = 1_700_000_000_000;
const window = { domain: 'movies', since: T0 - 60_000, until: T0 + 60_000 };

function sinkOf(): DatasetSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (l) => Promise.resolve(void lines.push(l)) };
}

async function world() {
  const clock = { now: () => T0 };
  const exposures = createMemoryExposureStore({ maxEntries: 1_000, clock });
  const catalogue = createMemoryItemCatalogue({ maxEntries: 1_000, clock });
  const ids = [...Array.from({ length: 20 }, (_, i) => `item-${i}`), ...Array.from({ length: 5 }, (_, i) => `h-${i}`)];
  await catalogue.put(ids.map((id) => ({ domain: 'movies', id, title: `Title ${id}` })), 3_600);
  const click = async (requestId: string, itemId: string) =>
    exposures.applyEvents(requestId, [{ dedupeKey: dedupeKey({ itemId, type: 'click' }), itemId, positive: true }]);
  return { exposures, catalogue, click };
}

describe('buildDataset', () => {
  it('writes one row per exposure with a positive, the first positive in served order as target; counts skips', async () => {
    const { exposures, catalogue, click } = await world();
    await exposures.put([
      exposure({ requestId: 'a', userId: 'u1', at: T0 }),
      exposure({ requestId: 'b', userId: 'u1', at: T0 + 1 }),
      exposure({ requestId: 'none', userId: 'u2', at: T0 }),
      exposure({ requestId: 'nohist', userId: 'u3', at: T0, history: [] }),
      exposure({ requestId: 'late', userId: 'u4', at: T0 + 120_000 }),
    ], 3_600);
    // served order: item-3, item-1, item-0, …: item-0 clicked first, item-1 later; item-1 is served earlier.
    await click('a', 'item-0');
    await click('a', 'item-1');
    await click('b', 'item-9');
    await click('nohist', 'item-3');
    await click('late', 'item-3');
    const sink = sinkOf();
    const summary = await buildDataset({ exposures, catalogue }, window, sink);
    expect(summary).toMatchObject({ rows: 2, users: 1, skipped: { noPositive: 1, noHistory: 1, titleExpired: 0, maxUsers: 0 } });
    const rows = sink.lines.map((l) => JSON.parse(l) as { userId: string; user: string; target: string; candidates: { id: string; title: string }[]; history: { title: string }[] });
    const a = rows.find((r) => r.userId === 'u1#a');
    expect(a?.target).toBe('item-1');
    expect(a?.user).toBe('u1');
    expect(a?.candidates.map((c) => c.id)).toEqual(Array.from({ length: 20 }, (_, i) => `item-${i}`));
    expect(a?.candidates[4]?.title).toBe('Title item-4');
    expect(a?.history.map((h) => h.title)).toEqual(['Title h-0', 'Title h-1', 'Title h-2', 'Title h-3', 'Title h-4']);
    // The file is what `agp train` / `agp eval` read: the canonical reader accepts it.
    const users = await readDataset(sink.lines.map((l) => l.trimEnd()), 'built.jsonl');
    expect(users.map((u) => u.targets)).toEqual(rows.map((r) => [r.target]));
  });

  it('expired titles: a missing candidate title drops the row (titleExpired); missing history titles are left out', async () => {
    const { exposures, click } = await world();
    const catalogue = createMemoryItemCatalogue({ maxEntries: 1_000 });
    const some = Array.from({ length: 20 }, (_, i) => `item-${i}`);
    await catalogue.put([...some, 'h-0', 'h-1'].map((id) => ({ domain: 'movies', id, title: id.toUpperCase() })), 60);
    await exposures.put([exposure({ requestId: 'ok', at: T0 }), exposure({ requestId: 'gap', userId: 'u2', at: T0, baseline: [...some, 'item-new'] }), exposure({ requestId: 'nohist', userId: 'u3', at: T0, history: ['h-4'] })], 3_600);
    for (const r of ['ok', 'gap', 'nohist']) await click(r, 'item-3');
    const sink = sinkOf();
    const summary = await buildDataset({ exposures, catalogue }, window, sink);
    expect(summary).toMatchObject({ rows: 1, partialHistory: 1, skipped: { titleExpired: 2 } });
    expect((JSON.parse(sink.lines[0] ?? '{}') as { history: unknown[] }).history).toEqual([{ id: 'h-0', title: 'H-0' }, { id: 'h-1', title: 'H-1' }]);
  });

  it('maxUsers caps distinct users; later rows of included users are still written', async () => {
    const { exposures, catalogue, click } = await world();
    const recs = ['u1', 'u2', 'u3', 'u1'].map((userId, i) => exposure({ requestId: `r${i}`, userId, at: T0 + i }));
    await exposures.put(recs, 3_600);
    for (const r of recs) await click(r.requestId, 'item-3');
    const summary = await buildDataset({ exposures, catalogue }, { ...window, maxUsers: 2 }, sinkOf());
    expect(summary.users).toBe(2);
    expect(summary.rows + summary.skipped.maxUsers).toBe(4);
    expect(summary.skipped.maxUsers).toBe(1);
  });

  it('refuses a narrower positiveTypes (counts are not kept per type) and an empty window', async () => {
    const { exposures, catalogue } = await world();
    await expect(buildDataset({ exposures, catalogue }, { ...window, positiveTypes: ['click'] }, sinkOf())).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(buildDataset({ exposures, catalogue }, { ...window, until: window.since }, sinkOf())).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(buildDataset({ exposures, catalogue }, { ...window, positiveTypes: ['purchase', 'click', 'add_to_cart'] }, sinkOf())).resolves.toMatchObject({ rows: 0 });
  });

  it('a user erased before the build is absent from it', async () => {
    const { exposures, catalogue, click } = await world();
    await exposures.put([exposure({ requestId: 'x', userId: 'erased', at: T0 }), exposure({ requestId: 'y', userId: 'kept', at: T0 })], 3_600);
    await click('x', 'item-3');
    await click('y', 'item-3');
    await exposures.deleteUser('erased');
    const sink = sinkOf();
    const summary = await buildDataset({ exposures, catalogue }, window, sink);
    expect(summary.rows).toBe(1);
    expect(sink.lines.join('')).not.toContain('erased');
  });

  it('streams: rows of a 200k-exposure scan are written while it is still being produced, memory stays bounded', async () => {
    const total = 200_000;
    const page = 500;
    let produced = 0;
    const base = exposure({ at: T0, history: ['item-5'] });
    const fake = {
      async *scan(): AsyncGenerator<ScannedExposure[]> {
        for (let p = 0; p < total / page; p++) {
          const out: ScannedExposure[] = [];
          for (let i = 0; i < page; i++) {
            const requestId = `r${produced++}`;
            const e: ExposureRecord = { ...base, requestId, userId: `u${produced % 1000}` };
            out.push({ exposure: e, positives: new Map([['item-3', 1]]) });
          }
          yield await Promise.resolve(out);
        }
      },
    } as unknown as ExposureStore;
    const catalogue: ItemCatalogue = { put: () => Promise.resolve(), getMany: (_d, ids) => Promise.resolve(ids.map((id) => ({ title: id }))) };
    let firstWriteAt = -1;
    let written = 0;
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const sink: DatasetSink = {
      write: () => {
        if (firstWriteAt < 0) firstWriteAt = produced;
        if (++written % 20_000 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        return Promise.resolve();
      },
    };
    const summary = await buildDataset({ exposures: fake, catalogue }, window, sink);
    expect(summary.rows).toBe(total);
    expect(summary.users).toBe(1000);
    // The first row went out after the first page, long before the scan finished.
    expect(firstWriteAt).toBe(page);
    // 200k rows of ~1.5 kB would be ~300 MB held; a streaming build stays within a small multiple of a page.
    expect(heapPeak - heapBefore).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);
});
