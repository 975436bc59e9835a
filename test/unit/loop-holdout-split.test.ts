/** The holdout split (src/loop/holdout-split.ts): share respected, stable per (salt, user), salt-dependent. */
import { describe, expect, it } from 'vitest';
import { isHeldOut } from '../../src/loop/holdout-split.js';

const users = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
const heldOut = (share: number, salt: string) => users.filter((u) => isHeldOut(u, share, salt));

describe('isHeldOut', () => {
  it('holds out the share of users, within sampling tolerance', () => {
    for (const share of [0.05, 0.2, 0.5, 0.9]) {
      // Binomial sd at n = 10k is at most 50 users; 4 sd.
      expect(Math.abs(heldOut(share, 'run-1').length - share * users.length)).toBeLessThan(200);
    }
    expect(heldOut(0, 'run-1')).toEqual([]);
    expect(heldOut(1, 'run-1')).toHaveLength(users.length);
  });

  it('is stable for a salt and nested across shares', () => {
    const a = heldOut(0.2, 'run-1');
    expect(heldOut(0.2, 'run-1')).toEqual(a);
    const wider = new Set(heldOut(0.3, 'run-1'));
    expect(a.every((u) => wider.has(u))).toBe(true);
  });

  it('splits differently under another salt', () => {
    const a = new Set(heldOut(0.2, 'run-1'));
    const b = heldOut(0.2, 'run-2');
    const both = b.filter((u) => a.has(u)).length;
    // Independent 20% draws overlap on about 4% of users (400), far from the 2000 of an identical split.
    expect(both).toBeGreaterThan(250);
    expect(both).toBeLessThan(550);
  });

  it('refuses a share outside [0, 1]', () => {
    expect(() => isHeldOut('u', 1.5, 's')).toThrow(RangeError);
    expect(() => isHeldOut('u', Number.NaN, 's')).toThrow(RangeError);
  });
});
