/**
 * One conformance suite for the ShadowStore port, run against the memory store, a redis-server and the 3-master
 * Redis Cluster: records newest first and keyed by requestId, counters exact, the hourly call count, the caps
 * by count and by bytes (the newest record always kept), TTL, and independent experiments.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeShadowRecord, shadowRecordBytes } from '../../src/experiments/shadow-scoring.js';
import type { ShadowRecord, ShadowRetention, ShadowStore } from '../../src/experiments/shadow-types.js';
import type { PortHarness } from './port-harness.js';

/** A store under test and how to let time pass for it. */
export interface ShadowStoreUnderTest {
  store: ShadowStore;
  elapse(ms: number): Promise<void>;
}

const HOUR = 493_000;
const roomy: ShadowRetention = { ttlSeconds: 600, maxRecords: 1_000, maxBytes: 1 << 20 };
const record = (requestId: string, n = 3): ShadowRecord => ({
  requestId,
  served: Array.from({ length: n }, (_, i) => `${requestId}-item-${i}`),
  candidate: Array.from({ length: n }, (_, i) => n - 1 - i),
});

export function describeShadowStoreConformance(name: string, harness: PortHarness<ShadowStoreUnderTest>): void {
  describe(`ShadowStore conformance: ${name}`, () => {
    beforeAll(() => harness.start(), 60_000);
    afterAll(() => harness.stop());

    it('reads zeros for an unknown experiment', async () => {
      const { store } = await harness.create();
      expect(await store.read('nope')).toEqual({ counters: { scored: 0, skipped: { budget: 0, queueFull: 0, failed: 0 }, llmCalls: 0, tau: { count: 0, sum: 0, sumSq: 0 } }, records: [] });
      expect(await store.callsThisHour('nope', HOUR)).toBe(0);
    });

    it('keeps records newest first with exact ids, and counters, tau sums and hourly calls exactly', async () => {
      const { store } = await harness.create();
      const odd: ShadowRecord = { requestId: 'r"{x}:ü', served: ['a{b}', '"q"', '🎬', 'x\u0000y'], candidate: [2, 0, 3, 1] };
      await store.add('e1', { record: { value: record('r1'), tau: -1 }, hour: HOUR, llmCalls: 2 }, roomy);
      await store.add('e1', { record: { value: odd, tau: 1 / 3 }, hour: HOUR, llmCalls: 3 }, roomy);
      await store.add('e1', { hour: HOUR + 1, llmCalls: 4, skipped: { failed: 1 } }, roomy);
      await store.add('e1', { hour: HOUR + 1, llmCalls: 0, skipped: { budget: 5, queueFull: 7 } }, roomy);
      const { counters, records } = await store.read('e1');
      expect(records).toEqual([odd, record('r1')]);
      expect(counters).toMatchObject({ scored: 2, llmCalls: 9, skipped: { budget: 5, queueFull: 7, failed: 1 } });
      expect(counters.tau.count).toBe(2);
      expect(counters.tau.sum).toBeCloseTo(-1 + 1 / 3, 12);
      expect(counters.tau.sumSq).toBeCloseTo(1 + 1 / 9, 12);
      expect(await store.callsThisHour('e1', HOUR)).toBe(5);
      expect(await store.callsThisHour('e1', HOUR + 1)).toBe(4);
      expect(await store.callsThisHour('e1', HOUR + 2)).toBe(0);
    });

    it('keeps at most maxRecords, dropping the oldest; a requestId scored twice reads once (the newest)', async () => {
      const { store } = await harness.create();
      const keep = { ...roomy, maxRecords: 5 };
      for (let i = 0; i < 8; i++) await store.add('e2', { record: { value: record(`r${i}`), tau: 0 }, hour: HOUR, llmCalls: 1 }, keep);
      expect((await store.read('e2')).records.map((r) => r.requestId)).toEqual(['r7', 'r6', 'r5', 'r4', 'r3']);
      expect((await store.read('e2')).counters.scored).toBe(8);
      const again = { ...record('r6'), candidate: [0, 1, 2] };
      await store.add('e2', { record: { value: again, tau: 1 }, hour: HOUR, llmCalls: 1 }, keep);
      expect((await store.read('e2')).records.map((r) => [r.requestId, r.candidate[0]])).toEqual([
        ['r6', 0],
        ['r7', 2],
        ['r5', 2],
        ['r4', 2],
      ]);
    });

    it('keeps at most maxBytes of encoded records, but always the newest one', async () => {
      const { store } = await harness.create();
      const size = shadowRecordBytes(encodeShadowRecord(record('b0', 4)));
      const tight = { ...roomy, maxBytes: 3 * size };
      for (let i = 0; i < 6; i++) await store.add('e3', { record: { value: record(`b${i}`, 4), tau: 0 }, hour: HOUR, llmCalls: 0 }, tight);
      expect((await store.read('e3')).records.map((r) => r.requestId)).toEqual(['b5', 'b4', 'b3']);
      await store.add('e3', { record: { value: record('huge', 200), tau: 0 }, hour: HOUR, llmCalls: 0 }, tight);
      expect((await store.read('e3')).records.map((r) => r.requestId)).toEqual(['huge']);
      await store.add('e3', { record: { value: record('after', 4), tau: 0 }, hour: HOUR, llmCalls: 0 }, tight);
      expect((await store.read('e3')).records.map((r) => r.requestId)).toEqual(['after']);
    });

    it('experiments are independent; delete forgets one', async () => {
      const { store } = await harness.create();
      await store.add('a', { record: { value: record('ra'), tau: 0.5 }, hour: HOUR, llmCalls: 1 }, roomy);
      await store.add('b', { record: { value: record('rb'), tau: 0.25 }, hour: HOUR, llmCalls: 2 }, roomy);
      await store.delete('a');
      expect((await store.read('a')).records).toEqual([]);
      expect((await store.read('a')).counters.scored).toBe(0);
      expect(await store.read('b')).toMatchObject({ counters: { scored: 1, llmCalls: 2 }, records: [record('rb')] });
      expect(await store.callsThisHour('b', HOUR)).toBe(2);
    });

    it('records and counters expire ttlSeconds after the last write', async () => {
      const { store, elapse } = await harness.create();
      await store.add('t', { record: { value: record('rt'), tau: 0 }, hour: HOUR, llmCalls: 1 }, { ...roomy, ttlSeconds: 1 });
      expect((await store.read('t')).records).toHaveLength(1);
      await elapse(1_600);
      expect(await store.read('t')).toMatchObject({ counters: { scored: 0 }, records: [] });
      // Any write (a skip too) keeps records and counters alive together: they expire as one.
      await store.add('t', { record: { value: record('again'), tau: 0 }, hour: HOUR, llmCalls: 1 }, { ...roomy, ttlSeconds: 1 });
      await elapse(700);
      await store.add('t', { hour: HOUR, llmCalls: 0, skipped: { budget: 1 } }, { ...roomy, ttlSeconds: 1 });
      await elapse(700);
      expect(await store.read('t')).toMatchObject({ counters: { scored: 1, skipped: { budget: 1 } }, records: [record('again')] });
    });
  });
}
