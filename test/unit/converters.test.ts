import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConvertError, convertDataset, writeUsers } from '../../src/cli/converters/index.js';
import type { FormatName } from '../../src/cli/converters/index.js';
import { readRecords } from '../../src/cli/converters/records.js';
import { parseGoodreadsDate, parseUtcDateTime } from '../../src/cli/converters/formats.js';
import { parseDataset } from '../../src/agp/dataset.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'converters');

/**
 * Every fixture encodes the same story (see test/fixtures/converters/*):
 * A: i1 < i2 < i3 < i4; ranking top-3 [i4, i9, i3]       → test target i4 kept; valid target i3 kept
 * B: i5 < i7 < i6 (file order i5, i6, i7); top-3 [i1, i2, i7] → test target i6 dropped (not in top-k); valid i7 kept
 * C: one interaction                                      → too few for either split
 * D: interactions, no ranking entry                      → not in ranking
 * E: ranking entry, no interactions                      → no interactions
 * i9 has no metadata (its id becomes its title).
 */
interface Case {
  files: { interactions: string; items: string };
  user: (k: string) => string;
  item: (k: string) => string;
  bad: string;
}
const u = (k: string) => `u${k}`;
const same = (k: string) => k;
const CASES: Record<FormatName, Case> = {
  recbole: { files: { interactions: 'ml.inter', items: 'ml.item' }, user: u, item: same, bad: 'uA\ti1' },
  movielens: {
    files: { interactions: 'ratings.csv', items: 'movies.csv' },
    user: (k) => String('ABCDE'.indexOf(k) + 1),
    item: (k) => String(100 + Number(k.slice(1))),
    bad: '1,"101,4.0,1',
  },
  amazon2018: { files: { interactions: 'reviews.jsonl', items: 'meta.jsonl' }, user: u, item: same, bad: '{"reviewerID": "uA", ' },
  amazon2023: { files: { interactions: 'reviews.jsonl', items: 'meta.jsonl' }, user: u, item: same, bad: '[1, 2]' },
  yelp: { files: { interactions: 'review.json', items: 'business.json' }, user: u, item: same, bad: '{"user_id": "uA", "business_id": "i1", "date": "yesterday"}' },
  goodreads: {
    files: { interactions: 'interactions.json', items: 'books.json' },
    user: u,
    item: (k) => String(5000 + Number(k.slice(1))),
    bad: '{"user_id": "uA"}',
  },
};

const TITLES: Record<string, string> = {
  i1: 'Heat, The (1995)',
  i2: 'Say "Hello"',
  i3: 'Alien',
  i4: 'Blade Runner',
  i5: 'Up',
  i6: 'Jaws',
  i7: 'Rocky',
};

function run(format: FormatName, split: 'test' | 'valid', interactions?: string) {
  const c = CASES[format];
  return convertDataset({
    format,
    interactions: interactions ?? join(FIX, format, c.files.interactions),
    items: join(FIX, format, c.files.items),
    ranking: join(FIX, format, 'ranking.json'),
    k: 3,
    split,
  });
}

describe.each(Object.keys(CASES) as FormatName[])('convert --format %s', (format) => {
  const c = CASES[format];

  it('test split: leave-one-out, top-k join, titles, kept/dropped counts', async () => {
    const { users, summary } = await run(format, 'test');
    expect(summary).toMatchObject({
      format,
      split: 'test',
      k: 3,
      interactions: 10,
      users: 5,
      kept: 1,
      dropped: { target_not_in_top_k: 1, too_few_interactions: 1, not_in_ranking: 1, no_interactions: 1 },
      itemsWithoutTitle: 1,
    });
    expect(users).toHaveLength(1);
    const a = users[0];
    expect(a?.userId).toBe(c.user('A'));
    expect(a?.targets).toEqual([c.item('i4')]);
    expect(a?.history.map((h) => h.id)).toEqual(['i1', 'i2', 'i3'].map(c.item));
    expect(a?.history.map((h) => h.title)).toEqual([TITLES.i1, TITLES.i2, TITLES.i3]);
    expect(a?.candidates.map((x) => x.id)).toEqual(['i4', 'i9', 'i3'].map(c.item));
    expect(a?.candidates[1]?.title).toBe(`item ${c.item('i9')}`);
  });

  it('valid split: second-latest target, history before it, time order not file order', async () => {
    const { users, summary } = await run(format, 'valid');
    expect(summary.kept).toBe(2);
    expect(summary.dropped.target_not_in_top_k).toBe(0);
    const [a, b] = users;
    expect(a?.targets).toEqual([c.item('i3')]);
    expect(a?.history.map((h) => h.id)).toEqual(['i1', 'i2'].map(c.item));
    expect(b?.userId).toBe(c.user('B'));
    expect(b?.targets).toEqual([c.item('i7')]);
    expect(b?.history.map((h) => h.title)).toEqual([TITLES.i5]);
  });

  it('output is a valid canonical dataset', async () => {
    const { users } = await run(format, 'valid');
    const out = join(await mkdtemp(join(tmpdir(), 'agp-conv-')), 'users.jsonl');
    await writeUsers(out, users);
    expect(parseDataset(await readFile(out, 'utf8'))).toEqual(users);
  });

  it('a malformed line fails with the file and line number', async () => {
    const src = await readFile(join(FIX, format, c.files.interactions), 'utf8');
    const lines = src.split('\n');
    lines.splice(2, 0, c.bad); // becomes line 3
    const file = join(await mkdtemp(join(tmpdir(), 'agp-conv-')), c.files.interactions);
    await writeFile(file, lines.join('\n'));
    const err = await run(format, 'test', file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConvertError);
    expect((err as ConvertError).line).toBe(3);
    expect((err as ConvertError).message).toContain(`${file}:3:`);
  });
});

describe('converter helpers', () => {
  it('parses quoted CSV fields: commas, doubled quotes and line breaks, numbered by their first line', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'agp-conv-')), 'movies.csv');
    const csv = 'movieId,title,genres\r\n1,"Heat, The (1995)","Say ""Hi"""\r\n2,"A title\nover ""two"" lines",Drama\n\n3,Plain "quoted" word,x\n';
    await writeFile(file, csv);
    const got = [];
    for await (const r of readRecords(file, { kind: 'csv' })) got.push(r);
    expect(got).toEqual([
      { line: 2, record: { movieId: '1', title: 'Heat, The (1995)', genres: 'Say "Hi"' } },
      { line: 3, record: { movieId: '2', title: 'A title\nover "two" lines', genres: 'Drama' } },
      { line: 6, record: { movieId: '3', title: 'Plain "quoted" word', genres: 'x' } },
    ]);
  });

  it('an unclosed CSV quote fails naming the line the record starts on', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'agp-conv-')), 'movies.csv');
    await writeFile(file, 'a,b\n1,2\n\n3,"open\n4,5\n');
    const err = await (async () => {
      for await (const r of readRecords(file, { kind: 'csv' })) void r;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConvertError);
    expect((err as ConvertError).line).toBe(4);
    expect((err as ConvertError).message).toMatch(/movies\.csv:4: malformed record \(Quote Not Closed/);
  });

  it('parses dates as UTC / with their offset', () => {
    expect(parseUtcDateTime('2016-03-09 00:44:42')).toBe(Date.UTC(2016, 2, 9, 0, 44, 42));
    expect(parseGoodreadsDate('Thu Dec 17 10:31:20 -0800 2015')).toBe(Date.UTC(2015, 11, 17, 18, 31, 20));
  });

  it('rejects a ranking file that is not a map of lists', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agp-conv-'));
    await writeFile(join(dir, 'r.json'), '{"u1": "i1"}');
    await expect(
      convertDataset({ format: 'yelp', interactions: 'x', items: 'y', ranking: join(dir, 'r.json'), k: 3, split: 'test' }),
    ).rejects.toThrow('expected an array of item ids');
  });
});
