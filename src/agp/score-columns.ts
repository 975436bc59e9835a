/**
 * Per-user metric values of one evaluated method, kept as one Float64Array per metric (8 bytes per user
 * and metric) so that a streamed evaluation of millions of users can still compute bootstrap intervals
 * and paired differences without holding the users or their rankings.
 */
import type { RankingScores } from './metrics.js';
import { bootstrapCi, mean, pairedBootstrap } from './metrics.js';

/** The aggregated metrics, in report order. */
export const METRIC_NAMES = ['ndcg@10', 'hr@1', 'hr@3', 'hr@5', 'mrr'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** Mean and percentile-bootstrap 95% interval. */
export interface MetricSummary {
  mean: number;
  ci95: [number, number];
}

/** Paired difference method − base over the same users. */
export interface PairedDiff {
  meanDiff: number;
  ci95: [number, number];
  pValue: number;
}

/** Bootstrap settings shared by every summary of one evaluation. */
export interface BootstrapSettings {
  seed: number;
  iterations: number;
}

/** Growable metric columns indexed by the user's position in the dataset. */
export class ScoreColumns {
  private cols: Record<MetricName, Float64Array>;
  private size = 0;

  constructor(capacity = 64) {
    this.cols = ScoreColumns.alloc(Math.max(1, capacity));
  }

  private static alloc(capacity: number): Record<MetricName, Float64Array> {
    const cols = {} as Record<MetricName, Float64Array>;
    for (const m of METRIC_NAMES) cols[m] = new Float64Array(capacity);
    return cols;
  }

  /** Number of users (the highest index set, plus one). */
  get length(): number {
    return this.size;
  }

  /** Records user `index`'s scores (users may complete out of order). */
  set(index: number, scores: RankingScores): void {
    const capacity = this.cols['ndcg@10'].length;
    if (index >= capacity) {
      const next = ScoreColumns.alloc(Math.max(index + 1, capacity * 2));
      for (const m of METRIC_NAMES) next[m].set(this.cols[m]);
      this.cols = next;
    }
    for (const m of METRIC_NAMES) this.cols[m][index] = scores[m];
    this.size = Math.max(this.size, index + 1);
  }

  /** The values of one metric, user by user (a view, not a copy). */
  column(m: MetricName): Float64Array {
    return this.cols[m].subarray(0, this.size);
  }

  /** Mean and bootstrap 95% CI of every metric. */
  aggregate(b: BootstrapSettings): Record<MetricName, MetricSummary> {
    const out = {} as Record<MetricName, MetricSummary>;
    for (const m of METRIC_NAMES) {
      const xs = this.column(m);
      out[m] = { mean: mean(xs), ci95: bootstrapCi(xs, b) };
    }
    return out;
  }

  /** Paired bootstrap of this method against `base`, over the same users. */
  pairedWith(base: ScoreColumns, b: BootstrapSettings): Record<MetricName, PairedDiff> {
    const out = {} as Record<MetricName, PairedDiff>;
    for (const m of METRIC_NAMES) out[m] = pairedBootstrap(this.column(m), base.column(m), b);
    return out;
  }
}
