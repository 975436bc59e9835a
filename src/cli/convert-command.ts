/**
 * `agp convert`: public dataset + baseline ranking → canonical users JSONL (leave-one-out split).
 */
import { parseArgs } from 'node:util';
import { convertDataset, describeSummary, FORMATS, writeUsers } from './converters/index.js';
import { intOpt, oneOf, required } from './cli-io.js';

export const CONVERT_USAGE = `usage: agp convert --format ${FORMATS.join('|')} \\
    --interactions FILE --items FILE --ranking ranking.json --out users.jsonl [options]
  --k N                candidates per user: the ranking's top-k (default 10)
  --split test|valid   latest interaction (test) or second latest (valid) is the target (default test)
  --max-history N      keep at most the N most recent history items (default 50)
  --json               print the summary as JSON on stdout
  files: recbole .inter/.item; movielens ratings.csv/movies.csv (or .dat); amazon2018/2023 reviews/meta
  JSONL; yelp review.json/business.json; goodreads interactions/books JSON. .gz is read transparently.`;

/** Runs `agp convert`; returns the exit code. */
export async function convertCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      format: { type: 'string' },
      interactions: { type: 'string' },
      items: { type: 'string' },
      ranking: { type: 'string' },
      k: { type: 'string' },
      split: { type: 'string' },
      'max-history': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const format = oneOf(required(v.format, 'format'), 'format', FORMATS) as (typeof FORMATS)[number];
  const out = required(v.out, 'out');
  const { users, summary } = await convertDataset({
    format,
    interactions: required(v.interactions, 'interactions'),
    items: required(v.items, 'items'),
    ranking: required(v.ranking, 'ranking'),
    k: intOpt(v.k, 'k', 1) ?? 10,
    split: oneOf(v.split, 'split', ['test', 'valid'] as const) ?? 'test',
    maxHistory: intOpt(v['max-history'], 'max-history', 1),
  });
  await writeUsers(out, users);
  process.stderr.write(`${describeSummary(summary)}\nwrote ${users.length} users to ${out}\n`);
  if (v.json) process.stdout.write(`${JSON.stringify({ ...summary, out })}\n`);
  return users.length > 0 ? 0 : 1;
}
