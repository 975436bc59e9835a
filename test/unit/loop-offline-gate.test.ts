/**
 * The offline gate (src/loop/offline-gate.ts): a clear winner passes, a tie fails a strict gate but passes a
 * loose one, a worse candidate fails, the verdict is reproducible by seed, and misuse throws.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/agp/rng.js';
import { gateVerdict } from '../../src/loop/offline-gate.js';
import type { GateSpec } from '../../src/loop/ports.js';

const gate = (over: Partial<GateSpec> = {}): GateSpec => ({ minDelta: 0, holdoutShare: 0.2, minHoldoutUsers: 20, bootstrapIterations: 2_000, ...over });

/** Per-user NDCG@10-like scores in [0, 1], deterministic. */
function scores(n: number, seed: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => rng.int(1_000) / 1_000);
}

describe('gateVerdict', () => {
  const active = scores(200, 1);

  it('passes a clear winner, with the numbers behind it', () => {
    const candidate = active.map((x) => Math.min(1, x + 0.1));
    const v = gateVerdict(active, candidate, gate());
    expect(v.passed).toBe(true);
    expect(v.users).toBe(200);
    expect(v.diff).toBeGreaterThan(0.08);
    expect(v.candidateNdcg - v.activeNdcg).toBeCloseTo(v.diff, 12);
    expect(v.ci95[0]).toBeGreaterThan(0);
    expect(v.ci95[0]).toBeLessThanOrEqual(v.diff);
    expect(v.ci95[1]).toBeGreaterThanOrEqual(v.diff);
    expect(v.minDelta).toBe(0);
    // A bar above the whole interval fails the same candidate.
    expect(gateVerdict(active, candidate, gate({ minDelta: v.ci95[1] })).passed).toBe(false);
  });

  it('fails an equal candidate at minDelta 0 and passes it with a negative minDelta', () => {
    const same = [...active];
    const strict = gateVerdict(active, same, gate());
    expect(strict.passed).toBe(false);
    expect(strict.ci95).toEqual([0, 0]);
    expect(gateVerdict(active, same, gate({ minDelta: -0.01 })).passed).toBe(true);
  });

  it('fails a worse candidate, and a noisy tie', () => {
    const worse = active.map((x) => Math.max(0, x - 0.05));
    const v = gateVerdict(active, worse, gate({ minDelta: -0.01 }));
    expect(v.passed).toBe(false);
    expect(v.diff).toBeLessThan(0);
    expect(gateVerdict(active, scores(200, 2), gate()).passed).toBe(false);
  });

  it('is deterministic by seed, and the seed matters', () => {
    const candidate = scores(200, 3);
    const a = gateVerdict(active, candidate, gate(), 7);
    expect(gateVerdict(active, candidate, gate(), 7)).toEqual(a);
    expect(gateVerdict(active, candidate, gate(), 8).ci95).not.toEqual(a.ci95);
  });

  it('never passes no users, and throws on mismatched or non-finite scores', () => {
    expect(gateVerdict([], [], gate({ minDelta: -1 }))).toMatchObject({ passed: false, users: 0 });
    expect(() => gateVerdict([0.1, 0.2], [0.1], gate())).toThrow(RangeError);
    expect(() => gateVerdict([0.1, Number.NaN], [0.1, 0.2], gate())).toThrow(/non-finite score for user #1/);
  });

  it('takes typed arrays', () => {
    const v = gateVerdict(Float64Array.from(active), Float64Array.from(active, (x) => x + 0.2), gate());
    expect(v.passed).toBe(true);
  });
});
