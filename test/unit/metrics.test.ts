import { describe, it, expect } from 'vitest';
import {
  bootstrapCi,
  hitAtK,
  mean,
  ndcgAtK,
  pairedBootstrap,
  rankOf,
  reciprocalRank,
  scoreRanking,
} from '../../src/agp/metrics.js';

describe('rankOf', () => {
  it('is the 1-based rank of the best-placed target', () => {
    expect(rankOf(['a', 'b', 'c', 'd'], ['c'])).toBe(3);
    expect(rankOf(['a', 'b', 'c', 'd'], ['d', 'b'])).toBe(2);
    expect(rankOf(['a', 'b'], ['a'])).toBe(1);
  });

  it('is null when no target is present', () => {
    expect(rankOf(['a', 'b'], ['z'])).toBeNull();
    expect(rankOf(['a', 'b'], [])).toBeNull();
    expect(rankOf([], ['a'])).toBeNull();
  });
});

describe('ndcgAtK (single relevant item, hand-computed)', () => {
  it('matches 1/log2(rank+1)', () => {
    expect(ndcgAtK(1)).toBe(1);
    expect(ndcgAtK(2)).toBeCloseTo(0.6309297535714575, 12); // 1/log2(3)
    expect(ndcgAtK(3)).toBe(0.5); // 1/log2(4)
    expect(ndcgAtK(7)).toBeCloseTo(1 / 3, 12); // 1/log2(8)
    expect(ndcgAtK(10)).toBeCloseTo(0.2890648263178879, 12); // 1/log2(11)
  });

  it('is 0 beyond k and for an absent item', () => {
    expect(ndcgAtK(11, 10)).toBe(0);
    expect(ndcgAtK(4, 3)).toBe(0);
    expect(ndcgAtK(3, 3)).toBe(0.5);
    expect(ndcgAtK(null)).toBe(0);
    expect(ndcgAtK(0)).toBe(0);
  });
});

describe('hitAtK, reciprocalRank, mean', () => {
  it('hitAtK', () => {
    expect(hitAtK(1, 1)).toBe(1);
    expect(hitAtK(2, 1)).toBe(0);
    expect(hitAtK(3, 3)).toBe(1);
    expect(hitAtK(4, 3)).toBe(0);
    expect(hitAtK(null, 10)).toBe(0);
  });

  it('reciprocalRank', () => {
    expect(reciprocalRank(1)).toBe(1);
    expect(reciprocalRank(4)).toBe(0.25);
    expect(reciprocalRank(null)).toBe(0);
  });

  it('mean', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(mean([])).toBe(0);
    expect(mean([0.5])).toBe(0.5);
  });
});

describe('scoreRanking', () => {
  it('scores every metric from the rank', () => {
    expect(scoreRanking(['a', 'b', 'c', 'd'], ['c'])).toEqual({
      rank: 3,
      'ndcg@10': 0.5,
      'hr@1': 0,
      'hr@3': 1,
      'hr@5': 1,
      mrr: 1 / 3,
    });
  });

  it('scores an absent target as zero everywhere', () => {
    expect(scoreRanking(['a'], ['z'])).toEqual({ rank: null, 'ndcg@10': 0, 'hr@1': 0, 'hr@3': 0, 'hr@5': 0, mrr: 0 });
  });
});

describe('bootstrapCi', () => {
  const xs = [0, 0.5, 1, 0.63, 0.39, 0, 1, 0.43, 0.5, 0.33, 1, 0.29, 0, 0.63, 1, 0.5];

  it('contains the mean and is ordered', () => {
    const [lo, hi] = bootstrapCi(xs, { seed: 1 });
    expect(lo).toBeLessThan(mean(xs));
    expect(hi).toBeGreaterThan(mean(xs));
    expect(lo).toBeGreaterThanOrEqual(Math.min(...xs));
    expect(hi).toBeLessThanOrEqual(Math.max(...xs));
  });

  it('is deterministic under a seed and changes with it', () => {
    expect(bootstrapCi(xs, { seed: 42 })).toEqual(bootstrapCi(xs, { seed: 42 }));
    expect(bootstrapCi(xs, { seed: 42 })).not.toEqual(bootstrapCi(xs, { seed: 43 }));
  });

  it('narrows as alpha grows', () => {
    const [lo95, hi95] = bootstrapCi(xs, { seed: 3, alpha: 0.05 });
    const [lo50, hi50] = bootstrapCi(xs, { seed: 3, alpha: 0.5 });
    expect(hi50 - lo50).toBeLessThan(hi95 - lo95);
  });

  it('collapses for constant, single and empty samples', () => {
    const [lo, hi] = bootstrapCi([0.7, 0.7, 0.7]);
    expect(lo).toBeCloseTo(0.7, 12);
    expect(hi).toBeCloseTo(0.7, 12);
    expect(bootstrapCi([0.4])).toEqual([0.4, 0.4]);
    expect(bootstrapCi([])).toEqual([0, 0]);
  });

  it('rejects bad options', () => {
    expect(() => bootstrapCi(xs, { iterations: 0 })).toThrow(RangeError);
    expect(() => bootstrapCi(xs, { alpha: 1 })).toThrow(RangeError);
  });
});

describe('pairedBootstrap', () => {
  it('reports a clear improvement as significant', () => {
    const b = Array.from({ length: 50 }, (_, i) => (i % 5) / 5);
    const a = b.map((x, i) => x + 0.1 + (i % 3) * 0.01);
    const r = pairedBootstrap(a, b, { seed: 7 });
    expect(r.meanDiff).toBeCloseTo(mean(a) - mean(b), 12);
    expect(r.ci95[0]).toBeGreaterThan(0);
    expect(r.ci95[0]).toBeLessThanOrEqual(r.meanDiff);
    expect(r.ci95[1]).toBeGreaterThanOrEqual(r.meanDiff);
    expect(r.pValue).toBeLessThan(0.01);
  });

  it('reports noise as not significant, with a CI spanning zero', () => {
    const a = [1, 0, 0.5, 0.63, 0, 1, 0.5, 0.39];
    const b = [0, 1, 0.63, 0.5, 1, 0, 0.39, 0.5];
    const r = pairedBootstrap(a, b, { seed: 7 });
    expect(r.meanDiff).toBeCloseTo(0, 12);
    expect(r.ci95[0]).toBeLessThan(0);
    expect(r.ci95[1]).toBeGreaterThan(0);
    expect(r.pValue).toBeGreaterThan(0.5);
  });

  it('gives p = 1 for identical systems and is deterministic', () => {
    const xs = [0.1, 0.5, 1];
    expect(pairedBootstrap(xs, xs)).toEqual({ meanDiff: 0, ci95: [0, 0], pValue: 1 });
    const a = [1, 0.5, 0.3, 0];
    const b = [0.5, 0.5, 0.63, 0];
    expect(pairedBootstrap(a, b, { seed: 9 })).toEqual(pairedBootstrap(a, b, { seed: 9 }));
  });

  it('rejects unpaired inputs', () => {
    expect(() => pairedBootstrap([1, 2], [1])).toThrow(RangeError);
  });
});
