/**
 * Simulated experiments for the always-valid statistics (src/experiments/always-valid.ts): users click a
 * 10-item list by a position-based model, per-exposure outcomes go through the production metric code,
 * and the monitor looks every `peekEvery` exposures the way an operator refreshing the page would.
 * Shared by the unit test (few runs) and bench/experiment-statistics.ts (the figures in docs/experiments.md).
 *
 * The click model: the item at 1-based position i is examined with probability 1/i and, if examined,
 * clicked with its attractiveness. The control serves a fixed, mediocre order; the "better" order sorts
 * by attractiveness. The A/B treatment serves the better order with probability q and the control order
 * otherwise, with q solved so that its expected NDCG@10 is exactly the control's plus `lift`; expected
 * NDCG@10 is computed exactly, over all 2^10 click sets, not estimated.
 */
import type { Rng } from '../src/agp/rng.js';
import { createRng } from '../src/agp/rng.js';
import type { ArmStats, RunningStats, UserTotals } from '../src/experiments/always-valid.js';
import { EMPTY_STATS, addObservation, addUserObservation, compareMeans, comparePreference, statsMean, statsVariance } from '../src/experiments/always-valid.js';
import type { MixtureOptions } from '../src/experiments/always-valid.js';
import type { Decision } from '../src/experiments/experiment-types.js';
import { teamDraftInterleave, interleavingWinner } from '../src/experiments/interleaving.js';
import { exposureOutcome } from '../src/experiments/outcome-metrics.js';

/** Item ids and their click attractiveness (probability of a click once examined). */
export const ITEMS = ['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i8', 'i9'] as const;
const ATTRACTIVENESS: Record<string, number> = { i0: 0.45, i1: 0.35, i2: 0.28, i3: 0.22, i4: 0.17, i5: 0.13, i6: 0.1, i7: 0.07, i8: 0.05, i9: 0.03 };
/** The better order: most attractive first. */
export const BETTER_ORDER: readonly string[] = [...ITEMS];
/** The control order: a fixed, mediocre shuffle. */
export const CONTROL_ORDER: readonly string[] = ['i4', 'i7', 'i1', 'i9', 'i0', 'i5', 'i3', 'i8', 'i2', 'i6'];

/** Click probability of each position of `order` under the position-based model. */
export function clickProbabilities(order: readonly string[]): number[] {
  return order.map((id, i) => (ATTRACTIVENESS[id] ?? 0) / (i + 1));
}

/** Draws the clicked items of one exposure of `order`. */
export function drawClicks(order: readonly string[], rng: Rng): Set<string> {
  const clicked = new Set<string>();
  for (let i = 0; i < order.length; i++) {
    const id = order[i] as string;
    if (rng.next() < (ATTRACTIVENESS[id] ?? 0) / (i + 1)) clicked.add(id);
  }
  return clicked;
}

/** Exact expected NDCG@10 of `order` under the click model: a sum over all 2^n click sets. */
export function expectedNdcg(order: readonly string[]): number {
  const p = clickProbabilities(order);
  let e = 0;
  for (let mask = 0; mask < 1 << order.length; mask++) {
    let prob = 1;
    const clicked = new Set<string>();
    for (let i = 0; i < order.length; i++) {
      const on = (mask >> i) & 1;
      prob *= on ? (p[i] ?? 0) : 1 - (p[i] ?? 0);
      if (on) clicked.add(order[i] as string);
    }
    e += prob * exposureOutcome(order, clicked)['ndcg@10'];
  }
  return e;
}

/** Probability the treatment serves the better order so that its expected NDCG@10 is the control's + `lift`. */
export function betterShareForLift(lift: number): number {
  const q = lift / (expectedNdcg(BETTER_ORDER) - expectedNdcg(CONTROL_ORDER));
  if (!(q >= 0 && q <= 1)) throw new RangeError(`a lift of ${lift} is not reachable in this click model`);
  return q;
}

/** One monitored experiment. */
export interface SequentialRunOptions extends MixtureOptions {
  seed: string | number;
  /** Exposures in total (both arms, assigned 50/50 at random). */
  totalExposures: number;
  /** Look after every this many exposures (default 100). */
  peekEvery?: number;
  /** True NDCG@10 lift of the treatment; 0 is an A/A test. */
  lift: number;
  /** End the run at the first decision, as an experiment would be (power runs); default false. */
  stopAtDecision?: boolean;
}

/** What one monitored run saw. */
export interface SequentialRunResult {
  /** First decision other than 'inconclusive' and the total exposures when it was made (null: never). */
  firstDecision: { decision: Decision; exposures: number } | null;
  /** Whether a fixed-horizon z-test (|z| > 1.96) read at every look would ever have rejected. */
  naiveEverRejected: boolean;
  /** The final look's estimate. */
  finalDiff: number;
}

/** Runs one A/B (or A/A) experiment on NDCG@10, looking every `peekEvery` exposures. */
export function runAbSequential(o: SequentialRunOptions): SequentialRunResult {
  const rng = createRng(`ab-sim:${o.seed}`);
  const q = o.lift === 0 ? 0 : betterShareForLift(o.lift);
  const peekEvery = o.peekEvery ?? 100;
  let control: RunningStats = EMPTY_STATS;
  let treatment: RunningStats = EMPTY_STATS;
  let firstDecision: SequentialRunResult['firstDecision'] = null;
  let naiveEverRejected = false;
  for (let n = 1; n <= o.totalExposures; n++) {
    const isTreatment = rng.next() < 0.5;
    const order = isTreatment && rng.next() < q ? BETTER_ORDER : CONTROL_ORDER;
    const clicked = drawClicks(order, rng);
    const ndcg = clicked.size === 0 ? 0 : exposureOutcome(order, clicked)['ndcg@10'];
    if (isTreatment) treatment = addObservation(treatment, ndcg);
    else control = addObservation(control, ndcg);
    if (n % peekEvery !== 0) continue;
    if (firstDecision === null) {
      const test = compareMeans(control, treatment, o);
      if (test.decision !== 'inconclusive') firstDecision = { decision: test.decision, exposures: n };
      if (firstDecision !== null && o.stopAtDecision === true) break;
    }
    if (!naiveEverRejected && control.count > 1 && treatment.count > 1) {
      const se = Math.sqrt(statsVariance(control) / control.count + statsVariance(treatment) / treatment.count);
      naiveEverRejected = se > 0 && Math.abs(statsMean(treatment) - statsMean(control)) / se > 1.96;
    }
  }
  return { firstDecision, naiveEverRejected, finalDiff: statsMean(treatment) - statsMean(control) };
}

/**
 * One monitored interleaving experiment on the same two policies as {@link runAbSequential}: the control
 * order against a treatment whose ranking is the better order with the probability that makes its NDCG@10
 * lift `lift` (0: both arms rank identically, an A/A test), so the two designs are compared on one effect.
 */
export function runInterleavingSequential(o: SequentialRunOptions): SequentialRunResult {
  const rng = createRng(`il-sim:${o.seed}`);
  const q = o.lift === 0 ? 0 : betterShareForLift(o.lift);
  const peekEvery = o.peekEvery ?? 100;
  let wins = 0;
  let losses = 0;
  let firstDecision: SequentialRunResult['firstDecision'] = null;
  let naiveEverRejected = false;
  for (let n = 1; n <= o.totalExposures; n++) {
    const treatmentOrder = rng.next() < q ? BETTER_ORDER : CONTROL_ORDER;
    const served = teamDraftInterleave(CONTROL_ORDER, treatmentOrder, `${o.seed}:${n}`);
    const clicked = drawClicks(served.map((s) => s.itemId), rng);
    const winner = interleavingWinner(served, new Map([...clicked].map((id) => [id, 1])));
    if (winner === 1) wins++;
    else if (winner === 0) losses++;
    if (n % peekEvery !== 0) continue;
    if (firstDecision === null) {
      const test = comparePreference(wins, losses, o);
      if (test.decision !== 'inconclusive') firstDecision = { decision: test.decision, exposures: n };
      if (firstDecision !== null && o.stopAtDecision === true) break;
    }
    // The naive reading: a fixed-horizon sign test (normal approximation) at every look.
    const m = wins + losses;
    if (!naiveEverRejected && m > 0) naiveEverRejected = Math.abs(wins - losses) / Math.sqrt(m) > 1.96;
  }
  return { firstDecision, naiveEverRejected, finalDiff: wins + losses > 0 ? (wins - losses) / (wins + losses) : 0 };
}

/** What one A/A run with repeat users saw, under each variance. */
export interface UserClusteredRunResult {
  exposureLevelEverDecided: boolean;
  userLevelEverDecided: boolean;
}

/**
 * A/A where users differ and come back: each user is assigned an arm (a coin), has a propensity
 * p = U² · 0.8 (most rarely click, a few often), and makes `exposuresPerUser` exposures in a row, each a
 * click (1) with probability p. The test is read every `peekEvery` exposures twice: with the exposure-level
 * variance and with the user-level one (per-user sums), to show which one the correlation breaks.
 */
export function runUserClusteredAa(o: { seed: string | number; users: number; exposuresPerUser: number; peekEvery?: number }): UserClusteredRunResult {
  const rng = createRng(`users-aa:${o.seed}`);
  const peekEvery = o.peekEvery ?? 100;
  const flat: [RunningStats, RunningStats] = [EMPTY_STATS, EMPTY_STATS];
  const byUser: [ArmStats, ArmStats] = [EMPTY_STATS, EMPTY_STATS];
  const out: UserClusteredRunResult = { exposureLevelEverDecided: false, userLevelEverDecided: false };
  let n = 0;
  for (let u = 0; u < o.users; u++) {
    const arm = rng.next() < 0.5 ? 0 : 1;
    const p = rng.next() ** 2 * 0.8;
    let totals: UserTotals = { count: 0, sum: 0 };
    for (let k = 0; k < o.exposuresPerUser; k++) {
      const x = rng.next() < p ? 1 : 0;
      flat[arm] = addObservation(flat[arm], x);
      byUser[arm] = addUserObservation(byUser[arm], totals, x);
      totals = { count: totals.count + 1, sum: totals.sum + x };
      if (++n % peekEvery !== 0) continue;
      if (compareMeans(flat[0], flat[1]).decision !== 'inconclusive') out.exposureLevelEverDecided = true;
      if (compareMeans(byUser[0], byUser[1]).decision !== 'inconclusive') out.userLevelEverDecided = true;
    }
  }
  return out;
}
