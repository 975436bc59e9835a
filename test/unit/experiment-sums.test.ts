/**
 * experiment-sums.ts: the increments of exposures and event transitions, folded in any order, give exactly
 * the statistics computed directly from the final state (per-exposure metric values, per-user totals).
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/agp/rng.js';
import { eventSums, exposureSums, latencyBucket, latencyP99FromSums, runningStatsFromSums } from '../../src/experiments/experiment-sums.js';
import { exposureOutcome } from '../../src/experiments/outcome-metrics.js';
import type { ExperimentRecord, ExposureRecord, SumsUpdate } from '../../src/experiments/ports.js';
import { foldUserChange, type UserTotals } from '../../src/experiments/user-level-fold.js';

const experiment = (mode: 'ab' | 'interleave'): Pick<ExperimentRecord, 'mode' | 'arms'> => ({
  mode,
  arms: [
    { name: 'control', method: 'baseline' },
    { name: 'treatment', method: 'agp' },
  ],
});

/** A store in a few lines: increments plus the user fold (what both real stores implement). */
function fold(updates: readonly SumsUpdate[]) {
  const sums: Record<string, Record<string, number>> = {};
  const users = new Map<string, UserTotals>();
  const add = (arm: string, field: string, d: number) => {
    const f = (sums[arm] ??= {});
    f[field] = (f[field] ?? 0) + d;
  };
  for (const u of updates) {
    for (const [arm, fields] of Object.entries(u.increments)) for (const [field, d] of Object.entries(fields)) add(arm, field, d);
    for (const d of u.users) {
      const key = `${d.arm}|${u.userId}`;
      const { after, increments } = foldUserChange(users.get(key) ?? { count: 0, sums: {} }, d);
      users.set(key, after);
      for (const [field, x] of Object.entries(increments)) add(d.arm, field, x);
    }
  }
  return sums;
}

function simulate(mode: 'ab' | 'interleave', seed: string) {
  const rng = createRng(seed);
  const exp = experiment(mode);
  const updates: SumsUpdate[] = [];
  const finals: Array<{ e: ExposureRecord; counts: Map<string, number> }> = [];
  for (let i = 0; i < 300; i++) {
    const userId = `u${Math.floor(rng.next() * 40)}`;
    const baseline = Array.from({ length: 10 }, (_, k) => `i${k}`);
    const served = [...baseline].sort(() => rng.next() - 0.5);
    const arm = mode === 'ab' ? (rng.next() < 0.5 ? 'control' : 'treatment') : null;
    const e: ExposureRecord = {
      requestId: `r${i}`, domain: 'd', userId, at: 0, experiment: { id: 'x', arm }, method: 'agp', promptVersion: 'v',
      fallbackReason: null, served, servedArms: mode === 'interleave' ? served.map((_, k) => (k % 2 === 0 ? 'control' : 'treatment')) : null, baseline, history: [],
    };
    updates.push(exposureSums(e, exp, (mode === 'ab' ? [arm as string] : ['control', 'treatment']).map((a) => ({ arm: a, llmCalls: 2, fellBack: rng.next() < 0.1, latencyMs: rng.next() * 900 }))));
    // Events arrive in a few batches; each batch is one transition of the positive counts.
    let counts = new Map<string, number>();
    for (let batch = 0; batch < 3; batch++) {
      const next = new Map(counts);
      for (const id of served) if (rng.next() < 0.08) next.set(id, (next.get(id) ?? 0) + 1);
      const u = eventSums(e, exp, counts, next);
      if (u) updates.push(u);
      counts = next;
    }
    finals.push({ e, counts });
  }
  return { exp, updates, finals };
}

describe('experiment sums', () => {
  for (const mode of ['ab', 'interleave'] as const) {
    it(`${mode}: folded increments equal the direct computation from the final state, in any order`, () => {
      const { exp, updates, finals } = simulate(mode, `sums-${mode}`);
      const stats = runningStatsFromSums(exp, fold(updates));
      const shuffled = runningStatsFromSums(exp, fold([...updates].reverse()));
      for (const arm of ['control', 'treatment']) {
        const mine = finals.filter(({ e }) => mode === 'interleave' || e.experiment?.arm === arm);
        const values = mine.map(({ e, counts }) => {
          const credited = new Set(e.served.filter((id, k) => (counts.get(id) ?? 0) > 0 && (mode === 'ab' || e.servedArms?.[k] === arm)));
          return { user: e.userId, v: exposureOutcome(e.served, credited)['ndcg@10'] };
        });
        const perUser = new Map<string, { n: number; s: number }>();
        for (const { user, v } of values) {
          const t = perUser.get(user) ?? { n: 0, s: 0 };
          perUser.set(user, { n: t.n + 1, s: t.s + v });
        }
        const got = stats.arms.find((a) => a.name === arm)?.served['ndcg@10'];
        const again = shuffled.arms.find((a) => a.name === arm)?.served['ndcg@10'];
        expect(got?.count).toBe(values.length);
        expect(got?.sum).toBeCloseTo(values.reduce((a, b) => a + b.v, 0), 9);
        expect(got?.sumSq).toBeCloseTo(values.reduce((a, b) => a + b.v * b.v, 0), 9);
        expect(got?.perUser?.users).toBe(perUser.size);
        expect(got?.perUser?.sumUserSumSq).toBeCloseTo([...perUser.values()].reduce((a, t) => a + t.s * t.s, 0), 9);
        expect(got?.perUser?.sumUserCountSq).toBe([...perUser.values()].reduce((a, t) => a + t.n * t.n, 0));
        expect(got?.perUser?.sumUserCross).toBeCloseTo([...perUser.values()].reduce((a, t) => a + t.n * t.s, 0), 9);
        expect(again?.sum).toBeCloseTo(got?.sum ?? NaN, 9);
        expect(again?.perUser?.sumUserSumSq).toBeCloseTo(got?.perUser?.sumUserSumSq ?? NaN, 9);
      }
      if (mode === 'interleave') {
        const tally = { wins: 0, losses: 0, ties: 0 };
        for (const { e, counts } of finals) {
          let bal = 0;
          e.served.forEach((id, k) => (bal += (counts.get(id) ?? 0) * (e.servedArms?.[k] === 'treatment' ? 1 : -1)));
          tally[bal > 0 ? 'wins' : bal < 0 ? 'losses' : 'ties'] += 1;
        }
        expect(stats.interleaving).toEqual(tally);
      }
    });
  }

  it('an event batch that changes nothing adds nothing', () => {
    const { exp, finals } = simulate('ab', 'noop');
    const { e, counts } = finals[0]!;
    expect(eventSums(e, exp, counts, counts)).toBeNull();
  });

  it('p99 latency is the upper bound of the bucket holding the 99th percentile', () => {
    const fields: Record<string, number> = {};
    for (let i = 0; i < 99; i++) fields[`lat.${latencyBucket(40)}`] = (fields[`lat.${latencyBucket(40)}`] ?? 0) + 1;
    fields[`lat.${latencyBucket(1_800)}`] = 1;
    expect(latencyP99FromSums(fields, 100)).toBe(50);
    fields[`lat.${latencyBucket(1_800)}`] = 2;
    expect(latencyP99FromSums(fields, 101)).toBe(2_000);
    expect(latencyP99FromSums({}, 0)).toBeNull();
  });
});
