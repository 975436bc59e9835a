/** The events ingestion service over the in-memory ExposureStore: every documented answer of POST /v1/events. */
import { describe, expect, it } from 'vitest';
import { InvalidInputError, UnavailableError } from '../../src/errors.js';
import { createEventIngestion } from '../../src/experiments/event-ingestion.js';
import type { EventIngestionOptions, IngestOutcome } from '../../src/experiments/event-ingestion.js';
import type { ExposureRecord, ExposureStore, PositiveCounts } from '../../src/experiments/ports.js';
import { createMemoryExposureStore } from '../../src/store/memory-exposure-store.js';
import { exposure } from '../conformance/exposure-store-conformance.js';

const NOW = 1_700_000_000_000;
const DAY = 86_400_000;

async function setup(over: Partial<EventIngestionOptions> = {}) {
  const clock = { now: () => NOW };
  const store = createMemoryExposureStore({ maxEntries: 100, clock });
  await store.put([exposure({ requestId: 'r1', at: NOW - 1_000 }), exposure({ requestId: 'r2', userId: 'u2', at: NOW - 1_000, experiment: null })], 3_600);
  const outcomes: Partial<Record<IngestOutcome, number>> = {};
  const ingestion = createEventIngestion({
    store,
    clock,
    maxAgeMs: 7 * DAY,
    onOutcome: (o, n) => (outcomes[o] = (outcomes[o] ?? 0) + n),
    ...over,
  });
  return { store, ingestion, outcomes };
}

describe('event ingestion', () => {
  it('refuses 0 and 1,001 events as a whole (400), accepts 1,000', async () => {
    const { ingestion } = await setup();
    await expect(ingestion.ingest([])).rejects.toBeInstanceOf(InvalidInputError);
    const many = Array.from({ length: 1_001 }, (_, i) => ({ requestId: 'r1', itemId: 'item-3', type: 'impression', eventId: `e${i}` }));
    await expect(ingestion.ingest(many)).rejects.toBeInstanceOf(InvalidInputError);
    expect((await ingestion.ingest(many.slice(0, 1_000))).accepted).toBe(1_000);
  });

  it('answers each event: accepted, duplicate, unattributed, or rejected with its index and code', async () => {
    const { ingestion, outcomes } = await setup();
    const result = await ingestion.ingest([
      { requestId: 'r1', itemId: 'item-3', type: 'click' },
      { requestId: 'r1', itemId: 'item-3', type: 'click' }, // same (item, type): duplicate
      { requestId: 'unknown', itemId: 'item-3', type: 'click' },
      { requestId: 'r1', itemId: 'item-15', type: 'click' }, // a candidate, but not served (topN 10)
      { requestId: 'r1', itemId: 'item-3', type: 'like' },
      { requestId: 'r1', itemId: 'item-3', type: 'purchase', ts: 1e20 },
      { requestId: 'r1', itemId: 'item-3', type: 'purchase', ts: 'yesterday' },
      { requestId: 'r1', itemId: 'item-3', type: 'purchase', ts: NOW - 30 * DAY },
      'not an event',
      { requestId: 'r1', type: 'click' },
      { requestId: 'r1', itemId: 'item-1', type: 'purchase', ts: NOW - 60_000, eventId: 'p-1' },
    ]);
    expect(result).toEqual({
      accepted: 2,
      duplicates: 1,
      unattributed: 1,
      rejected: [
        { index: 3, code: 'ITEM_NOT_EXPOSED', message: expect.any(String) as unknown },
        { index: 4, code: 'INVALID_EVENT_TYPE', message: expect.any(String) as unknown },
        { index: 5, code: 'INVALID_TS', message: expect.any(String) as unknown },
        { index: 6, code: 'INVALID_TS', message: expect.any(String) as unknown },
        { index: 7, code: 'INVALID_TS', message: expect.any(String) as unknown },
        { index: 8, code: 'INVALID_EVENT', message: expect.any(String) as unknown },
        { index: 9, code: 'INVALID_EVENT', message: expect.any(String) as unknown },
      ],
    });
    expect(outcomes).toEqual({ accepted: 2, duplicate: 1, unattributed: 1, rejected: 7 });
  });

  it('a retried batch counts nothing twice; the positives stay as after the first call', async () => {
    const { ingestion, store } = await setup();
    const batch = [
      { requestId: 'r1', itemId: 'item-3', type: 'impression' },
      { requestId: 'r1', itemId: 'item-3', type: 'click', eventId: 'c1' },
      { requestId: 'r2', itemId: 'item-1', type: 'add_to_cart' },
    ];
    expect(await ingestion.ingest(batch)).toEqual({ accepted: 3, duplicates: 0, unattributed: 0, rejected: [] });
    expect(await ingestion.ingest(batch)).toEqual({ accepted: 0, duplicates: 3, unattributed: 0, rejected: [] });
    expect(await store.positives('r1')).toEqual(new Map([['item-3', 1]]));
    expect(await store.positives('r2')).toEqual(new Map([['item-1', 1]]));
  });

  it('events for an erased user’s request ids are unattributed', async () => {
    const { ingestion, store } = await setup();
    expect(await store.deleteUser('u1')).toBe(1);
    expect(await ingestion.ingest([{ requestId: 'r1', itemId: 'item-3', type: 'click' }])).toEqual({ accepted: 0, duplicates: 0, unattributed: 1, rejected: [] });
  });

  it('adds the statistics’ deltas for each change of an experiment exposure’s positives, and only then', async () => {
    const calls: Array<[string, PositiveCounts, PositiveCounts]> = [];
    const sumsDelta = (e: ExposureRecord, before: PositiveCounts, after: PositiveCounts) => {
      calls.push([e.requestId, before, after]);
      const positives = [...after.values()].reduce((a, b) => a + b, 0) - [...before.values()].reduce((a, b) => a + b, 0);
      const arm = e.experiment?.arm ?? '';
      return { userId: e.userId, increments: { [arm]: { positives } }, users: [{ arm, count: 0, sums: { positives } }] };
    };
    const { ingestion, store } = await setup({ sumsDelta });
    await ingestion.ingest([
      { requestId: 'r1', itemId: 'item-3', type: 'click' },
      { requestId: 'r1', itemId: 'item-1', type: 'purchase' },
      { requestId: 'r1', itemId: 'item-0', type: 'impression' },
      { requestId: 'r2', itemId: 'item-1', type: 'click' }, // no experiment: no sums
    ]);
    await ingestion.ingest([{ requestId: 'r1', itemId: 'item-3', type: 'click' }]); // duplicate: no change
    await ingestion.ingest([{ requestId: 'r1', itemId: 'item-0', type: 'impression', eventId: 'x' }]); // not positive: no change
    await ingestion.ingest([{ requestId: 'r1', itemId: 'item-3', type: 'purchase' }]);
    expect(calls.map((c) => c[0])).toEqual(['r1', 'r1']);
    expect(calls[1]?.[1]).toEqual(new Map([['item-3', 1], ['item-1', 1]]));
    expect(calls[1]?.[2]).toEqual(new Map([['item-3', 2], ['item-1', 1]]));
    // The plain increment and the user-level fold of u1's totals (0 exposures here, so no count terms).
    expect(await store.readSums('exp-1')).toEqual({ treatment: { positives: 3, 'u.positives.ssq': 9 } });
  });

  it('a failing store is a 503-kind error (retrying the same batch is safe)', async () => {
    const { store } = await setup();
    const broken: ExposureStore = { ...store, get: () => Promise.reject(new Error('ECONNREFUSED')) };
    const ingestion = createEventIngestion({ store: broken, clock: { now: () => NOW }, maxAgeMs: DAY });
    await expect(ingestion.ingest([{ requestId: 'r1', itemId: 'item-3', type: 'click' }])).rejects.toBeInstanceOf(UnavailableError);
  });

  it('a failed sums update is given back: the 503 retry applies it once, and nothing is counted twice', async () => {
    const { store } = await setup();
    let failNext = true;
    const flaky: ExposureStore = {
      ...store,
      applySums: (id, update) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('READONLY'));
        }
        return store.applySums(id, update);
      },
    };
    const sumsDelta = (_e: ExposureRecord, before: PositiveCounts, after: PositiveCounts) => ({
      userId: 'u1',
      increments: { treatment: { positives: [...after.values()].reduce((a, b) => a + b, 0) - [...before.values()].reduce((a, b) => a + b, 0) } },
      users: [],
    });
    const ingestion = createEventIngestion({ store: flaky, clock: { now: () => NOW }, maxAgeMs: DAY, sumsDelta });
    const batch = [
      { requestId: 'r1', itemId: 'item-3', type: 'click' },
      { requestId: 'r1', itemId: 'item-1', type: 'purchase' },
    ];
    await expect(ingestion.ingest(batch)).rejects.toBeInstanceOf(UnavailableError);
    expect(await store.readSums('exp-1')).toEqual({});
    expect(await ingestion.ingest(batch)).toMatchObject({ accepted: 0, duplicates: 2 });
    expect(await store.readSums('exp-1')).toEqual({ treatment: { positives: 2 } });
    await ingestion.ingest(batch);
    expect(await store.readSums('exp-1')).toEqual({ treatment: { positives: 2 } });
  });

  it('looks again, once, for exposures not found: an exposure written while the call waited counts, a truly unknown id is unattributed', async () => {
    const waits: number[] = [];
    const ref: { store?: ExposureStore } = {};
    const { ingestion, store: s } = await setup({
      lateExposureMs: 300,
      // The recorder's batch lands while the call waits.
      sleep: async (ms) => {
        waits.push(ms);
        await ref.store?.put([exposure({ requestId: 'r-late', at: NOW - 10 })], 3_600);
      },
    });
    ref.store = s;
    const result = await ingestion.ingest([
      { requestId: 'r1', itemId: 'item-3', type: 'click' },
      { requestId: 'r-late', itemId: 'item-3', type: 'click' },
      { requestId: 'r-late', itemId: 'item-4', type: 'impression' },
      { requestId: 'never', itemId: 'item-3', type: 'click' },
    ]);
    expect(result).toEqual({ accepted: 3, duplicates: 0, unattributed: 1, rejected: [] });
    expect(waits).toEqual([300]);
    expect([...((await s.positives('r-late')) ?? new Map())]).toEqual([['item-3', 1]]);
    // Every id found at once: no wait at all.
    expect((await ingestion.ingest([{ requestId: 'r1', itemId: 'item-4', type: 'click' }])).accepted).toBe(1);
    expect(waits).toEqual([300]);
  });
});
