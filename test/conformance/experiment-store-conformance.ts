/**
 * One conformance suite for the ExperimentStore port, run against every adapter (memory, Redis): round trip
 * of every field, listing (newest first, by domain), running, create's refusals, stop's compare-and-set
 * (also under concurrency), re-creating in a domain after a stop, and p-values that only ever fall.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentRecord, ExperimentStore, StopReason } from '../../src/experiments/ports.js';
import type { PortHarness } from './port-harness.js';

/** A running experiment with every optional field set, and numbers that need all 17 digits. */
export function experiment(over: Partial<ExperimentRecord> = {}): ExperimentRecord {
  return {
    id: 'x-1',
    domain: 'movies',
    mode: 'ab',
    arms: [
      { name: 'control', method: 'baseline', weight: 0.1 + 0.2 },
      { name: 'treat"{é}', method: 'agp', promptVersion: 'v:{3}', weight: 1 / 3 },
    ],
    trafficShare: 0.12345678901234568,
    guardrails: { maxFallbackRate: 0.05, maxLatencyP99Ms: 1500, maxLlmCallsPerExposure: 2.5, minExposures: 1000 },
    state: 'running',
    createdAt: 1_700_000_000_123,
    stoppedAt: null,
    stopReason: null,
    pValues: { 'treat"{é}': 0.30000000000000004 },
    ...over,
  };
}

const manual: StopReason = { kind: 'manual', message: 'stopped by ops' };

export function describeExperimentStoreConformance(name: string, harness: PortHarness<{ store: ExperimentStore }>): void {
  describe(`ExperimentStore conformance: ${name}`, () => {
    beforeAll(() => harness.start());
    afterAll(() => harness.stop());

    it('round-trips every field (17-digit numbers, hostile strings); unknown ids read null', async () => {
      const { store } = await harness.create();
      const rec = experiment();
      expect(await store.create(rec, 5)).toBeNull();
      expect(await store.get('x-1')).toEqual(rec);
      expect(await store.get('nope')).toBeNull();
      const minimal = experiment({ id: 'x-2', domain: 'books', mode: 'interleave', arms: [{ name: 'a', method: 'cot' }, { name: 'b', method: 'direct' }], guardrails: {}, pValues: {} });
      expect(await store.create(minimal, 5)).toBeNull();
      expect(await store.get('x-2')).toEqual(minimal);
      const shadow = experiment({ id: 'x-3', domain: 'music', mode: 'shadow', arms: [{ name: 'cand', method: 'agp', promptVersion: 'v3' }], guardrails: {}, pValues: {}, shadow: { maxConcurrency: 7, llmCallsPerHour: 12_345 } });
      expect(await store.create(shadow, 5)).toBeNull();
      expect(await store.get('x-3')).toEqual(shadow);
      // What the caller passed or got is not the stored copy.
      const got = await store.get('x-1');
      const arm = got?.arms[0] as { name: string } | undefined;
      if (arm) arm.name = 'mutated';
      expect(got?.arms[0]?.name).toBe('mutated');
      expect(await store.get('x-1')).toEqual(rec);
    });

    it('lists newest first, filters by domain, and lists the running ones', async () => {
      const { store } = await harness.create();
      await store.create(experiment({ id: 'old', domain: 'movies', createdAt: 1_000 }), 10);
      await store.stop('old', 1_500, manual);
      await store.create(experiment({ id: 'mid', domain: 'books', createdAt: 2_000 }), 10);
      await store.create(experiment({ id: 'new', domain: 'movies', createdAt: 3_000 }), 10);
      expect((await store.list()).map((r) => r.id)).toEqual(['new', 'mid', 'old']);
      expect((await store.list('movies')).map((r) => r.id)).toEqual(['new', 'old']);
      expect(await store.list('music')).toEqual([]);
      expect((await store.running()).map((r) => r.id)).toEqual(['new', 'mid']);
      expect((await store.list())[2]).toMatchObject({ id: 'old', state: 'stopped', stoppedAt: 1_500, stopReason: manual });
    });

    it('refuses a second running experiment in a domain (domain_busy) and more than maxRunning (too_many_running)', async () => {
      const { store } = await harness.create();
      expect(await store.create(experiment({ id: 'a', domain: 'd1' }), 2)).toBeNull();
      expect(await store.create(experiment({ id: 'b', domain: 'd1' }), 2)).toEqual({ reason: 'domain_busy', runningId: 'a' });
      expect(await store.create(experiment({ id: 'c', domain: 'd2' }), 2)).toBeNull();
      expect(await store.create(experiment({ id: 'd', domain: 'd3' }), 2)).toEqual({ reason: 'too_many_running', max: 2 });
      // A refusal stored nothing.
      expect(await store.get('b')).toBeNull();
      expect(await store.get('d')).toBeNull();
      expect((await store.list()).map((r) => r.id).sort()).toEqual(['a', 'c']);
      // Concurrent creates in one free domain: exactly one wins.
      const results = await Promise.all(['e1', 'e2', 'e3', 'e4'].map((id) => store.create(experiment({ id, domain: 'd4' }), 10)));
      expect(results.filter((r) => r === null)).toHaveLength(1);
      expect(results.filter((r) => r?.reason === 'domain_busy')).toHaveLength(3);
    });

    it('stop is a compare-and-set: once, with its reason; a second stop and an unknown id resolve null', async () => {
      const { store } = await harness.create();
      await store.create(experiment(), 5);
      const reason: StopReason = { kind: 'guardrail', message: 'fallback rate 0.21 > 0.05', arm: 'treat"{é}' };
      const stopped = await store.stop('x-1', 1_700_000_100_456, reason);
      expect(stopped).toEqual({ ...experiment(), state: 'stopped', stoppedAt: 1_700_000_100_456, stopReason: reason });
      expect(await store.get('x-1')).toEqual(stopped);
      expect(await store.stop('x-1', 1_700_000_200_000, manual)).toBeNull();
      expect((await store.get('x-1'))?.stopReason).toEqual(reason);
      expect(await store.stop('nope', 1, manual)).toBeNull();
      expect(await store.running()).toEqual([]);
    });

    it('concurrent stops: exactly one records its reason', async () => {
      const { store } = await harness.create();
      await store.create(experiment(), 5);
      const reasons = Array.from({ length: 8 }, (_, i): StopReason => ({ kind: 'promoted', message: `replica ${i}`, arm: 'control' }));
      const results = await Promise.all(reasons.map((r, i) => store.stop('x-1', 2_000 + i, r)));
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect(await store.get('x-1')).toEqual(winners[0]);
    });

    it('after a stop the domain is free again; the stopped one stays listed', async () => {
      const { store } = await harness.create();
      await store.create(experiment({ id: 'first', createdAt: 1_000 }), 1);
      expect(await store.create(experiment({ id: 'second', createdAt: 2_000 }), 1)).toEqual({ reason: 'domain_busy', runningId: 'first' });
      await store.stop('first', 1_500, manual);
      expect(await store.create(experiment({ id: 'second', createdAt: 2_000 }), 1)).toBeNull();
      expect((await store.running()).map((r) => r.id)).toEqual(['second']);
      expect((await store.list('movies')).map((r) => [r.id, r.state])).toEqual([['second', 'running'], ['first', 'stopped']]);
    });

    it('create refuses a record that is not running or whose id exists (a caller bug), storing nothing', async () => {
      const { store } = await harness.create();
      await expect(store.create(experiment({ state: 'stopped', stoppedAt: 1, stopReason: manual }), 5)).rejects.toThrow(/running/);
      expect(await store.get('x-1')).toBeNull();
      await store.create(experiment(), 5);
      await store.stop('x-1', 5, manual);
      await expect(store.create(experiment({ domain: 'other' }), 5)).rejects.toThrow(/exists/);
      expect((await store.get('x-1'))?.state).toBe('stopped');
    });

    it('lowerPValues keeps the running minimum per arm, adds new arms, never raises; unknown ids change nothing', async () => {
      const { store } = await harness.create();
      await store.create(experiment({ pValues: { A: 0.5, B: 0.2 } }), 5);
      await store.lowerPValues('x-1', { A: 0.7, B: 0.1 + 0.0000000000000001, C: 1e-12 });
      expect((await store.get('x-1'))?.pValues).toEqual({ A: 0.5, B: 0.1 + 0.0000000000000001, C: 1e-12 });
      await store.lowerPValues('x-1', { A: 0.49999999999999994, C: 2e-12 });
      expect((await store.get('x-1'))?.pValues).toEqual({ A: 0.49999999999999994, B: 0.1 + 0.0000000000000001, C: 1e-12 });
      await store.lowerPValues('nope', { A: 0 });
      expect(await store.get('nope')).toBeNull();
      // Concurrent looks: the minimum wins whatever the order.
      await Promise.all([0.3, 0.01, 0.2, 0.05].map((p) => store.lowerPValues('x-1', { D: p })));
      expect((await store.get('x-1'))?.pValues.D).toBe(0.01);
    });
  });
}
