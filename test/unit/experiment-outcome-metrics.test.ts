/**
 * The per-exposure metrics (ctr, mrr, ndcg@10) against values worked out by hand, to 1e-12.
 * log2 values: 1/log2(3) = 0.6309297535714575, 1/log2(5) = 0.43067655807339306, 1/log2(6) = 0.38685280723454163.
 */
import { describe, expect, it } from 'vitest';
import { ndcgAtK } from '../../src/agp/metrics.js';
import { exposureOutcome } from '../../src/experiments/outcome-metrics.js';

const S12 = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'];

describe('exposureOutcome', () => {
  it('scores several positives, one of them beyond position 10', () => {
    // P = {b, d, k}: DCG = 1/log2(3) + 1/log2(5) (k at 11 is cut); ideal DCG of 3 items = 1 + 1/log2(3) + 1/2.
    const m = exposureOutcome(S12, new Set(['b', 'd', 'k']));
    expect(m.ctr).toBe(1);
    expect(m.mrr).toBeCloseTo(0.5, 12);
    expect(m['ndcg@10']).toBeCloseTo((0.6309297535714575 + 0.43067655807339306) / (1 + 0.6309297535714575 + 0.5), 12);
    expect(m['ndcg@10']).toBeCloseTo(0.49818925746641285, 12);
  });

  it('scores positives at positions 3 and 5 of a short list', () => {
    const m = exposureOutcome(['a', 'b', 'c', 'd', 'e'], new Set(['e', 'c']));
    expect(m.mrr).toBeCloseTo(1 / 3, 12);
    expect(m['ndcg@10']).toBeCloseTo((0.5 + 0.38685280723454163) / (1 + 0.6309297535714575), 12);
  });

  it('is all zeros when nothing was positive, and ignores positives that were not served', () => {
    expect(exposureOutcome(S12, new Set())).toEqual({ ctr: 0, mrr: 0, 'ndcg@10': 0 });
    expect(exposureOutcome(S12, new Set(['zz']))).toEqual({ ctr: 0, mrr: 0, 'ndcg@10': 0 });
    expect(exposureOutcome(['a', 'b'], new Set(['zz', 'b']))['ndcg@10']).toBeCloseTo(0.6309297535714575, 12);
  });

  it('is 1 everywhere when the first item is the only positive, and ndcg is 1 when all of the top 10 are', () => {
    expect(exposureOutcome(S12, new Set(['a']))).toEqual({ ctr: 1, mrr: 1, 'ndcg@10': 1 });
    // |P| = 12 > 10: the ideal DCG is over min(|P|, 10) = 10 items, which the list's top 10 achieve.
    expect(exposureOutcome(S12, new Set(S12))['ndcg@10']).toBeCloseTo(1, 12);
  });

  it('gives 0 ndcg but a click for a positive only beyond position 10', () => {
    const m = exposureOutcome(S12, new Set(['l']));
    expect(m).toEqual({ ctr: 1, mrr: 1 / 12, 'ndcg@10': 0 });
  });

  it('agrees with the offline single-target NDCG (one implementation) for one positive', () => {
    for (let r = 1; r <= 12; r++) {
      expect(exposureOutcome(S12, new Set([S12[r - 1] as string]))['ndcg@10']).toBeCloseTo(ndcgAtK(r, 10), 12);
    }
  });
});
