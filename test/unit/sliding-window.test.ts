import { describe, expect, it } from 'vitest';
import { planWindows } from '../../src/agp/sliding-window.js';

describe('planWindows', () => {
  it('uses one window when the list fits', () => {
    expect(planWindows(20, 20, 10)).toEqual([[0, 20]]);
    expect(planWindows(3, 20, 10)).toEqual([[0, 3]]);
  });

  it('slides back to front with overlap, ending at the top', () => {
    expect(planWindows(40, 20, 10)).toEqual([
      [20, 40],
      [10, 30],
      [0, 20],
    ]);
    expect(planWindows(25, 20, 10)).toEqual([
      [5, 25],
      [0, 15],
    ]);
  });

  it('covers every position at least once', () => {
    for (const n of [21, 37, 100]) {
      const seen = new Set<number>();
      for (const [s, e] of planWindows(n, 20, 7)) for (let i = s; i < e; i++) seen.add(i);
      expect(seen.size).toBe(n);
    }
  });

  it('rejects a step that would not advance', () => {
    expect(() => planWindows(50, 10, 10)).toThrow(RangeError);
  });
});
