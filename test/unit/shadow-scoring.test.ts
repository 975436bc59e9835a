/**
 * Shadow scoring's per-request measures and results: Kendall's tau (against a brute-force pair count written
 * here), the candidate's order restricted to the served items, the record encoding, the counterfactual
 * metrics (against the test's own metric code) and the verdict the loop can gate on.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { candidateIds, decodeShadowRecord, encodeShadowRecord, kendallTau, shadowRecordOf } from '../../src/experiments/shadow-scoring.js';
import { SHADOW_COUNTERFACTUAL_NOTE, shadowResults, shadowVerdict, type ShadowResults } from '../../src/experiments/shadow-results.js';
import { emptyShadowCounters, type ShadowRecord } from '../../src/experiments/shadow-types.js';
import { oracleMetrics } from '../support/experiment-traffic.js';

/** Tau by definition: over all pairs of items, +1 when both orders agree on them, −1 otherwise. */
function bruteTau(a: readonly string[], b: readonly string[]): number {
  const pos = new Map(b.map((id, i) => [id, i]));
  let s = 0;
  let pairs = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      s += Math.sign((pos.get(a[j] as string) as number) - (pos.get(a[i] as string) as number));
      pairs += 1;
    }
  }
  return s / pairs;
}

describe("Kendall's tau", () => {
  it('is 1 for the same order, −1 for the reverse, and 1 − 4/(n(n−1)) for one adjacent swap', () => {
    expect(kendallTau([0, 1, 2, 3, 4])).toBe(1);
    expect(kendallTau([4, 3, 2, 1, 0])).toBe(-1);
    expect(kendallTau([1, 0, 2, 3, 4])).toBeCloseTo(1 - 4 / 20, 12);
    expect(kendallTau([1, 0])).toBe(-1);
  });

  it('equals the pair count by definition on random permutations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 30 }).chain((n) => fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n })), (perm) => {
        const served = perm.map((_, i) => `i${i}`);
        expect(kendallTau(perm)).toBeCloseTo(bruteTau(served, perm.map((p) => served[p] as string)), 12);
      }),
    );
  });

  it('refuses fewer than two items and a non-permutation', () => {
    expect(() => kendallTau([0])).toThrow(RangeError);
    expect(() => kendallTau([0, 0])).toThrow(RangeError);
    expect(() => kendallTau([0, 2])).toThrow(RangeError);
  });
});

describe('the record of one scored request', () => {
  it('restricts the candidate’s full order to the served items (topN), as positions in the served list', () => {
    // Served: the first 3 of the serving order; the candidate ranks the unserved c9 first, which is dropped.
    const rec = shadowRecordOf('r1', ['c2', 'c0', 'c5'], ['c9', 'c5', 'c2', 'c7', 'c0']);
    expect(rec).toEqual({ requestId: 'r1', served: ['c2', 'c0', 'c5'], candidate: [2, 0, 1] });
    expect(candidateIds(rec)).toEqual(['c5', 'c2', 'c0']);
    expect(kendallTau(rec.candidate)).toBeCloseTo(bruteTau(rec.served, candidateIds(rec)), 12);
    expect(() => shadowRecordOf('r2', ['a', 'b'], ['a', 'c'])).toThrow(/misses 1/);
  });

  it('encodes and decodes any ids exactly; junk decodes to null', () => {
    const rec: ShadowRecord = { requestId: 'x"y\u0000', served: ['é', '"]', '\u{1F3AC}'], candidate: [1, 2, 0] };
    expect(decodeShadowRecord(encodeShadowRecord(rec))).toEqual(rec);
    for (const junk of ['', '{', '[1,2,3]', '["r",["a"],[0,1]]', '["r",["a","b"],[0,5]]', '["r",[1,2],[0,1]]']) expect(decodeShadowRecord(junk)).toBeNull();
  });
});

describe('shadow results', () => {
  const record = { arms: [{ name: 'cand', method: 'agp' as const, promptVersion: 'v2' }], shadow: { maxConcurrency: 4, llmCallsPerHour: 1000 } };

  it('scores both orders of the same items against the served list’s positives; ctr is equal by construction', () => {
    const records: ShadowRecord[] = [
      { requestId: 'a', served: ['x', 'y', 'z'], candidate: [2, 1, 0] },
      { requestId: 'b', served: ['p', 'q'], candidate: [1, 0] },
      { requestId: 'c', served: ['m', 'n'], candidate: [0, 1] },
      { requestId: 'gone', served: ['s', 't'], candidate: [1, 0] },
    ];
    const positives = [new Map([['z', 1]]), new Map([['p', 2]]), new Map<string, number>(), null];
    const counters = { ...emptyShadowCounters(), scored: 7, llmCalls: 11, skipped: { budget: 1, queueFull: 2, failed: 3 }, tau: { count: 2, sum: 0.5, sumSq: 0.5 } };
    const r = shadowResults({ record, state: { counters, records }, positives });
    expect(r).toMatchObject({ arm: { name: 'cand', method: 'agp', promptVersion: 'v2' }, scored: 7, llmCalls: 11, skipped: { budget: 1, queueFull: 2, failed: 3 }, retained: 4 });
    expect(r.counterfactual).toMatchObject({ biased: true, note: SHADOW_COUNTERFACTUAL_NOTE, exposures: 3, exposuresWithPositives: 2 });
    const kept = records.slice(0, 3);
    for (const m of ['ctr', 'mrr', 'ndcg@10'] as const) {
      const s = kept.map((rec, i) => oracleMetrics(rec.served, new Set(positives[i]?.keys()))[m]);
      const c = kept.map((rec, i) => oracleMetrics(candidateIds(rec), new Set(positives[i]?.keys()))[m]);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(r.counterfactual.served[m].value).toBeCloseTo(mean(s), 12);
      expect(r.counterfactual.candidate[m].value).toBeCloseTo(mean(c), 12);
      expect(r.counterfactual.diff[m].value).toBeCloseTo(mean(c) - mean(s), 12);
    }
    expect(r.counterfactual.served.ctr.value).toBe(r.counterfactual.candidate.ctr.value);
    // The candidate moved z from 3rd to 1st: better on this (biased) counterfactual.
    expect(r.counterfactual.candidate.mrr.value).toBeGreaterThan(r.counterfactual.served.mrr.value);
    expect(r.agreement.kendallTau.value).toBe(0.25);
    const [lo, hi] = r.agreement.kendallTau.ci95;
    expect(lo).toBeGreaterThanOrEqual(-1);
    expect(hi).toBeLessThanOrEqual(1);
    expect(lo).toBeLessThanOrEqual(0.25);
  });

  it('tau’s interval narrows with the sample and stays inside [−1, 1]', () => {
    const at = (n: number) => {
      const tau = { count: n, sum: 0.6 * n, sumSq: n * (0.6 * 0.6 + 0.04) };
      return shadowResults({ record, state: { counters: { ...emptyShadowCounters(), scored: n, tau }, records: [] }, positives: [] }).agreement.kendallTau;
    };
    const [small, large] = [at(20), at(5_000)];
    expect(small.ci95[1] - small.ci95[0]).toBeGreaterThan(large.ci95[1] - large.ci95[0]);
    expect(large.ci95[0]).toBeGreaterThan(0.5);
    expect(large.ci95[1]).toBeLessThan(0.7);
    expect(at(0).ci95).toEqual([-1, 1]);
  });
});

describe('shadowVerdict', () => {
  const results = (over: { scored?: number; failed?: number; tau?: number; ndcgDiff?: number }): ShadowResults => {
    const est = (value: number) => ({ value, ci95: [value, value] as [number, number] });
    const metrics = { ctr: est(0), mrr: est(0), 'ndcg@10': est(0) };
    return {
      arm: { name: 'c', method: 'agp', promptVersion: 'v' },
      maxConcurrency: 4,
      llmCallsPerHour: 1000,
      scored: over.scored ?? 500,
      skipped: { budget: 0, queueFull: 0, failed: over.failed ?? 0 },
      llmCalls: 0,
      retained: 0,
      agreement: { kendallTau: est(over.tau ?? 0.6) },
      counterfactual: { biased: true, note: '', exposures: 100, exposuresWithPositives: 50, served: metrics, candidate: metrics, diff: { ...metrics, 'ndcg@10': est(over.ndcgDiff ?? 0) } },
    };
  };
  const gate = { minScored: 200, minTau: 0.3 };

  it('passes a candidate that agrees enough, with enough scored requests', () => {
    expect(shadowVerdict(results({}), gate)).toMatchObject({ passed: true, sufficient: true });
  });

  it('is not sufficient before minScored, and fails on low tau, many failures or a counterfactual loss when asked', () => {
    expect(shadowVerdict(results({ scored: 150 }), gate)).toMatchObject({ passed: false, sufficient: false, reason: expect.stringMatching(/only 150/) });
    expect(shadowVerdict(results({ tau: 0.1 }), gate)).toMatchObject({ passed: false, sufficient: true, reason: expect.stringMatching(/tau .* 0\.100 .* below 0\.300/) });
    // A sabotaged prompt that mostly fails never reaches minScored, and is judged on its failures instead.
    expect(shadowVerdict(results({ scored: 20, failed: 300 }), gate)).toMatchObject({ passed: false, sufficient: true, reason: expect.stringMatching(/failed on 0\.938 of 320/) });
    expect(shadowVerdict(results({ failed: 50 }), gate).passed).toBe(true);
    expect(shadowVerdict(results({ ndcgDiff: -0.2 }), { ...gate, minNdcgDelta: -0.05 })).toMatchObject({ passed: false, reason: expect.stringMatching(/biased/) });
    expect(shadowVerdict(results({ ndcgDiff: -0.2 }), gate).passed).toBe(true);
  });
});
