import { describe, expect, it } from 'vitest';
import { DatasetError, parseDataset, serializeUser, splitUsers } from '../../src/agp/dataset.js';
import { makeUsers } from '../../testkit/synthetic-world.js';

const row = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    userId: 'u1',
    history: [{ id: 'h1', title: 'Alien' }],
    candidates: [
      { id: 'a', title: 'Aliens' },
      { id: 'b', title: 'Heat', text: 'crime' },
    ],
    target: 'b',
    ...over,
  });

function errorOf(fn: () => unknown): DatasetError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DatasetError) return err;
    throw err;
  }
  throw new Error('expected a DatasetError');
}

describe('parseDataset', () => {
  it('reads valid lines (target or targets, numeric ids coerced, blank lines skipped)', () => {
    const text = [row(), '', row({ userId: 2, target: undefined, targets: ['a', 'b'] })].join('\n');
    const users = parseDataset(text);
    expect(users).toHaveLength(2);
    expect(users[0]).toEqual({
      userId: 'u1',
      history: [{ id: 'h1', title: 'Alien' }],
      candidates: [
        { id: 'a', title: 'Aliens' },
        { id: 'b', title: 'Heat', text: 'crime' },
      ],
      targets: ['b'],
    });
    expect(users[1]?.userId).toBe('2');
    expect(users[1]?.targets).toEqual(['a', 'b']);
  });

  it('names the line number and the problem of a bad line', () => {
    const err = errorOf(() => parseDataset([row(), row({ userId: 'u2', candidates: 'x' })].join('\n'), 'users.jsonl'));
    expect(err.issues).toEqual([{ line: 2, message: expect.stringContaining('candidates') }]);
    expect(err.message).toContain('users.jsonl:2');
  });

  it('reports invalid JSON with its line number', () => {
    const err = errorOf(() => parseDataset(`${row()}\n\n{"userId": "u2",`));
    expect(err.issues[0]?.line).toBe(3);
    expect(err.issues[0]?.message).toMatch(/invalid JSON/);
  });

  it('rejects a target that is not among the candidates, naming the line', () => {
    const err = errorOf(() => parseDataset([row(), row({ userId: 'u2', target: 'zzz' })].join('\n')));
    expect(err.issues).toEqual([{ line: 2, message: 'target: not among the candidates' }]);
    const many = errorOf(() => parseDataset(row({ target: undefined, targets: ['a', 'zzz'] })));
    expect(many.issues).toEqual([{ line: 1, message: 'targets.1: not among the candidates' }]);
  });

  it('rejects duplicate candidate ids, duplicate users and missing/double targets', () => {
    const dup = row({ candidates: [{ id: 'a', title: 'A' }, { id: 'a', title: 'B' }], target: 'a' });
    expect(errorOf(() => parseDataset(dup)).issues[0]?.message).toBe('candidates: duplicate candidate id (positions 1 and 2)');
    expect(errorOf(() => parseDataset(`${row()}\n${row()}`)).issues[0]).toEqual({ line: 2, message: 'userId: duplicate of line 1' });
    expect(errorOf(() => parseDataset(row({ target: undefined }))).issues[0]?.message).toContain('exactly one of');
    expect(errorOf(() => parseDataset(row({ targets: ['a'] }))).issues[0]?.message).toContain('exactly one of');
  });

  it('validates the whole file before returning anything (every bad line is listed)', () => {
    const err = errorOf(() => parseDataset([row({ userId: 'a', target: 'q' }), row({ userId: 'b' }), row({ userId: 'c', history: 3 })].join('\n')));
    expect(err.issues.map((i) => i.line)).toEqual([1, 3]);
  });

  it('rejects an empty input', () => {
    expect(() => parseDataset('\n\n')).toThrow(DatasetError);
  });

  it('round-trips through serializeUser', () => {
    const users = makeUsers(3);
    expect(parseDataset(users.map(serializeUser).join('\n'))).toEqual(users);
  });
});

describe('splitUsers', () => {
  it('holds out a seeded, disjoint validation set', () => {
    const users = makeUsers(50);
    const a = splitUsers(users, { trainUsers: 30, valFraction: 0.2, seed: 7 });
    const b = splitUsers(users, { trainUsers: 30, valFraction: 0.2, seed: 7 });
    expect(a).toEqual(b);
    expect(a.validation).toHaveLength(10);
    expect(a.train).toHaveLength(30);
    const val = new Set(a.validation.map((u) => u.userId));
    expect(a.train.some((u) => val.has(u.userId))).toBe(false);
  });

  it('uses an explicit validation set and removes its users from training', () => {
    const users = makeUsers(10);
    const s = splitUsers(users, { trainUsers: 100, validation: users.slice(0, 3), seed: 1 });
    expect(s.validation).toHaveLength(3);
    expect(s.train).toHaveLength(7);
  });
});
