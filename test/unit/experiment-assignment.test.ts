/**
 * A/B assignment: deterministic, proportional to the weights, and independent of the traffic share
 * (growing the share adds users without moving anyone between arms).
 */
import { describe, expect, it } from 'vitest';
import { armIndexByWeight, assignUser, assignmentUniforms } from '../../src/experiments/assignment.js';
import type { ExperimentDefinition } from '../../src/experiments/experiment-types.js';

const USERS = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);
const exp = (over: Partial<ExperimentDefinition> = {}): ExperimentDefinition => ({
  id: 'exp-1',
  domain: 'movies',
  mode: 'ab',
  arms: [
    { name: 'control', method: 'baseline', weight: 1 },
    { name: 'agp', method: 'agp', weight: 2 },
    { name: 'direct', method: 'direct', weight: 7 },
  ],
  ...over,
});

function armShares(e: ExperimentDefinition): { members: number; shares: number[] } {
  const counts = [0, 0, 0];
  let members = 0;
  for (const u of USERS) {
    const a = assignUser(e, u);
    if (a.inExperiment && a.mode === 'ab') {
      members++;
      counts[a.armIndex] = (counts[a.armIndex] ?? 0) + 1;
    }
  }
  return { members, shares: counts.map((c) => c / members) };
}

describe('assignUser (ab)', () => {
  it('gives the same user the same arm every time, and another experiment a different split', () => {
    const first = USERS.slice(0, 1000).map((u) => assignUser(exp(), u));
    expect(USERS.slice(0, 1000).map((u) => assignUser(exp(), u))).toEqual(first);
    const other = USERS.slice(0, 1000).map((u) => assignUser(exp({ id: 'exp-2' }), u));
    const moved = other.filter((a, i) => JSON.stringify(a) !== JSON.stringify(first[i])).length;
    expect(moved).toBeGreaterThan(300);
  });

  it('splits 100k users by weight 1:2:7 within 0.005 (about 5 standard errors)', () => {
    const { members, shares } = armShares(exp());
    expect(members).toBe(USERS.length);
    [0.1, 0.2, 0.7].forEach((want, i) => expect(Math.abs((shares[i] ?? 0) - want)).toBeLessThan(0.005));
  });

  it('admits trafficShare of the users, and raising the share moves nobody between arms', () => {
    const small = USERS.map((u) => assignUser(exp({ trafficShare: 0.3 }), u));
    const large = USERS.map((u) => assignUser(exp({ trafficShare: 0.6 }), u));
    const inSmall = small.filter((a) => a.inExperiment).length / USERS.length;
    expect(Math.abs(inSmall - 0.3)).toBeLessThan(0.005);
    // Everyone in the small share is still in under the large one, in the same arm.
    const moved = small.filter((a, i) => a.inExperiment && JSON.stringify(large[i]) !== JSON.stringify(a));
    expect(moved).toEqual([]);
    expect(large.filter((a) => a.inExperiment).length).toBeGreaterThan(small.filter((a) => a.inExperiment).length);
  });

  it('keeps the weights among the few users of a small share (arm bits are independent of membership bits)', () => {
    const { members, shares } = armShares(exp({ trafficShare: 0.1 }));
    expect(Math.abs(members / USERS.length - 0.1)).toBeLessThan(0.005);
    [0.1, 0.2, 0.7].forEach((want, i) => expect(Math.abs((shares[i] ?? 0) - want)).toBeLessThan(0.015));
  });

  it('puts nobody in under share 0, everybody in interleaving under share 1', () => {
    expect(USERS.slice(0, 500).some((u) => assignUser(exp({ trafficShare: 0 }), u).inExperiment)).toBe(false);
    const il = exp({ mode: 'interleave', arms: [{ name: 'a', method: 'baseline' }, { name: 'b', method: 'agp' }] });
    expect(USERS.slice(0, 500).every((u) => assignUser(il, u).inExperiment)).toBe(true);
  });

  it('rejects shares outside [0, 1] and unusable weights; a zero-weight arm gets nobody', () => {
    expect(() => assignUser(exp({ trafficShare: 1.5 }), 'u')).toThrow(RangeError);
    expect(() => armIndexByWeight([], 0.5)).toThrow(RangeError);
    expect(() => armIndexByWeight([{ weight: 0 }, { weight: 0 }], 0.5)).toThrow(RangeError);
    expect(() => armIndexByWeight([{ weight: -1 }, { weight: 2 }], 0.5)).toThrow(RangeError);
    const zero = [{ weight: 1 }, { weight: 0 }, { weight: 1 }];
    for (const u of [0, 0.25, 0.4999, 0.5, 0.75, 0.999999]) expect(armIndexByWeight(zero, u)).not.toBe(1);
  });

  it('draws two uniforms in [0, 1) that do not move together', () => {
    let agree = 0;
    for (const u of USERS.slice(0, 20_000)) {
      const [m, a] = assignmentUniforms('exp-1', u);
      expect(m >= 0 && m < 1 && a >= 0 && a < 1).toBe(true);
      if (m < 0.5 === a < 0.5) agree++;
    }
    expect(Math.abs(agree / 20_000 - 0.5)).toBeLessThan(0.02);
  });
});
