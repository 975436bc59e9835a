/**
 * Ranking metrics for one relevant item per user, plus bootstrap intervals.
 * These are the only implementations: training, serving telemetry and offline evaluation all call them,
 * so a number in a report always means the same thing.
 */
import { createRng } from './rng.js';

/** Options for the percentile bootstrap. */
export interface BootstrapOptions {
  /** Resamples drawn (default 1000). */
  iterations?: number;
  /** Two-sided miss rate; 0.05 gives a 95% interval (default 0.05). */
  alpha?: number;
  /** Seed for the resampling RNG (default 0), so a report is reproducible. */
  seed?: number;
}

/** Per-user scores of one ranking against its ground truth. */
export interface RankingScores {
  rank: number | null;
  'ndcg@10': number;
  'hr@1': number;
  'hr@3': number;
  'hr@5': number;
  mrr: number;
}

/**
 * 1-based rank of the best-placed target in `orderedIds`, or null when no target is present
 * (or there are no targets at all).
 */
export function rankOf(orderedIds: readonly string[], targetIds: readonly string[]): number | null {
  const targets = new Set(targetIds);
  const idx = orderedIds.findIndex((id) => targets.has(id));
  return idx < 0 ? null : idx + 1;
}

/**
 * NDCG@k with a single relevant item: the ideal DCG is 1, so it is `1 / log2(rank + 1)` when the
 * item is within the top k and 0 otherwise (also 0 for an absent item).
 */
export function ndcgAtK(rank: number | null, k = 10): number {
  if (rank === null || !(rank >= 1) || rank > k) return 0;
  return discount(rank);
}

/** The DCG discount of a 1-based position: `1 / log2(position + 1)`. */
function discount(position: number): number {
  return 1 / Math.log2(position + 1);
}

/**
 * NDCG@k with binary gains for a SET of relevant items (online outcomes, where several items can be
 * clicked): DCG over the first k positions of `orderedIds` with gain 1 for each item in `relevant`,
 * divided by the ideal DCG of min(|relevant ∩ orderedIds|, k) items; 0 when nothing relevant is listed.
 * With one relevant item it equals {@link ndcgAtK} of its rank.
 */
export function ndcgAtKOfSet(orderedIds: readonly string[], relevant: ReadonlySet<string>, k = 10): number {
  let dcg = 0;
  let listed = 0;
  for (let i = 0; i < orderedIds.length; i++) {
    if (!relevant.has(orderedIds[i] as string)) continue;
    listed++;
    if (i < k) dcg += discount(i + 1);
  }
  let ideal = 0;
  for (let i = 1; i <= Math.min(listed, k); i++) ideal += discount(i);
  return ideal > 0 ? dcg / ideal : 0;
}

/** Hit rate at k: 1 when the item is ranked within the top k, else 0. */
export function hitAtK(rank: number | null, k: number): number {
  return rank !== null && rank >= 1 && rank <= k ? 1 : 0;
}

/** Reciprocal rank: `1 / rank`, 0 for an absent item. Averaged over users it is MRR. */
export function reciprocalRank(rank: number | null): number {
  return rank !== null && rank >= 1 ? 1 / rank : 0;
}

/** Arithmetic mean; 0 for an empty list (an empty evaluation scores nothing rather than NaN). */
export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i] ?? 0;
  return s / xs.length;
}

/** Linear-interpolation quantile (R type 7) of an ascending-sorted, non-empty array. */
function quantileSorted(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? a;
  return a + (b - a) * (pos - lo);
}

function resolveOptions(opts: BootstrapOptions | undefined): Required<BootstrapOptions> {
  const iterations = opts?.iterations ?? 1000;
  const alpha = opts?.alpha ?? 0.05;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(`bootstrap iterations must be a positive integer, got ${iterations}`);
  }
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`bootstrap alpha must be in (0, 1), got ${alpha}`);
  return { iterations, alpha, seed: opts?.seed ?? 0 };
}

/** Means of `iterations` resamples (with replacement) of `xs`, sorted ascending. */
function resampleMeans(xs: ArrayLike<number>, iterations: number, seed: number): number[] {
  const rng = createRng(seed);
  const n = xs.length;
  const means = new Array<number>(iterations);
  for (let it = 0; it < iterations; it++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[rng.int(n)] ?? 0;
    means[it] = s / n;
  }
  return means.sort((a, b) => a - b);
}

/**
 * Percentile bootstrap confidence interval of the mean. Deterministic for a given seed.
 * An empty sample gives [0, 0] (matching `mean`); a single value gives [x, x].
 */
export function bootstrapCi(xs: ArrayLike<number>, opts?: BootstrapOptions): [number, number] {
  const { iterations, alpha, seed } = resolveOptions(opts);
  if (xs.length === 0) return [0, 0];
  const means = resampleMeans(xs, iterations, seed);
  return [quantileSorted(means, alpha / 2), quantileSorted(means, 1 - alpha / 2)];
}

/**
 * Paired bootstrap of `a - b` over the same users (a[i] and b[i] belong to user i).
 * `ci95` is the percentile interval of the mean difference (at `alpha`, 0.05 by default);
 * `pValue` is two-sided, from the resampled differences re-centred on zero (the null of no difference),
 * with the +1 correction so it is never exactly 0.
 * @throws RangeError when the arrays differ in length.
 */
export function pairedBootstrap(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  opts?: BootstrapOptions,
): { meanDiff: number; ci95: [number, number]; pValue: number } {
  if (a.length !== b.length) {
    throw new RangeError(`paired bootstrap needs equal lengths, got ${a.length} and ${b.length}`);
  }
  const { iterations, alpha, seed } = resolveOptions(opts);
  if (a.length === 0) return { meanDiff: 0, ci95: [0, 0], pValue: 1 };
  const diffs = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) diffs[i] = (a[i] ?? 0) - (b[i] ?? 0);
  const meanDiff = mean(diffs);
  const means = resampleMeans(diffs, iterations, seed);
  // Shifting every resampled mean by -meanDiff is the same as resampling the centred differences.
  const observed = Math.abs(meanDiff);
  const eps = 1e-12;
  let extreme = 0;
  for (const m of means) if (Math.abs(m - meanDiff) >= observed - eps) extreme++;
  return {
    meanDiff,
    ci95: [quantileSorted(means, alpha / 2), quantileSorted(means, 1 - alpha / 2)],
    pValue: Math.min(1, (extreme + 1) / (iterations + 1)),
  };
}

/** All per-user scores of one final ranking. */
export function scoreRanking(orderedIds: string[], targetIds: string[]): RankingScores {
  const rank = rankOf(orderedIds, targetIds);
  return {
    rank,
    'ndcg@10': ndcgAtK(rank, 10),
    'hr@1': hitAtK(rank, 1),
    'hr@3': hitAtK(rank, 3),
    'hr@5': hitAtK(rank, 5),
    mrr: reciprocalRank(rank),
  };
}
