/**
 * Top-down partitioning for long candidate lists, after Parry, MacAvaney & Ganguly, "Top-Down Partitioning
 * for Efficient List-Wise Ranking" (SIGIR 2024 ReNeuIR workshop, arXiv:2405.14589), bounded to 3 rounds:
 *
 *   1. pivot:     rank the first window of the baseline order; its item at rank ⌊w/2⌋ is the pivot, the
 *                 items above it are candidates, those below it backfill.
 *   2. partition: every remaining item is compared with the pivot, in windows of [pivot, w-1 items] that run
 *                 concurrently; items placed above the pivot become candidates, the others backfill.
 *   3. final:     when round 2 found candidates, rank (up to) w of them in one window. Skipped otherwise,
 *                 since round 1 already ordered every candidate.
 *
 * The paper iterates rounds 1–2 on the candidate set until the candidates fit one window; we stop after one
 * partition so the latency is bounded (3 LLM latencies whatever n: round 2's windows run concurrently). When
 * more than w items beat the pivot, the final window takes them round-robin over the windows that placed
 * them (every window's best, then every window's second, …; the pivot window first among equals), so the
 * best item of every window reaches the final ranking; the rest follow in that order, above the pivot.
 * Each window fails on its own: a failed pivot window keeps its input order (the pivot is then the
 * baseline's item at ⌊w/2⌋), a failed partition window puts its items in backfill in input order (nothing
 * shows they beat the pivot), and a failed final window keeps the order it was shown.
 */
import type { LongListResult, RankWindow, WindowAnswer, WindowOutcome } from './long-list.js';
import { applyAnswer, identityOrder } from './long-list.js';

/** A candidate that beat the pivot: its rank in the window that placed it, and which window that was. */
interface Winner {
  index: number;
  rank: number;
  window: number;
}

/** The 0-based rank of the pivot in the first window (the paper's k = 10 for w = 20). */
export function pivotRank(windowSize: number): number {
  return Math.max(0, Math.floor(windowSize / 2) - 1);
}

/**
 * Splits `items` into the fewest chunks of at most `max` items, sizes differing by at most one (so the
 * last window is not a near-empty one).
 */
export function balancedChunks<T>(items: readonly T[], max: number): T[][] {
  if (items.length === 0) return [];
  const count = Math.ceil(items.length / max);
  const out: T[][] = [];
  let at = 0;
  for (let c = 0; c < count; c++) {
    const size = Math.floor(items.length / count) + (c < items.length % count ? 1 : 0);
    out.push(items.slice(at, at + size));
    at += size;
  }
  return out;
}

/** How many sequential rounds topDownPartition needs at most for `n` candidates (1, 2 or 3). */
export function maxTopDownRounds(n: number, windowSize: number): number {
  if (n <= 1) return 0;
  return n <= windowSize ? 1 : 3;
}

/** The most LLM calls topDownPartition makes for `n` candidates: 1, or 1 + ⌈(n − w)/(w − 1)⌉ + 1. */
export function maxTopDownCalls(n: number, windowSize: number): number {
  if (n <= 1) return 0;
  return n <= windowSize ? 1 : 2 + Math.ceil((n - windowSize) / (windowSize - 1));
}

/**
 * Ranks `n` candidates (indices 0..n-1 in baseline order) by top-down partitioning with windows of
 * `windowSize`. Returns a full permutation whatever the windows answer.
 */
export async function topDownPartition(n: number, windowSize: number, rank: RankWindow): Promise<LongListResult> {
  if (windowSize < 2) throw new RangeError('top-down partitioning requires a window size >= 2');
  if (n <= 1) return { order: identityOrder(n), windows: [], rounds: 0 };
  const windows: WindowOutcome[] = [];
  const all = identityOrder(n);
  if (n <= windowSize) {
    const answer = await rank(all);
    return { order: applyAnswer(all, answer), windows: [answer.outcome], rounds: 1 };
  }

  // Round 1: the pivot window.
  const first = all.slice(0, windowSize);
  const firstAnswer = await rank(first);
  windows.push(firstAnswer.outcome);
  const ranked = applyAnswer(first, firstAnswer);
  const k = pivotRank(windowSize);
  const pivot = ranked[k] as number;
  const winners: Winner[] = ranked.slice(0, k).map((index, rank) => ({ index, rank, window: 0 }));
  const backfill: number[] = ranked.slice(k + 1);

  // Round 2: every other item against the pivot, all windows at once.
  const chunks = balancedChunks(all.slice(windowSize), windowSize - 1);
  // allSettled, not all: a fatal error must not leave sibling calls running past the ranking.
  const settled = await Promise.allSettled(chunks.map((chunk) => rank([pivot, ...chunk])));
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  const answers = settled.map((s) => (s as PromiseFulfilledResult<WindowAnswer>).value);
  chunks.forEach((chunk, c) => {
    const answer = answers[c] as WindowAnswer;
    windows.push(answer.outcome);
    if (answer.outcome === 'unparseable' || answer.outcome === 'failed') {
      backfill.push(...chunk);
      return;
    }
    const placed = applyAnswer([pivot, ...chunk], answer);
    const p = placed.indexOf(pivot);
    placed.slice(0, p).forEach((index, rank) => winners.push({ index, rank, window: c + 1 }));
    backfill.push(...placed.slice(p + 1));
  });

  const foundInRound2 = winners.some((w) => w.window > 0);
  if (!foundInRound2) {
    return { order: [...winners.map((w) => w.index), pivot, ...backfill], windows, rounds: 2 };
  }

  // Round 3: the strongest candidates in one window: each window's best first, then each one's second…
  const byStrength = [...winners].sort((a, b) => a.rank - b.rank || a.window - b.window);
  const finalists = byStrength.slice(0, windowSize).map((w) => w.index);
  const overflow = byStrength.slice(windowSize).map((w) => w.index);
  const finalAnswer = await rank(finalists);
  windows.push(finalAnswer.outcome);
  return { order: [...applyAnswer(finalists, finalAnswer), ...overflow, pivot, ...backfill], windows, rounds: 3 };
}

