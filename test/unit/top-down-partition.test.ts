import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RankWindow, WindowAnswer, WindowOutcome } from '../../src/agp/long-list.js';
import { combineOutcomes } from '../../src/agp/long-list.js';
import { balancedChunks, maxTopDownCalls, maxTopDownRounds, pivotRank, topDownPartition } from '../../src/agp/top-down-partition.js';
import { slideWindows } from '../../src/agp/sliding-window.js';

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** A window ranker that orders members by a hidden relevance (higher first), recording every call. */
function byRelevance(rel: (i: number) => number, fail: (call: number) => WindowOutcome | null = () => null) {
  const calls: number[][] = [];
  const rank: RankWindow = async (members) => {
    const call = calls.length;
    calls.push([...members]);
    const failed = fail(call);
    if (failed) return { order: range(0, members.length), outcome: failed };
    const order = range(0, members.length).sort((a, b) => rel(members[b] as number) - rel(members[a] as number) || a - b);
    return { order, outcome: 'ok' };
  };
  return { rank, calls };
}

describe('top-down partitioning', () => {
  it('puts the pivot at rank 10 of a 20-window (the paper k) and balances partition sizes', () => {
    expect(pivotRank(20)).toBe(9);
    expect(pivotRank(2)).toBe(0);
    expect(balancedChunks(range(0, 80), 19).map((c) => c.length)).toEqual([16, 16, 16, 16, 16]);
    expect(balancedChunks(range(0, 5), 19)).toEqual([[0, 1, 2, 3, 4]]);
    expect(balancedChunks([], 19)).toEqual([]);
  });

  it('finds the true top 20 of 100 in 3 rounds of 1 + 5 + 1 windows when relevance is reversed baseline', async () => {
    const { rank, calls } = byRelevance((i) => i); // the best item is the last one
    const res = await topDownPartition(100, 20, rank);
    expect(res.rounds).toBe(3);
    expect(calls).toHaveLength(7);
    expect(res.windows).toEqual(Array(7).fill('ok'));
    expect(sorted(res.order)).toEqual(range(0, 100));
    // 80 items beat the pivot (item 10); the final window takes round 1's 9 winners and the 11 widest margins.
    expect(res.order.slice(0, 20)).toEqual(sorted(res.order.slice(0, 20)).reverse());
    expect(calls[1]?.[0]).toBe(10);
  });

  it('skips round 3 when no partition item beats the pivot (a good first stage)', async () => {
    const { rank, calls } = byRelevance((i) => -i); // baseline order is already perfect
    const res = await topDownPartition(100, 20, rank);
    expect(res.rounds).toBe(2);
    expect(calls).toHaveLength(6);
    expect(res.order).toEqual(range(0, 100));
  });

  it('a list that fits one window is one call; 0 and 1 candidates are none', async () => {
    const { rank, calls } = byRelevance((i) => i);
    expect((await topDownPartition(20, 20, rank)).order).toEqual(range(0, 20).reverse());
    expect(calls).toHaveLength(1);
    expect(await topDownPartition(1, 20, rank)).toEqual({ order: [0], windows: [], rounds: 0 });
    expect(maxTopDownRounds(150, 20)).toBe(3);
    expect(maxTopDownRounds(20, 20)).toBe(1);
    // The docs' table (docs/quality.md, "Long lists").
    expect([20, 40, 50, 100, 150].map((n) => maxTopDownCalls(n, 20))).toEqual([1, 4, 4, 7, 9]);
  });

  it('a junk partition window leaves its items in backfill, in input order, while the others stand', async () => {
    // n=45, w=20. Round 1 (call 0) reversed: winners 19..11, pivot 10, backfill 9..0. Partitions: [20..32]
    // (call 1, junk) and [33..44] (call 2, reversed: all 12 beat the pivot). Final: 19..11 then 44..34.
    const { rank } = byRelevance((i) => i, (call) => (call === 1 ? 'unparseable' : null));
    const res = await topDownPartition(45, 20, rank);
    expect(res.windows).toEqual(['ok', 'unparseable', 'ok', 'ok']);
    expect(combineOutcomes(res.windows)).toBe('repaired');
    expect(res.order).toEqual([...range(34, 45).reverse(), ...range(11, 20).reverse(), 33, 10, ...range(0, 10).reverse(), ...range(20, 33)]);
  });

  it('a failed pivot window keeps its input order and the baseline item at rank 10 becomes the pivot', async () => {
    const { rank, calls } = byRelevance((i) => (i === 30 ? 1000 : -i), (call) => (call === 0 ? 'failed' : null));
    const res = await topDownPartition(40, 20, rank);
    expect(calls[1]?.[0]).toBe(9);
    expect(res.windows[0]).toBe('failed');
    expect(res.order[0]).toBe(30); // the partition found it, the final window ranked it first
    expect(sorted(res.order)).toEqual(range(0, 40));
  });

  it('every window failing leaves the baseline order (and the outcome is unparseable)', async () => {
    for (const n of [20, 21, 45, 100]) {
      const { rank } = byRelevance((i) => i, () => 'unparseable');
      const res = await topDownPartition(n, 20, rank);
      expect(res.order).toEqual(range(0, n));
      expect(combineOutcomes(res.windows)).toBe('unparseable');
    }
  });

  it('a fatal error in one concurrent window rejects only after its siblings settled', async () => {
    let settled = 0;
    const rank: RankWindow = async (members) => {
      if (members.length === 20) return { order: range(0, 20), outcome: 'ok' };
      if (members.includes(20)) throw new Error('deadline');
      await new Promise((r) => setTimeout(r, 20));
      settled += 1;
      return { order: range(0, members.length), outcome: 'ok' };
    };
    await expect(topDownPartition(100, 20, rank)).rejects.toThrow('deadline');
    expect(settled).toBe(4);
  });
});

describe('outcomes', () => {
  it('unparseable only when no window parsed; repaired when any window was repaired or failed', () => {
    expect(combineOutcomes(['ok', 'ok'])).toBe('ok');
    expect(combineOutcomes(['ok', 'repaired'])).toBe('repaired');
    expect(combineOutcomes(['ok', 'failed'])).toBe('repaired');
    expect(combineOutcomes(['unparseable', 'repaired'])).toBe('repaired');
    expect(combineOutcomes(['unparseable', 'failed'])).toBe('unparseable');
    expect(combineOutcomes([])).toBe('ok');
  });
});

describe('a permutation every time (property)', () => {
  const answer = fc.oneof(
    fc.constant<'shuffle'>('shuffle'),
    fc.constant<WindowOutcome>('unparseable'),
    fc.constant<WindowOutcome>('failed'),
    fc.constant<WindowOutcome>('repaired'),
  );
  const scenario = fc.record({
    n: fc.integer({ min: 1, max: 150 }),
    size: fc.constantFrom(2, 3, 5, 10, 20),
    strategy: fc.constantFrom('sliding', 'topdown'),
    answers: fc.array(fc.tuple(answer, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 20, maxLength: 20 })), { minLength: 1, maxLength: 16 }),
  });

  it('both strategies return a permutation of 0..n-1 whatever each window answers', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ n, size, strategy, answers }) => {
        let call = 0;
        const rank: RankWindow = async (members): Promise<WindowAnswer> => {
          expect(new Set(members).size).toBe(members.length);
          const [kind, keys] = answers[call++ % answers.length] as (typeof answers)[number];
          if (kind === 'unparseable' || kind === 'failed') return { order: range(0, members.length), outcome: kind };
          const order = range(0, members.length).sort((a, b) => (keys[a % 20] ?? 0) - (keys[b % 20] ?? 0) || a - b);
          return { order, outcome: kind === 'shuffle' ? 'ok' : 'repaired' };
        };
        const step = Math.max(1, Math.floor(size / 2));
        const res = strategy === 'topdown' ? await topDownPartition(n, size, rank) : await slideWindows(n, size, step, rank);
        expect(sorted(res.order)).toEqual(range(0, n));
        if (strategy === 'topdown') {
          expect(res.rounds).toBeLessThanOrEqual(maxTopDownRounds(n, size));
          expect(call).toBeLessThanOrEqual(maxTopDownCalls(n, size));
        }
        expect(res.windows).toHaveLength(call);
      }),
      { numRuns: 400, seed: 12 },
    );
  });
});
