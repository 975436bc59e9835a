/**
 * Sliding-window plan for ranking lists longer than one LLM prompt should hold.
 * Windows go from the back of the list to the front (as RankGPT and rank_llm do), each overlapping the
 * previous by `size - step`, so a strong item near the bottom can travel to the top in one pass.
 */

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
