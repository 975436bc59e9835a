import { describe, it, expect } from 'vitest';
import { applyOrder, parseRanking, stripThink } from '../../src/agp/permutation.js';

/** Asserts `order` is a permutation of 0..n-1. */
function expectPermutation(order: number[], n: number): void {
  expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
}

describe('parseRanking: label styles', () => {
  const styles: Array<[string, string]> = [
    ['comma list in tags', '<ranking>3, 1, 2</ranking>'],
    ['bracketed with >', '[3] > [1] > [2]'],
    ['bare with >', '3 > 1 > 2'],
    ['numbered list with bracketed labels', '1. [3] Blade Runner 2049\n2. [1] Alien\n3. [2] Heat'],
    ['Item n', 'Item 3, Item 1, Item 2'],
    ['Cn', 'C3, C1, C2'],
    ['#n', '#3 #1 #2'],
    ['letters', 'C, A, B'],
    ['bracketed letters', 'The ranking is: [C] > [A] > [B]'],
    ['numbered list of bare labels', '1. 3\n2. 1\n3. 2'],
    ['label-dot-title lines', '3. Blade Runner\n1. Alien\n2. Heat'],
    ['JSON array inside tags', '<ranking>[3, 1, 2]</ranking>'],
    ['newline separated in tags', '<ranking>\n3\n1\n2\n</ranking>'],
    ['tags with spaces and caps', '< RANKING >3;1;2</ ranking >'],
  ];
  it.each(styles)('%s', (_name, answer) => {
    const r = parseRanking(answer, 3);
    expect(r.order).toEqual([2, 0, 1]);
    expect(r.outcome).toBe('ok');
    expect(r.rankedCount).toBe(3);
  });

  it('does not read the list number as a label when a bracketed label follows', () => {
    const r = parseRanking('1. [2] Heat\n2. [4] Alien\n3. [1] Up\n4. [3] Jaws', 4);
    expect(r.order).toEqual([1, 3, 0, 2]);
    expect(r.outcome).toBe('ok');
  });

  it('takes only the first label of each numbered-list line', () => {
    const r = parseRanking('1. [2] Heat (a remake of [1])\n2. [1] Alien\n3. [3] Up', 3);
    expect(r).toEqual({ order: [1, 0, 2], outcome: 'ok', rankedCount: 3, duplicates: 0, unknown: 0, issues: { duplicate: 0, unknown: 0, missing: 0 } });
  });

  it('reads a plain 1..k list of titles as carrying no labels', () => {
    const r = parseRanking('1. Alien\n2. Heat\n3. Blade Runner', 3);
    expect(r.outcome).toBe('unparseable');
    expect(r.order).toEqual([0, 1, 2]);
  });

  it('does not mistake the article "A" or the pronoun "I" for letter labels', () => {
    const r = parseRanking('I think a good order is 2, then 4, then 1, then 3. A solid choice.', 4);
    expect(r.order).toEqual([1, 3, 0, 2]);
  });

  it('maps ids in brackets when ids are given', () => {
    const r = parseRanking('[x-9] > [x-1] > [x-2]', 3, { ids: ['x-1', 'x-2', 'x-9'] });
    expect(r.order).toEqual([2, 0, 1]);
    expect(r.outcome).toBe('ok');
  });

  it('ignores numbers inside titles echoed after bracketed labels', () => {
    const r = parseRanking('[2] Blade Runner 2049 (1982 remake)\n[1] 12 Angry Men', 2);
    expect(r.order).toEqual([1, 0]);
    expect(r.unknown).toBe(0);
  });
});

describe('parseRanking: answer regions', () => {
  it('prefers the last <ranking> block', () => {
    const r = parseRanking('draft <ranking>1, 2, 3</ranking> final <ranking>2, 3, 1</ranking>', 3);
    expect(r.order).toEqual([1, 2, 0]);
  });

  it('skips an empty trailing <ranking></ranking> block', () => {
    expect(parseRanking('<ranking>2, 3, 1</ranking> then <ranking></ranking>', 3).order).toEqual([1, 2, 0]);
  });

  it('reads a truncated block with no closing tag', () => {
    expect(parseRanking('Sure. <ranking>3, 1, 2', 3).order).toEqual([2, 0, 1]);
  });

  it('strips closed <think> sections', () => {
    const r = parseRanking('<think>Maybe 1 then 2 then 3? No, 5.</think>\n<ranking>3, 1, 2</ranking>', 3);
    expect(r.order).toEqual([2, 0, 1]);
    expect(r.unknown).toBe(0);
  });

  it('strips an unclosed leading <think> up to the answer', () => {
    expect(parseRanking('<think>1 2 3 hmm so the answer <ranking>2, 1, 3</ranking>', 3).order).toEqual([1, 0, 2]);
  });

  it('treats unclosed thinking with no answer as unparseable', () => {
    const r = parseRanking('<think>Candidate 1 looks good, 2 and 3 less so', 3);
    expect(r.outcome).toBe('unparseable');
    expect(r.order).toEqual([0, 1, 2]);
  });

  it('drops reasoning before a stray closing </think>', () => {
    expect(parseRanking('reasoning about 1 2 3 </think> 2, 3, 1', 3).order).toEqual([1, 2, 0]);
  });

  it('reads JSON structured output, bare and in a fence', () => {
    expect(parseRanking('{"ranking": [2, 3, 1]}', 3)).toMatchObject({ order: [1, 2, 0], outcome: 'ok' });
    expect(parseRanking('Here:\n```json\n{ "ranking": [3, 2, 1] }\n```', 3).order).toEqual([2, 1, 0]);
    expect(parseRanking('{"ranking": ["[2]", "C3", "1"]}', 3).order).toEqual([1, 2, 0]);
  });

  it('does not take prose ending in "ranking:" for a JSON key', () => {
    expect(parseRanking('Here is my ranking:\n[3] > [1] > [2]\nHope this helps.', 3)).toMatchObject({ order: [2, 0, 1], outcome: 'ok' });
    expect(parseRanking('My final ranking: [3, 1, 2]', 3).order).toEqual([2, 0, 1]);
    expect(parseRanking('{ranking: [2, 3, 1]}', 3).order).toEqual([1, 2, 0]);
  });

  it('reads truncated JSON', () => {
    expect(parseRanking('{"ranking": [4, 3, 1', 4)).toMatchObject({ order: [3, 2, 0, 1], outcome: 'repaired' });
  });

  it("reads the authors' |beginoftext| markers, closed or not", () => {
    expect(parseRanking('Answer: |beginoftext|2, 1, 3|endoftext|', 3).order).toEqual([1, 0, 2]);
    expect(parseRanking('|beginoftext| 3, 2, 1', 3).order).toEqual([2, 1, 0]);
  });

  it('falls back to the whole text', () => {
    expect(parseRanking('My ranking: 2, 1, 3.', 3).order).toEqual([1, 0, 2]);
  });
});

describe('parseRanking: repair and outcomes', () => {
  it('drops duplicates and counts them', () => {
    const r = parseRanking('<ranking>2, 2, 1, 3</ranking>', 3);
    expect(r).toEqual({ order: [1, 0, 2], outcome: 'repaired', rankedCount: 3, duplicates: 1, unknown: 0, issues: { duplicate: 1, unknown: 0, missing: 0 } });
  });

  it('drops out-of-range labels and counts them as unknown', () => {
    const r = parseRanking('<ranking>0, 3, 7, 1, 2</ranking>', 3);
    expect(r).toEqual({ order: [2, 0, 1], outcome: 'repaired', rankedCount: 3, duplicates: 0, unknown: 2, issues: { duplicate: 0, unknown: 2, missing: 0 } });
  });

  it('reports duplicate, unknown and missing labels together in issues', () => {
    // 6 candidates: 2 repeated twice, 9 and 0 unknown, 4 and 6 never ranked.
    const r = parseRanking('<ranking>2, 9, 2, 1, 3, 0, 2, 5</ranking>', 6);
    expect(r.issues).toEqual({ duplicate: 2, unknown: 2, missing: 2 });
    expect(r.outcome).toBe('repaired');
    expect(r.order).toEqual([1, 0, 2, 4, 3, 5]);
  });

  it('counts missing labels of an unparseable answer too (every candidate when nothing was read)', () => {
    expect(parseRanking('<ranking>5, 2</ranking>', 5).issues).toEqual({ duplicate: 0, unknown: 0, missing: 3 });
    expect(parseRanking('I cannot help with that.', 4).issues).toEqual({ duplicate: 0, unknown: 0, missing: 4 });
  });

  it('reports no issues for an exact answer, and ids not among the candidates as unknown', () => {
    expect(parseRanking('<ranking>3, 1, 2</ranking>', 3).issues).toEqual({ duplicate: 0, unknown: 0, missing: 0 });
    const r = parseRanking('{"ranking": ["b", "zz", "a", "c"]}', 3, { ids: ['a', 'b', 'c'] });
    expect(r.order).toEqual([1, 0, 2]);
    expect(r.issues).toEqual({ duplicate: 0, unknown: 1, missing: 0 });
  });

  it('appends missing candidates in baseline order', () => {
    const r = parseRanking('<ranking>4, 2</ranking>', 4);
    expect(r.order).toEqual([3, 1, 0, 2]);
    expect(r.outcome).toBe('repaired');
    expect(r.rankedCount).toBe(2);
  });

  it('is unparseable below ceil(n/2) ranked labels, returning the identity', () => {
    const r = parseRanking('<ranking>5, 2</ranking>', 5);
    expect(r.rankedCount).toBe(2);
    expect(r.outcome).toBe('unparseable');
    expect(r.order).toEqual([0, 1, 2, 3, 4]);
  });

  it('is usable at exactly ceil(n/2) labels', () => {
    expect(parseRanking('<ranking>5, 2, 4</ranking>', 5)).toMatchObject({ outcome: 'repaired', order: [4, 1, 3, 0, 2] });
  });

  it('handles junk text', () => {
    for (const junk of ['', 'I cannot help with that.', '<ranking></ranking>', '🤖🤖🤖', '{"ranking": []}']) {
      const r = parseRanking(junk, 4);
      expect(r.outcome).toBe('unparseable');
      expect(r.order).toEqual([0, 1, 2, 3]);
    }
  });

  it('n = 1 is always ok and n = 0 is empty', () => {
    expect(parseRanking('garbage', 1)).toMatchObject({ order: [0], outcome: 'ok' });
    expect(parseRanking('', 0)).toMatchObject({ order: [], outcome: 'ok' });
  });

  it('rejects a bad candidate count', () => {
    expect(() => parseRanking('1', -1)).toThrow(RangeError);
    expect(() => parseRanking('1', 2.5)).toThrow(RangeError);
  });

  it('always returns a full permutation for many sloppy answers', () => {
    const answers = ['9 9 9 1', '[2] [2] [20]', 'B, B, Z', '<think>', '{"ranking": ["x"]}', '1.5, 2.5', 'C12 #7'];
    for (const a of answers) expectPermutation(parseRanking(a, 10).order, 10);
  });

  it('handles 20-candidate windows with two-digit labels', () => {
    const labels = Array.from({ length: 20 }, (_, i) => 20 - i);
    const r = parseRanking(`<ranking>${labels.join(', ')}</ranking>`, 20);
    expect(r.outcome).toBe('ok');
    expect(r.order).toEqual(labels.map((l) => l - 1));
  });
});

describe('stripThink', () => {
  it('removes closed sections of every spelling', () => {
    expect(stripThink('a<think>x</think>b<THINKING>y</THINKING>c').replace(/\s/g, '')).toBe('abc');
  });
});

describe('applyOrder', () => {
  it('reorders items', () => {
    expect(applyOrder(['a', 'b', 'c'], [2, 0, 1])).toEqual(['c', 'a', 'b']);
  });

  it('never loses an item: skips bad indices and appends the rest', () => {
    expect(applyOrder(['a', 'b', 'c', 'd'], [3, 3, 9, -1, 1])).toEqual(['d', 'b', 'a', 'c']);
  });

  it('composes with parseRanking', () => {
    const items = ['x', 'y', 'z'];
    expect(applyOrder(items, parseRanking('<ranking>2, 3, 1</ranking>', 3).order)).toEqual(['y', 'z', 'x']);
  });
});
