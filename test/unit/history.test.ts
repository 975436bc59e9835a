import { describe, it, expect } from 'vitest';
import { historyDigest, selectHistory } from '../../src/agp/history.js';
import { createRng } from '../../src/agp/rng.js';
import type { Item } from '../../src/agp/types.js';

const items: Item[] = [
  { id: '1', title: 'Alien' },
  { id: '2', title: 'Heat' },
  { id: '3', title: 'Up' },
  { id: '4', title: 'Jaws' },
];

describe('selectHistory', () => {
  it('keeps the last n items, oldest first', () => {
    expect(selectHistory(items, 2).map((i) => i.id)).toEqual(['3', '4']);
    expect(selectHistory(items, 10).map((i) => i.id)).toEqual(['1', '2', '3', '4']);
  });

  it('selects nothing for n <= 0 and does not mutate the input', () => {
    expect(selectHistory(items, 0)).toEqual([]);
    expect(selectHistory(items, -3)).toEqual([]);
    expect(items).toHaveLength(4);
  });
});

describe('historyDigest', () => {
  it('is 32 hex chars and stable', () => {
    const d = historyDigest(items);
    expect(d).toMatch(/^[0-9a-f]{32}$/);
    expect(historyDigest(items.map((i) => ({ ...i })))).toBe(d);
  });

  it('changes when one title changes', () => {
    const changed = items.map((i) => (i.id === '3' ? { ...i, title: 'Up!' } : i));
    expect(historyDigest(changed)).not.toBe(historyDigest(items));
  });

  it('changes with an id, the order, or the set of items', () => {
    const d = historyDigest(items);
    expect(historyDigest(items.map((i, k) => (k === 0 ? { ...i, id: '9' } : i)))).not.toBe(d);
    expect(historyDigest([...items].reverse())).not.toBe(d);
    expect(historyDigest(items.slice(1))).not.toBe(d);
  });

  it('is unambiguous where a naive join would collide', () => {
    expect(historyDigest([{ id: 'a', title: 'b,c' }])).not.toBe(historyDigest([{ id: 'a,b', title: 'c' }]));
  });

  it('keeps titles and ids that differ only by a lone surrogate apart', () => {
    expect(historyDigest([{ id: 'a', title: 'x\ud800' }])).not.toBe(historyDigest([{ id: 'a', title: 'x\ufffd' }]));
    expect(historyDigest([{ id: 'a\udc00', title: 'x' }])).not.toBe(historyDigest([{ id: 'a\ufffd', title: 'x' }]));
  });

  it('ignores item text (it is not part of the profile input)', () => {
    expect(historyDigest([{ id: '1', title: 'Alien', text: 'x' }])).toBe(historyDigest([{ id: '1', title: 'Alien' }]));
  });
});

describe('createRng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const seqA = [a.next(), a.next(), a.next()];
    expect([b.next(), b.next(), b.next()]).toEqual(seqA);
    expect(createRng(43).next()).not.toBe(seqA[0]);
    expect(createRng('42').next()).toBe(seqA[0]);
  });

  it('stays within bounds', () => {
    const r = createRng('bounds');
    for (let i = 0; i < 1000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
    }
    expect(() => r.int(0)).toThrow(RangeError);
    expect(() => r.int(2.5)).toThrow(RangeError);
  });

  it('resumes exactly from a saved state', () => {
    const r = createRng(5);
    r.next();
    const saved = r.getState();
    const expected = [r.next(), r.int(100), r.next()];
    const resumed = createRng('other');
    resumed.setState(saved);
    expect([resumed.next(), resumed.int(100), resumed.next()]).toEqual(expected);
  });

  it('shuffles into a new array holding the same elements', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i);
    const out = createRng(1).shuffle(xs);
    expect(out).not.toBe(xs);
    expect(xs).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect([...out].sort((p, q) => p - q)).toEqual(xs);
    expect(out).not.toEqual(xs);
    expect(createRng(1).shuffle(xs)).toEqual(out);
  });
});
