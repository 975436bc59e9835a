/**
 * Sliding-window plan for ranking lists longer than one LLM prompt should hold.
 * Windows go from the back of the list to the front (as RankGPT and rank_llm do), each overlapping the
 * previous by `size - step`, so a strong item near the bottom can travel to the top in one pass.
 */
import type { LongListResult, RankWindow, WindowOutcome } from './long-list.js';
import { applyAnswer, identityOrder } from './long-list.js';

/**
 * Returns [start, end) windows over a list of `n`, back to front. A list that fits in one window
 * yields a single window [0, n).
 */
export function planWindows(n: number, size: number, step: number): Array<[number, number]> {
  if (size < 2 || step < 1 || step >= size) throw new RangeError('window requires size >= 2 and 1 <= step < size');
  if (n <= size) return [[0, n]];
  const windows: Array<[number, number]> = [];
  let end = n;
  for (;;) {
    const start = Math.max(0, end - size);
    windows.push([start, end]);
    if (start === 0) break;
    end -= step;
  }
  return windows;
}

/**
 * Ranks `n` candidates with the back-to-front sliding window, one window after the other (each window sees
 * the previous one's result). A window that fails keeps its slice's input order and the next window goes on.
 */
export async function slideWindows(n: number, size: number, step: number, rank: RankWindow): Promise<LongListResult> {
  let order = identityOrder(n);
  const windows: WindowOutcome[] = [];
  for (const [start, end] of planWindows(n, size, step)) {
    const slice = order.slice(start, end);
    const answer = await rank(slice);
    windows.push(answer.outcome);
    order = [...order.slice(0, start), ...applyAnswer(slice, answer), ...order.slice(end)];
  }
  return { order, windows, rounds: windows.length };
}
