/**
 * Always-valid inference for experiments that people watch while they run (issue 10).
 *
 * The method is the mixture sequential probability ratio test (mSPRT; Johari, Pekelis and Walsh, "Always
 * Valid Inference: Continuous Monitoring of A/B Tests", Operations Research 2022) with a normal mixture
 * N(θ0, τ²) over the effect. For an estimate d of an effect θ whose variance is V, the mixture likelihood
 * ratio against H0: θ = θ0 is
 *
 *   Λ = sqrt(V / (V + τ²)) · exp( τ² (d − θ0)² / (2 V (V + τ²)) ).
 *
 * With V = 2σ²/n this is Johari et al.'s two-sample statistic. Λ is a non-negative martingale under H0, so
 * by Ville's inequality P(Λ ever ≥ 1/α) ≤ α: the always-valid p-value min_t 1/Λ_t and the confidence
 * sequence {θ : Λ(θ) < 1/α} stay valid however often they are read. Inverting Λ < 1/α gives the half-width
 *
 *   w = sqrt( 2 V (V + τ²) / τ² · ( ln(1/α) + ½ ln((V + τ²) / V) ) ).
 *
 * Two ways of getting V are used (see docs/experiments.md for the assumptions):
 * - means of per-exposure metrics (A/B): V from the running sample variances (a plug-in; valid as the
 *   samples grow, which the A/A simulation checks at the sizes we use);
 * - the interleaving preference: each decisive exposure is ±1, which is 1-sub-Gaussian, so V = 1/n is an
 *   exact bound and that test needs no plug-in at all.
 */
import type { Decision, Estimate } from './experiment-types.js';

/** Count, sum and sum of squares: enough for a mean and variance, and updatable one event at a time. */
export interface RunningStats {
  count: number;
  sum: number;
  sumSq: number;
}

/** Stats of no observations. */
export const EMPTY_STATS: Readonly<RunningStats> = Object.freeze({ count: 0, sum: 0, sumSq: 0 });

/** Adds one observation (returns a new object). */
export function addObservation(s: RunningStats, x: number): RunningStats {
  return { count: s.count + 1, sum: s.sum + x, sumSq: s.sumSq + x * x };
}

/**
 * Replaces one observation already counted: an exposure's value changes when a late event arrives
 * (0 → 0.63), and the store adjusts the aggregate instead of re-reading every exposure.
 */
export function replaceObservation(s: RunningStats, from: number, to: number): RunningStats {
  return { count: s.count, sum: s.sum - from + to, sumSq: s.sumSq - from * from + to * to };
}

/** Stats of the union of two disjoint samples (e.g. shards of a store). */
export function mergeStats(a: RunningStats, b: RunningStats): RunningStats {
  return { count: a.count + b.count, sum: a.sum + b.sum, sumSq: a.sumSq + b.sumSq };
}

/** Mean; 0 for an empty sample. */
export function statsMean(s: RunningStats): number {
  return s.count > 0 ? s.sum / s.count : 0;
}

/** Unbiased sample variance; 0 below two observations. Clamped at 0 against rounding in sumSq − n·mean². */
export function statsVariance(s: RunningStats): number {
  if (s.count < 2) return 0;
  const m = s.sum / s.count;
  return Math.max(0, (s.sumSq - s.count * m * m) / (s.count - 1));
}

/**
 * Per-user sums for a user-level (cluster-robust) variance. In an A/B test the user is what is randomised,
 * and one user's exposures are correlated (same arm, same taste), so s²/n over exposures understates the
 * variance of an arm's mean when some users have many exposures. With n_u and s_u a user's exposure count
 * and sum, these three sums give the delta-method variance of the ratio mean Σs_u/Σn_u.
 */
export interface UserLevelStats {
  /** Users with at least one exposure. */
  users: number;
  /** Σ s_u² */
  sumUserSumSq: number;
  /** Σ n_u² */
  sumUserCountSq: number;
  /** Σ n_u·s_u */
  sumUserCross: number;
}

/** Running stats of an arm's metric, optionally with the per-user sums. */
export type ArmStats = RunningStats & { perUser?: UserLevelStats | undefined };

/** A user's own running count and sum of one metric, as the store keeps it (the input of the updates below). */
export interface UserTotals {
  count: number;
  sum: number;
}

/**
 * Adds one exposure of value `x` from a user whose totals so far are `before` (zeros for a new user).
 * Returns the arm's new stats; the user's new totals are `{count + 1, sum + x}`.
 */
export function addUserObservation(s: ArmStats, before: UserTotals, x: number): ArmStats {
  const u = s.perUser ?? { users: 0, sumUserSumSq: 0, sumUserCountSq: 0, sumUserCross: 0 };
  const [n, t] = [before.count, before.sum];
  return {
    ...addObservation(s, x),
    perUser: {
      users: u.users + (n === 0 ? 1 : 0),
      sumUserSumSq: u.sumUserSumSq + (t + x) ** 2 - t * t,
      sumUserCountSq: u.sumUserCountSq + 2 * n + 1,
      sumUserCross: u.sumUserCross + (n + 1) * (t + x) - n * t,
    },
  };
}

/** Replaces one counted exposure's value (`from` → `to`) of a user whose totals (before the change) are `user`. */
export function replaceUserObservation(s: ArmStats, user: UserTotals, from: number, to: number): ArmStats {
  const base = replaceObservation(s, from, to);
  if (s.perUser === undefined) return base;
  const delta = to - from;
  const u = s.perUser;
  return {
    ...base,
    perUser: { ...u, sumUserSumSq: u.sumUserSumSq + (user.sum + delta) ** 2 - user.sum ** 2, sumUserCross: u.sumUserCross + user.count * delta },
  };
}

/**
 * Variance of an arm's mean: user-level (delta method, Σ(s_u − m·n_u)² / N² · k/(k−1)) when per-user sums are
 * kept, else s²/n over exposures. The two agree when every user has one exposure.
 */
export function meanVariance(s: ArmStats): number {
  const u = s.perUser;
  if (u === undefined) return s.count > 0 ? statsVariance(s) / s.count : 0;
  if (u.users < 2 || s.count === 0) return 0;
  const m = s.sum / s.count;
  const residual = Math.max(0, u.sumUserSumSq - 2 * m * u.sumUserCross + m * m * u.sumUserCountSq);
  return (residual / (s.count * s.count)) * (u.users / (u.users - 1));
}

/** Tuning of the mixture test. */
export interface MixtureOptions {
  /** Error rate of the whole monitored sequence; 0.05 gives the reported ci95 (default 0.05). */
  alpha?: number;
  /**
   * Standard deviation τ of the normal mixture over effects, on the metric's own scale. The confidence
   * sequence is tightest when the effect is about τ, so set it to the smallest effect worth detecting.
   * It must be fixed before the data are seen. Default 0.02 (a 0.02 NDCG@10 lift).
   */
  tau?: number;
}

function resolve(opts: MixtureOptions | undefined): { alpha: number; tau2: number } {
  const alpha = opts?.alpha ?? 0.05;
  const tau = opts?.tau ?? 0.02;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(tau > 0 && Number.isFinite(tau))) throw new RangeError(`tau must be a positive number, got ${tau}`);
  return { alpha, tau2: tau * tau };
}

/** ln Λ: the log mixture likelihood ratio of estimate `d` (variance `v`) against θ0. +∞ when v is 0 and d ≠ θ0. */
export function mixtureLogLikelihoodRatio(d: number, theta0: number, v: number, tau2: number): number {
  if (!(v > 0)) return d === theta0 ? 0 : Infinity;
  const z = d - theta0;
  return 0.5 * Math.log(v / (v + tau2)) + (tau2 * z * z) / (2 * v * (v + tau2));
}

/** Half-width of the (1 − α) confidence sequence {θ : Λ(θ) < 1/α} for an estimate of variance `v`. */
export function confidenceSequenceHalfWidth(v: number, tau2: number, alpha: number): number {
  if (!(v > 0)) return 0;
  return Math.sqrt(((2 * v * (v + tau2)) / tau2) * (Math.log(1 / alpha) + 0.5 * Math.log((v + tau2) / v)));
}

/** An always-valid test of θ = 0 for one effect estimate. */
export interface SequentialTest {
  /** The estimate (difference or preference). */
  estimate: number;
  ci95: [number, number];
  /** Always-valid p-value: min over looks of 1/Λ. Pass it back as `previousPValue` on the next look. */
  pValue: number;
  decision: Decision;
}

/** Options of one look at a running test. */
export interface LookOptions extends MixtureOptions {
  /** The p-value of the previous look, so the always-valid p-value is the running minimum (default 1). */
  previousPValue?: number;
  /** Observations needed (per arm, or decisive exposures) before anything but 'inconclusive' (default 100). */
  minSample?: number;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** One look: estimate `d` with variance `v`, enough data or not, effect bounded by ±`bound`. */
function look(d: number, v: number, enough: boolean, bound: number, opts: LookOptions | undefined): SequentialTest {
  const { alpha, tau2 } = resolve(opts);
  if (!enough || !(v > 0)) {
    // Too little data (or no variance yet: a plug-in of 0 would claim certainty): no evidence.
    return { estimate: d, ci95: [-bound, bound], pValue: Math.min(1, opts?.previousPValue ?? 1), decision: 'inconclusive' };
  }
  const logLambda = mixtureLogLikelihoodRatio(d, 0, v, tau2);
  const pValue = Math.min(1, opts?.previousPValue ?? 1, Math.exp(-logLambda));
  const w = confidenceSequenceHalfWidth(v, tau2, alpha);
  const decision: Decision = pValue <= alpha ? (d > 0 ? 'treatment' : d < 0 ? 'control' : 'inconclusive') : 'inconclusive';
  return { estimate: d, ci95: [clamp(d - w, -bound, bound), clamp(d + w, -bound, bound)], pValue, decision };
}

/**
 * Always-valid comparison of two arms' mean per-exposure metric (A/B): diff = treatment − control, with
 * V the sum of the arms' {@link meanVariance} (user-level when the stats carry per-user sums, else
 * s²_c/n_c + s²_t/n_t). Metrics in [0, 1], so the interval is clipped to [−1, 1].
 */
export function compareMeans(control: ArmStats, treatment: ArmStats, opts?: LookOptions): SequentialTest {
  const minSample = opts?.minSample ?? 100;
  const d = statsMean(treatment) - statsMean(control);
  const v = meanVariance(control) + meanVariance(treatment);
  return look(d, v, control.count >= minSample && treatment.count >= minSample, 1, opts);
}

/**
 * Always-valid test of the interleaving preference. Each decisive exposure (not a tie) is +1 for a
 * treatment win and −1 for a control win; the preference is their mean, (wins − losses)/(wins + losses),
 * in [−1, 1], 0 meaning no preference. A ±1 variable is 1-sub-Gaussian, so V = 1/n is exact: this test
 * is valid at every sample size, with no variance estimate. Ties carry no preference and are not counted.
 * τ defaults to 0.05 here (a 52.5% / 47.5% split of decisive exposures), not the A/B default.
 * @param wins treatment wins
 * @param losses control wins
 */
export function comparePreference(wins: number, losses: number, opts?: LookOptions): SequentialTest {
  const n = wins + losses;
  const d = n > 0 ? (wins - losses) / n : 0;
  return look(d, n > 0 ? 1 / n : 0, n >= (opts?.minSample ?? 100), 1, { ...opts, tau: opts?.tau ?? 0.05 });
}

/**
 * One arm's mean with its always-valid 95% confidence sequence (plug-in {@link meanVariance}), clipped to the
 * metric's range [0, 1]. Below `minSample` (default 2) the interval is the whole range.
 */
export function meanEstimate(s: ArmStats, opts?: MixtureOptions & { minSample?: number }): Estimate {
  const { alpha, tau2 } = resolve(opts);
  const value = statsMean(s);
  const v = meanVariance(s);
  // No spread yet (say 300 exposures, none clicked) is not certainty: report the whole range.
  if (s.count < Math.max(2, opts?.minSample ?? 2) || !(v > 0)) return { value, ci95: [0, 1] };
  const w = confidenceSequenceHalfWidth(v, tau2, alpha);
  return { value, ci95: [clamp(value - w, 0, 1), clamp(value + w, 0, 1)] };
}
