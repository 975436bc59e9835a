/** The exposure recorder: off the request path, bounded, sampled, and never throwing whatever the store does. */
import { describe, expect, it } from 'vitest';
import { createExposureRecorder, isSampled } from '../../src/experiments/exposure-recorder.js';
import type { RecordOutcome } from '../../src/experiments/exposure-recorder.js';
import type { ExposureRecord, ExposureStore } from '../../src/experiments/ports.js';
import { createMemoryExposureStore } from '../../src/store/memory-exposure-store.js';
import { exposure } from '../conformance/exposure-store-conformance.js';

const many = (n: number): ExposureRecord[] => Array.from({ length: n }, (_, i) => exposure({ requestId: `req-${i}`, at: Date.now() }));

function counter() {
  const counts: Partial<Record<RecordOutcome, number>> = {};
  return { counts, onOutcome: (o: RecordOutcome, n: number) => (counts[o] = (counts[o] ?? 0) + n) };
}

describe('exposure recorder', () => {
  it('returns before the store is called, then writes everything in batches with the TTL', async () => {
    const memory = createMemoryExposureStore({ maxEntries: 1_000 });
    const puts: Array<[number, number]> = [];
    const store: ExposureStore = { ...memory, put: (records, ttl) => (puts.push([records.length, ttl]), memory.put(records, ttl)) };
    const { counts, onOutcome } = counter();
    const recorder = createExposureRecorder({ store, ttlSeconds: 600, sampleRate: 1, batchSize: 100, onOutcome });
    for (const e of many(250)) recorder.record(e);
    expect(puts).toEqual([]); // nothing ran on the caller's turn
    expect(recorder.pending).toBe(250);
    await recorder.flush();
    expect(puts).toEqual([[100, 600], [100, 600], [50, 600]]);
    expect(counts).toEqual({ recorded: 250 });
    expect((await memory.get('req-249'))?.requestId).toBe('req-249');
  });

  it('gatherMs: exposures recorded within the window go to the store as one batch', async () => {
    const memory = createMemoryExposureStore({ maxEntries: 1_000 });
    const puts: number[] = [];
    const store: ExposureStore = { ...memory, put: (records, ttl) => (puts.push(records.length), memory.put(records, ttl)) };
    // A window far wider than the 5 ms below, so a loaded machine cannot close it early.
    const recorder = createExposureRecorder({ store, ttlSeconds: 600, sampleRate: 1, gatherMs: 300 });
    const [a, b, c] = many(3) as [ExposureRecord, ExposureRecord, ExposureRecord];
    recorder.record(a);
    // Two later turns of the event loop, still inside the window: without gatherMs each would be its own batch.
    await new Promise((r) => setImmediate(r));
    recorder.record(b);
    await new Promise((r) => setTimeout(r, 5));
    recorder.record(c);
    expect(puts).toEqual([]);
    await recorder.flush();
    expect(puts).toEqual([3]);
  });

  it('a failing store never throws to the caller; the loss is counted', async () => {
    const store = { ...createMemoryExposureStore({ maxEntries: 10 }), put: () => Promise.reject(new Error('READONLY')) };
    const { counts, onOutcome } = counter();
    const recorder = createExposureRecorder({ store, ttlSeconds: 60, sampleRate: 1, onOutcome });
    expect(() => {
      for (const e of many(3)) recorder.record(e);
    }).not.toThrow();
    await recorder.flush();
    expect(counts).toEqual({ failed: 3 });
  });

  it('a stuck store fills the bounded queue; further exposures are dropped and counted', async () => {
    const gates: Array<() => void> = [];
    const memory = createMemoryExposureStore({ maxEntries: 100 });
    const store: ExposureStore = {
      ...memory,
      put: async (records, ttl) => {
        await new Promise<void>((resolve) => gates.push(resolve));
        return memory.put(records, ttl);
      },
    };
    const { counts, onOutcome } = counter();
    const recorder = createExposureRecorder({ store, ttlSeconds: 60, sampleRate: 1, maxQueue: 5, batchSize: 2, onOutcome });
    for (const e of many(20)) recorder.record(e);
    expect(counts.dropped).toBe(15);
    expect(recorder.pending).toBe(5);
    const done = recorder.flush();
    // Open the store for the three batches (2 + 2 + 1), one at a time.
    for (let released = 0, turns = 0; released < 3 && turns < 1_000; turns++) {
      const open = gates.shift();
      if (open) {
        open();
        released++;
      } else await new Promise((r) => setImmediate(r));
    }
    await done;
    expect(counts).toEqual({ dropped: 15, recorded: 5 });
  });

  it('samples by requestId: deterministic, and close to the rate', () => {
    const ids = Array.from({ length: 4_000 }, (_, i) => `request-${i}`);
    const kept = ids.filter((id) => isSampled(id, 0.25)).length / ids.length;
    expect(kept).toBeGreaterThan(0.22);
    expect(kept).toBeLessThan(0.28);
    expect(ids.map((id) => isSampled(id, 0.25))).toEqual(ids.map((id) => isSampled(id, 0.25)));
    expect(ids.every((id) => isSampled(id, 1))).toBe(true);
    expect(ids.some((id) => isSampled(id, 0))).toBe(false);
  });

  it('a sample rate of 0 records nothing and says so', async () => {
    const memory = createMemoryExposureStore({ maxEntries: 10 });
    const { counts, onOutcome } = counter();
    const recorder = createExposureRecorder({ store: memory, ttlSeconds: 60, sampleRate: 0, onOutcome });
    for (const e of many(4)) recorder.record(e);
    await recorder.flush();
    expect(counts).toEqual({ sampled_out: 4 });
    expect(memory.size).toBe(0);
  });

  it('sampledOut(): the same hash as record(), counting what it keeps out', () => {
    const { counts, onOutcome } = counter();
    const recorder = createExposureRecorder({ store: createMemoryExposureStore({ maxEntries: 10 }), ttlSeconds: 60, sampleRate: 0.25, onOutcome });
    const ids = Array.from({ length: 400 }, (_, i) => `request-${i}`);
    expect(ids.map((id) => recorder.sampledOut(id))).toEqual(ids.map((id) => !isSampled(id, 0.25)));
    expect(counts).toEqual({ sampled_out: ids.filter((id) => !isSampled(id, 0.25)).length });
  });
});
