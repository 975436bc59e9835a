/**
 * Team-draft interleaving (Radlinski, Kurup and Joachims, CIKM 2008) and its per-exposure outcome.
 *
 * Each round, the arm with fewer picks so far (a coin flip when they are level) adds its highest-ranked
 * item not yet in the list, and that item is credited to it. So in every prefix the two arms' credited
 * counts differ by at most one, and neither arm can gain credit from position alone. The coin flips come
 * from a generator seeded with the request id: the same request always interleaves the same way, which
 * lets an exposure be re-derived and audited later.
 */
import { createRng } from '../agp/rng.js';

/** Which of the two arms contributed an item: 0 = the first arm (control), 1 = the second (treatment). */
export type ArmSide = 0 | 1;

/** One item of an interleaved list and the arm credited with it. */
export interface InterleavedItem {
  itemId: string;
  arm: ArmSide;
}

/**
 * Merges two rankings by team draft. `a` and `b` are normally permutations of the same candidates, and
 * then the result is a permutation of them too. If they differ, an arm whose ranking is used up lets the
 * other continue, so every item of either ranking still appears once (the balance property then only
 * holds while both have items left). Duplicates within a ranking are ignored after their first place.
 * @param seed the request id (or any seed): same seed, same coin flips.
 * @param limit stop after this many items (default: all).
 */
export function teamDraftInterleave(a: readonly string[], b: readonly string[], seed: string, limit = Infinity): InterleavedItem[] {
  const rng = createRng(`team-draft:${seed}`);
  const rankings = [a, b] as const;
  const cursor = [0, 0];
  const picks = [0, 0];
  const used = new Set<string>();
  const out: InterleavedItem[] = [];
  const nextFree = (side: ArmSide): string | undefined => {
    const r = rankings[side];
    let i = cursor[side] ?? 0;
    while (i < r.length && used.has(r[i] as string)) i++;
    cursor[side] = i;
    return r[i];
  };
  while (out.length < limit) {
    const [pa, pb] = [picks[0] ?? 0, picks[1] ?? 0];
    // A coin is drawn only on a level score, as in the paper; drawing it every round would also be valid
    // but would change which requests get which lists for no gain.
    let side: ArmSide = pa < pb ? 0 : pb < pa ? 1 : rng.next() < 0.5 ? 0 : 1;
    let item = nextFree(side);
    if (item === undefined) {
      side = side === 0 ? 1 : 0;
      item = nextFree(side);
      if (item === undefined) break;
    }
    used.add(item);
    out.push({ itemId: item, arm: side });
    picks[side] = (picks[side] ?? 0) + 1;
  }
  return out;
}

/**
 * The arm that won one interleaved exposure: the one whose credited items got more positive events, or
 * null for a tie (equal counts, including no events at all). `positiveCounts` maps an item id to its number
 * of positive events; items absent from the map have none.
 */
export function interleavingWinner(served: readonly InterleavedItem[], positiveCounts: ReadonlyMap<string, number>): ArmSide | null {
  let balance = 0;
  for (const { itemId, arm } of served) {
    const n = positiveCounts.get(itemId) ?? 0;
    balance += arm === 0 ? n : -n;
  }
  return balance > 0 ? 0 : balance < 0 ? 1 : null;
}
