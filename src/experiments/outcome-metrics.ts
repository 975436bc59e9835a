/**
 * The per-exposure outcome metrics, exactly as defined there. For one exposure, S is the served
 * list and P the items of S with at least one positive event:
 * - ctr: 1 if P is non-empty, else 0;
 * - mrr: 1 / (1-based position in S of the first item of P), else 0;
 * - ndcg@10: DCG over the first 10 positions of S (gain 1 for items in P, discount 1/log2(i+1)) over the
 *   ideal DCG of min(|P|, 10) items; 0 when P is empty.
 * MRR and NDCG come from src/agp/metrics.ts, so the offline and online numbers share one implementation.
 */
import { ndcgAtKOfSet, rankOf, reciprocalRank } from '../agp/metrics.js';
import type { OutcomeValues } from './experiment-types.js';

/**
 * Outcome metrics of one exposure. `positives` may hold ids that were not served (they are ignored: P is a
 * subset of S by definition, and the events route rejects them anyway).
 */
export function exposureOutcome(served: readonly string[], positives: ReadonlySet<string>): OutcomeValues {
  const firstHit = rankOf(served, [...positives]);
  return {
    ctr: firstHit === null ? 0 : 1,
    mrr: reciprocalRank(firstHit),
    'ndcg@10': ndcgAtKOfSet(served, positives, 10),
  };
}
