/**
 * Entry point of the converters: public dataset files + a baseline ranking → canonical users.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { UserRecord } from '../../agp/dataset.js';
import { serializeUser } from '../../agp/dataset.js';
import type { ConvertSummary } from './core.js';
import { convertWith, parseRankingFile } from './core.js';
import type { FormatName } from './formats.js';
import { formatSpec } from './formats.js';
import { ConvertError } from './records.js';

export { ConvertError } from './records.js';
export type { ConvertSummary, DropCounts } from './core.js';
export { FORMATS } from './formats.js';
export type { FormatName } from './formats.js';

/** Inputs of one conversion. */
export interface ConvertRequest {
  format: FormatName;
  /** Interactions file (ratings.csv, .inter, reviews JSONL, …; .gz accepted). */
  interactions: string;
  /** Item metadata file (movies.csv, .item, meta JSONL, business.json, books JSON; .gz accepted). */
  items: string;
  /** JSON map userId → ranked item ids (the baseline recommender's output). */
  ranking: string;
  k: number;
  split: 'test' | 'valid';
  maxHistory?: number | undefined;
}

/** Converts; throws ConvertError naming file and line for bad input. */
export async function convertDataset(req: ConvertRequest): Promise<{ users: UserRecord[]; summary: ConvertSummary }> {
  let rankingText: string;
  try {
    rankingText = await readFile(req.ranking, 'utf8');
  } catch (err) {
    throw new ConvertError(`cannot read ranking file (${(err as Error).message})`, req.ranking);
  }
  const ranking = parseRankingFile(rankingText, req.ranking);
  const spec = formatSpec(req.format, req);
  return convertWith(spec, {
    interactionsFile: req.interactions,
    itemsFile: req.items,
    ranking,
    k: req.k,
    split: req.split,
    maxHistory: req.maxHistory,
  });
}

/** Writes users as canonical JSONL. */
export async function writeUsers(file: string, users: UserRecord[]): Promise<void> {
  await writeFile(file, users.map(serializeUser).join('\n') + (users.length > 0 ? '\n' : ''), 'utf8');
}

/** One human-readable paragraph for stderr. */
export function describeSummary(s: ConvertSummary): string {
  const d = s.dropped;
  const droppedTotal = d.not_in_ranking + d.no_interactions + d.too_few_interactions + d.target_not_in_top_k;
  return [
    `converted ${s.format} (${s.split} split, top-${s.k}): ${s.interactions} interactions, ${s.users} users`,
    `  kept ${s.kept}, dropped ${droppedTotal}:`,
    `    target not in baseline top-${s.k}: ${d.target_not_in_top_k}`,
    `    too few interactions for the split: ${d.too_few_interactions}`,
    `    not in the ranking file: ${d.not_in_ranking}`,
    `    in the ranking file but no interactions: ${d.no_interactions}`,
    s.itemsWithoutTitle > 0 ? `  ${s.itemsWithoutTitle} item(s) had no title; their id is used as the title` : '',
  ]
    .filter(Boolean)
    .join('\n');
}
