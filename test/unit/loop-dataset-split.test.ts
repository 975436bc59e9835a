/**
 * Splitting a built dataset file by user (src/jobs/dataset-split.ts): every row lands unchanged in exactly
 * one file, no user is on both sides, the counts are right, no partial file is left (after success or a bad
 * row), and the split is the one `isHeldOut` decides (stable for a salt).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_LINE_CHARS } from '../../src/agp/dataset-lines.js';
import { InvalidInputError } from '../../src/errors.js';
import { splitDatasetFile } from '../../src/jobs/dataset-split.js';
import { isHeldOut } from '../../src/loop/holdout-split.js';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'loop-split-'))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

/** A canonical row (docs/loop.md "The row format"); `user` omitted when `withUser` is false. */
function row(user: string, requestId: string, withUser = true): string {
  return JSON.stringify({
    userId: `${user}#${requestId}`,
    ...(withUser ? { user } : {}),
    requestId,
    at: 1_764_806_400_000,
    history: [{ id: 'm-9', title: 'Heat — “quoted” ✓' }],
    candidates: [{ id: 'm-1', title: 'Alien', text: 'a\nb' }, { id: 'm-2', title: 'Ran' }],
    target: 'm-2',
  });
}

const linesOf = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
const userOfLine = (l: string) => (JSON.parse(l) as { userId: string }).userId.split('#')[0]!;

describe('splitDatasetFile', () => {
  it('puts every row, unchanged, on the side of its user, and counts rows and users', async () => {
    const rows: string[] = [];
    for (let u = 0; u < 300; u++) for (let r = 0; r <= u % 4; r++) rows.push(row(`u-${u}`, `req-${u}-${r}`, u % 5 !== 0));
    const input = join(dir, 'built.jsonl');
    // CRLF on some lines and a blank line: the copy normalises endings and drops blanks.
    await writeFile(input, rows.map((l, i) => (i % 7 === 0 ? `${l}\r\n` : `${l}\n`)).join('') + '\n');
    const trainOut = join(dir, 'out', 'train.jsonl');
    const holdoutOut = join(dir, 'out', 'holdout.jsonl');

    const counts = await splitDatasetFile(input, { share: 0.25, salt: 'run-1', trainOut, holdoutOut });

    const train = await linesOf(trainOut);
    const holdout = await linesOf(holdoutOut);
    expect([...train, ...holdout].sort()).toEqual([...rows].sort());
    const trainUsers = new Set(train.map(userOfLine));
    const holdoutUsers = new Set(holdout.map(userOfLine));
    expect([...holdoutUsers].filter((u) => trainUsers.has(u))).toEqual([]);
    expect([...holdoutUsers].every((u) => isHeldOut(u, 0.25, 'run-1'))).toBe(true);
    expect([...trainUsers].some((u) => isHeldOut(u, 0.25, 'run-1'))).toBe(false);
    expect(counts).toEqual({ trainRows: train.length, holdoutRows: holdout.length, trainUsers: trainUsers.size, holdoutUsers: holdoutUsers.size });
    expect(counts.trainUsers + counts.holdoutUsers).toBe(300);
    expect(counts.holdoutUsers).toBeGreaterThan(40);
    expect(counts.holdoutUsers).toBeLessThan(110);
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['holdout.jsonl', 'train.jsonl']);

    // Same salt, same split (a resumed run); another salt, another split.
    await splitDatasetFile(input, { share: 0.25, salt: 'run-1', trainOut, holdoutOut });
    expect(await linesOf(holdoutOut)).toEqual(holdout);
    await splitDatasetFile(input, { share: 0.25, salt: 'run-2', trainOut, holdoutOut });
    expect(await linesOf(holdoutOut)).not.toEqual(holdout);
  });

  it('writes empty files for an empty dataset', async () => {
    const input = join(dir, 'empty.jsonl');
    await writeFile(input, '');
    const counts = await splitDatasetFile(input, { share: 0.2, salt: 's', trainOut: join(dir, 't.jsonl'), holdoutOut: join(dir, 'h.jsonl') });
    expect(counts).toEqual({ trainRows: 0, holdoutRows: 0, trainUsers: 0, holdoutUsers: 0 });
    expect(await readFile(join(dir, 't.jsonl'), 'utf8')).toBe('');
    expect(await readFile(join(dir, 'h.jsonl'), 'utf8')).toBe('');
  });

  it('refuses a row without a user or not JSON, naming the line, and leaves no file behind', async () => {
    const opts = { share: 0.5, salt: 's', trainOut: join(dir, 'o', 't.jsonl'), holdoutOut: join(dir, 'o', 'h.jsonl') };
    const noUser = join(dir, 'no-user.jsonl');
    await writeFile(noUser, `${row('a', '1')}\n${JSON.stringify({ userId: '#x', history: [] })}\n`);
    const err = await splitDatasetFile(noUser, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toBe(`dataset "${noUser}" line 2 has no user (neither "user" nor "userId")`);
    expect(await readdir(join(dir, 'o'))).toEqual([]);

    const notJson = join(dir, 'not-json.jsonl');
    await writeFile(notJson, `${row('a', '1')}\n{"user":\n`);
    await expect(splitDatasetFile(notJson, opts)).rejects.toThrow(/line 2 is not valid JSON/);
    expect(await readdir(join(dir, 'o'))).toEqual([]);

    const long = join(dir, 'long.jsonl');
    await writeFile(long, `${row('a', '1')}\n{"user":"b","pad":"${'x'.repeat(MAX_LINE_CHARS)}"}\n${row('c', '1')}\n`);
    await expect(splitDatasetFile(long, opts)).rejects.toThrow(`line 2 is longer than ${MAX_LINE_CHARS} characters`);
    expect(await readdir(join(dir, 'o'))).toEqual([]);
  });

  it('fails on a missing input without leaving partial files, and refuses bad options', async () => {
    const opts = { share: 0.5, salt: 's', trainOut: join(dir, 't.jsonl'), holdoutOut: join(dir, 'h.jsonl') };
    await expect(splitDatasetFile(join(dir, 'missing.jsonl'), opts)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(dir)).toEqual([]);
    await expect(splitDatasetFile('x', { ...opts, share: 1.5 })).rejects.toThrow(RangeError);
    await expect(splitDatasetFile('x', { ...opts, holdoutOut: opts.trainOut })).rejects.toThrow(/must differ/);
  });
});
