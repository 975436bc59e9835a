/**
 * Team-draft interleaving: every list is a permutation of the candidates, each pick is the picking arm's
 * best unused item, the arms' credited counts never differ by more than one in any prefix, the coin flips
 * are reproducible from the request id, and a user who prefers arm B's order produces B wins.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InterleavedItem } from '../../src/experiments/interleaving.js';
import { interleavingWinner, teamDraftInterleave } from '../../src/experiments/interleaving.js';

/** Two rankings of the same unique candidates, and a request id. */
const twoRankings = fc
  .uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 0, maxLength: 30 })
  .chain((ids) =>
    fc.tuple(fc.constant(ids), fc.shuffledSubarray(ids, { minLength: ids.length, maxLength: ids.length }), fc.shuffledSubarray(ids, { minLength: ids.length, maxLength: ids.length }), fc.string()),
  );

describe('teamDraftInterleave', () => {
  it('serves a permutation of the candidates', () => {
    fc.assert(
      fc.property(twoRankings, ([ids, a, b, seed]) => {
        const out = teamDraftInterleave(a, b, seed).map((x) => x.itemId);
        expect([...out].sort()).toEqual([...ids].sort());
      }),
    );
  });

  it('keeps the two arms within one credited item of each other in every prefix', () => {
    fc.assert(
      fc.property(twoRankings, ([, a, b, seed]) => {
        let diff = 0;
        for (const { arm } of teamDraftInterleave(a, b, seed)) {
          diff += arm === 0 ? 1 : -1;
          expect(Math.abs(diff)).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('credits each item to an arm that ranked it best among the items not yet shown', () => {
    fc.assert(
      fc.property(twoRankings, ([, a, b, seed]) => {
        const out = teamDraftInterleave(a, b, seed);
        const shown = new Set<string>();
        for (const { itemId, arm } of out) {
          const ranking = arm === 0 ? a : b;
          expect(ranking.find((id) => !shown.has(id))).toBe(itemId);
          shown.add(itemId);
        }
      }),
    );
  });

  it('flips the same coins for the same request id, and different ones across ids', () => {
    const a = ['1', '2', '3', '4', '5', '6'];
    const b = ['6', '5', '4', '3', '2', '1'];
    expect(teamDraftInterleave(a, b, 'req-1')).toEqual(teamDraftInterleave(a, b, 'req-1'));
    const firstArms = new Set(Array.from({ length: 40 }, (_, i) => teamDraftInterleave(a, b, `req-${i}`)[0]?.arm));
    expect(firstArms).toEqual(new Set([0, 1]));
  });

  it('stops at the limit, and still lists every item once when the rankings hold different items', () => {
    expect(teamDraftInterleave(['a', 'b', 'c'], ['c', 'b', 'a'], 's', 2)).toHaveLength(2);
    const out = teamDraftInterleave(['a', 'b'], ['c', 'd', 'e', 'a'], 's').map((x) => x.itemId);
    expect([...out].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

describe('interleavingWinner', () => {
  const served: InterleavedItem[] = [
    { itemId: 'x', arm: 0 },
    { itemId: 'y', arm: 1 },
    { itemId: 'z', arm: 1 },
  ];

  it('credits the arm whose items got more positive events, and calls equal counts a tie', () => {
    expect(interleavingWinner(served, new Map([['x', 1]]))).toBe(0);
    expect(interleavingWinner(served, new Map([['x', 1], ['y', 1], ['z', 1]]))).toBe(1);
    expect(interleavingWinner(served, new Map([['x', 3], ['y', 1], ['z', 1]]))).toBe(0);
    expect(interleavingWinner(served, new Map([['x', 1], ['y', 1]]))).toBeNull();
    expect(interleavingWinner(served, new Map())).toBeNull();
    expect(interleavingWinner(served, new Map([['not-served', 5]]))).toBeNull();
  });

  it('turns a user who prefers arm B`s order into B wins', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'];
    const b = [...a].reverse();
    let bWins = 0;
    let aWins = 0;
    for (let i = 0; i < 300; i++) {
      const list = teamDraftInterleave(a, b, `req-${i}`);
      // The user likes what B puts first: they click B's top three.
      const winner = interleavingWinner(list, new Map(b.slice(0, 3).map((id) => [id, 1])));
      if (winner === 1) bWins++;
      if (winner === 0) aWins++;
    }
    expect(bWins).toBe(300);
    expect(aWins).toBe(0);
  });
});
