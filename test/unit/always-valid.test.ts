/**
 * The always-valid statistics: running sufficient statistics, the mSPRT formulas (against Johari et al.'s
 * two-sample form written out here), the confidence sequence as the exact inversion of the test, decisions,
 * and a cheap version of the simulations in bench/experiment-statistics.ts: under A/A, reading the test
 * every 100 exposures almost never decides (while a fixed-horizon z-test read the same way often does),
 * and a true NDCG@10 lift of 0.02 is found, in the right direction.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_STATS,
  addObservation,
  addUserObservation,
  compareMeans,
  comparePreference,
  confidenceSequenceHalfWidth,
  meanEstimate,
  meanVariance,
  mergeStats,
  mixtureLogLikelihoodRatio,
  replaceObservation,
  replaceUserObservation,
  statsMean,
  statsVariance,
} from '../../src/experiments/always-valid.js';
import type { ArmStats, RunningStats, UserTotals } from '../../src/experiments/always-valid.js';
import { createRng } from '../../src/agp/rng.js';
import { runAbSequential, runInterleavingSequential, runUserClusteredAa } from '../../testkit/experiment-simulation.js';

const statsOf = (xs: number[]): RunningStats => xs.reduce(addObservation, EMPTY_STATS);

/** Stats of n draws from {0 w.p. 1-p, x w.p. p}-like data with a given seed: a noisy metric in [0, 1]. */
function sample(n: number, mean: number, seed: string): RunningStats {
  const rng = createRng(seed);
  let s: RunningStats = EMPTY_STATS;
  for (let i = 0; i < n; i++) s = addObservation(s, rng.next() < mean * 2 ? rng.next() : 0);
  return s;
}

describe('running statistics', () => {
  it('give the mean and unbiased variance, merge, and replace one observation', () => {
    const xs = [0, 0.5, 1, 0.25, 0];
    const s = statsOf(xs);
    const m = 1.75 / 5;
    expect(statsMean(s)).toBeCloseTo(m, 12);
    expect(statsVariance(s)).toBeCloseTo(xs.reduce((a, x) => a + (x - m) ** 2, 0) / 4, 12);
    expect(mergeStats(statsOf(xs.slice(0, 2)), statsOf(xs.slice(2)))).toEqual(s);
    const replaced = replaceObservation(s, 0, 0.63); // a late click turns one exposure's 0 into 0.63
    const direct = statsOf([0.63, 0.5, 1, 0.25, 0]);
    expect(replaced.count).toBe(5);
    expect(replaced.sum).toBeCloseTo(direct.sum, 12);
    expect(replaced.sumSq).toBeCloseTo(direct.sumSq, 12);
    expect(statsVariance(EMPTY_STATS)).toBe(0);
    expect(statsMean(EMPTY_STATS)).toBe(0);
  });
});

/** Feeds (user, value) exposures through addUserObservation, keeping each user's totals as a store would. */
function byUser(exposures: [string, number][]): { stats: ArmStats; users: Map<string, UserTotals> } {
  const users = new Map<string, UserTotals>();
  let stats: ArmStats = EMPTY_STATS;
  for (const [u, x] of exposures) {
    const before = users.get(u) ?? { count: 0, sum: 0 };
    stats = addUserObservation(stats, before, x);
    users.set(u, { count: before.count + 1, sum: before.sum + x });
  }
  return { stats, users };
}

/** The user-level variance straight from its definition, Σ(s_u − m·n_u)² / N² · k/(k−1). */
function directUserVariance(exposures: [string, number][]): number {
  const per = new Map<string, { n: number; s: number }>();
  for (const [u, x] of exposures) {
    const p = per.get(u) ?? { n: 0, s: 0 };
    per.set(u, { n: p.n + 1, s: p.s + x });
  }
  const N = exposures.length;
  const m = exposures.reduce((a, [, x]) => a + x, 0) / N;
  let r = 0;
  for (const { n, s } of per.values()) r += (s - m * n) ** 2;
  return (r / (N * N)) * (per.size / (per.size - 1));
}

describe('user-level (cluster-robust) variance', () => {
  const data: [string, number][] = [['a', 1], ['b', 0], ['a', 0.5], ['c', 0.25], ['a', 1], ['b', 0], ['d', 0.63]];

  it('matches its definition, and keeps the exposure-level sums too', () => {
    const { stats } = byUser(data);
    expect(meanVariance(stats)).toBeCloseTo(directUserVariance(data), 14);
    expect(stats.count).toBe(7);
    expect(stats.perUser?.users).toBe(4);
    expect(statsMean(stats)).toBeCloseTo(3.38 / 7, 14);
  });

  it('equals s²/n when every user has one exposure, and exceeds it when a heavy user repeats one outcome', () => {
    const single: [string, number][] = data.map(([, x], i) => [`u${i}`, x]);
    expect(meanVariance(byUser(single).stats)).toBeCloseTo(statsVariance(statsOf(single.map(([, x]) => x))) / single.length, 14);
    const heavy: [string, number][] = [...Array.from({ length: 50 }, (): [string, number] => ['whale', 1]), ...Array.from({ length: 50 }, (_, i): [string, number] => [`u${i}`, 0])];
    const { stats } = byUser(heavy);
    expect(meanVariance(stats)).toBeGreaterThan(5 * (statsVariance(stats) / stats.count));
  });

  it('replaces a late-changed exposure exactly as if it had had that value all along', () => {
    const { stats, users } = byUser(data);
    const changed = replaceUserObservation(stats, users.get('b') as UserTotals, 0, 0.63);
    const rebuilt = byUser(data.map(([u, x], i): [string, number] => [u, i === 1 ? 0.63 : x])).stats;
    expect(changed.sum).toBeCloseTo(rebuilt.sum, 14);
    expect(meanVariance(changed)).toBeCloseTo(meanVariance(rebuilt), 14);
  });
});

describe('the normal-mixture mSPRT', () => {
  it('equals Johari et al.`s two-sample statistic when V = 2σ²/n', () => {
    const [sigma2, n, tau2, diff] = [0.09, 1000, 0.0004, 0.03];
    const johari = Math.sqrt((2 * sigma2) / (2 * sigma2 + n * tau2)) * Math.exp((n * n * tau2 * diff * diff) / (4 * sigma2 * (2 * sigma2 + n * tau2)));
    expect(Math.exp(mixtureLogLikelihoodRatio(diff, 0, (2 * sigma2) / n, tau2))).toBeCloseTo(johari, 12);
  });

  it('has a confidence sequence whose ends are exactly where Λ reaches 1/α', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-7, max: 1, noNaN: true }), fc.double({ min: 1e-3, max: 0.5, noNaN: true }), fc.double({ min: 0.001, max: 0.2, noNaN: true }), (v, tau, alpha) => {
        const w = confidenceSequenceHalfWidth(v, tau * tau, alpha);
        expect(mixtureLogLikelihoodRatio(0.1 + w, 0.1, v, tau * tau)).toBeCloseTo(Math.log(1 / alpha), 8);
        expect(mixtureLogLikelihoodRatio(0.1 + 0.9 * w, 0.1, v, tau * tau)).toBeLessThan(Math.log(1 / alpha));
      }),
    );
  });

  it('has the width of the conjugate-mixture (asymptotic) confidence sequence of Waudby-Smith et al.', () => {
    // Their unit-variance margin at time t with tuning ρ²: sqrt(2(tρ²+1) ln(sqrt(tρ²+1)/α) / (t²ρ²)), times σ.
    const [t, rho2, alpha, sigma2] = [5000, 0.0004 / 0.09, 0.05, 0.09];
    const theirs = Math.sqrt(sigma2) * Math.sqrt((2 * (t * rho2 + 1) * Math.log(Math.sqrt(t * rho2 + 1) / alpha)) / (t * t * rho2));
    expect(confidenceSequenceHalfWidth(sigma2 / t, 0.0004, alpha)).toBeCloseTo(theirs, 12);
  });

  it('is wider than a fixed-horizon interval at the same sample (the price of peeking)', () => {
    const v = 0.09 / 5000;
    expect(confidenceSequenceHalfWidth(v, 0.0004, 0.05)).toBeGreaterThan(1.96 * Math.sqrt(v));
  });
});

describe('compareMeans', () => {
  it('decides for a clearly better treatment, against a clearly worse one, and not before the minimum sample', () => {
    const control = sample(20_000, 0.2, 'c');
    expect(compareMeans(control, sample(20_000, 0.26, 't')).decision).toBe('treatment');
    expect(compareMeans(control, sample(20_000, 0.14, 't')).decision).toBe('control');
    const small = compareMeans(sample(50, 0.1, 'c'), sample(50, 0.9, 't'));
    expect(small.decision).toBe('inconclusive');
    expect(small.ci95).toEqual([-1, 1]);
  });

  it('reports a ci95 around the difference that shrinks with data, and never raises the p-value', () => {
    const a = compareMeans(sample(2_000, 0.2, 'c'), sample(2_000, 0.21, 't'));
    const b = compareMeans(sample(40_000, 0.2, 'c'), sample(40_000, 0.21, 't'), { previousPValue: 0.2 });
    for (const t of [a, b]) expect(t.ci95[0] <= t.estimate && t.estimate <= t.ci95[1]).toBe(true);
    expect(b.ci95[1] - b.ci95[0]).toBeLessThan(a.ci95[1] - a.ci95[0]);
    expect(b.pValue).toBeLessThanOrEqual(0.2);
    const sticky = compareMeans(sample(200, 0.2, 'c'), sample(200, 0.2, 'c2'), { previousPValue: 0.01 });
    expect(sticky.pValue).toBe(0.01);
  });

  it('does not decide when there is no spread to estimate (a plug-in variance of 0 is not certainty)', () => {
    const zeros = statsOf(Array.from({ length: 500 }, () => 0));
    expect(compareMeans(zeros, zeros).decision).toBe('inconclusive');
  });
});

describe('comparePreference', () => {
  it('decides on a clear preference, either way, and not on a small or even one', () => {
    expect(comparePreference(1300, 1000).decision).toBe('treatment');
    expect(comparePreference(1000, 1300).decision).toBe('control');
    expect(comparePreference(1010, 1000).decision).toBe('inconclusive');
    expect(comparePreference(60, 30).decision).toBe('inconclusive'); // under 100 decisive exposures
    const t = comparePreference(1300, 1000);
    expect(t.estimate).toBeCloseTo(300 / 2300, 12);
    expect(t.ci95[0]).toBeGreaterThan(0);
  });
});

describe('meanEstimate', () => {
  it('is the whole range without data or spread, and otherwise brackets the mean inside [0, 1]', () => {
    expect(meanEstimate(EMPTY_STATS)).toEqual({ value: 0, ci95: [0, 1] });
    expect(meanEstimate(statsOf([0, 0, 0])).ci95).toEqual([0, 1]);
    const e = meanEstimate(sample(10_000, 0.3, 'm'));
    expect(e.ci95[0]).toBeLessThan(e.value);
    expect(e.ci95[1]).toBeGreaterThan(e.value);
    expect(e.ci95[1] - e.ci95[0]).toBeLessThan(0.05);
  });
});

describe('simulated monitoring (cheap version of bench/experiment-statistics.ts)', () => {
  it('under A/A read every 100 exposures, rarely decides, while a peeked z-test often does', () => {
    const runs = Array.from({ length: 100 }, (_, i) => runAbSequential({ seed: `unit-aa-${i}`, totalExposures: 6_000, lift: 0 }));
    const decided = runs.filter((r) => r.firstDecision !== null).length;
    const naive = runs.filter((r) => r.naiveEverRejected).length;
    expect(decided).toBeLessThanOrEqual(5);
    expect(naive).toBeGreaterThan(10); // the failure the method prevents: the same looks at a fixed-horizon test
  });

  it('interleaving: under A/A rarely decides while a peeked sign test often does; finds the 0.02 lift', () => {
    const aa = Array.from({ length: 40 }, (_, i) => runInterleavingSequential({ seed: `unit-il-aa-${i}`, totalExposures: 3_000, lift: 0 }));
    expect(aa.filter((r) => r.firstDecision !== null).length).toBeLessThanOrEqual(2);
    expect(aa.filter((r) => r.naiveEverRejected).length).toBeGreaterThanOrEqual(6);
    const ab = Array.from({ length: 6 }, (_, i) => runInterleavingSequential({ seed: `unit-il-ab-${i}`, totalExposures: 40_000, lift: 0.02, stopAtDecision: true }));
    expect(ab.map((r) => r.firstDecision?.decision)).toEqual(Array(6).fill('treatment'));
  });

  it('with repeat users, the exposure-level variance is fooled under A/A and the user-level one is not', () => {
    const runs = Array.from({ length: 60 }, (_, i) => runUserClusteredAa({ seed: `unit-users-${i}`, users: 200, exposuresPerUser: 30 }));
    expect(runs.filter((r) => r.exposureLevelEverDecided).length).toBeGreaterThan(15);
    expect(runs.filter((r) => r.userLevelEverDecided).length).toBeLessThanOrEqual(3);
  });

  it('finds a true NDCG@10 lift of 0.02, in the right direction', () => {
    const runs = Array.from({ length: 12 }, (_, i) => runAbSequential({ seed: `unit-ab-${i}`, totalExposures: 60_000, lift: 0.02, stopAtDecision: true }));
    expect(runs.filter((r) => r.firstDecision?.decision === 'control')).toHaveLength(0);
    expect(runs.filter((r) => r.firstDecision?.decision === 'treatment').length).toBeGreaterThanOrEqual(10);
  });
});
