/**
 * Splits a built dataset (canonical JSONL, one row per exposure: docs/loop.md "The row format") into the
 * rows a loop run trains on and the rows of the held-out users its offline gate scores on. Rows are grouped
 * by the real user (`user`; `userId` is `<user>#<requestId>`), so no person is on both sides, and which side
 * is decided by `isHeldOut` (src/loop/holdout-split.ts), a salted hash: a resumed run re-splits identically.
 *
 * Streaming: lines are read one at a time with a length cap (src/agp/dataset-lines.ts, not node:readline,
 * which would buffer an endless line whole) and written with backpressure, each output to `<out>.partial`
 * renamed into place only when the whole input was read, so a crash leaves no half file to train on.
 * Memory is the two sets of distinct user ids (to count users exactly; the gate needs minHoldoutUsers),
 * O(users), not O(rows): a user has many exposures, and the rows themselves are never held.
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH, MAX_LINE_CHARS, splitLines } from '../agp/dataset-lines.js';
import { validationError } from '../errors.js';
import { isHeldOut } from '../loop/holdout-split.js';
import { openDatasetFile, type DatasetFile } from './dataset-writer.js';

/** Where and how to split. */
export interface DatasetSplitOptions {
  /** Share of users held out, in [0, 1] (a schedule's gate.holdoutShare). */
  share: number;
  /** Salt of the user hash (the runId): the same salt gives the same split. */
  salt: string;
  /** The training rows' file (its directory is created). */
  trainOut: string;
  /** The held-out rows' file (its directory is created). */
  holdoutOut: string;
}

/** What went where: rows and distinct users on each side. */
export interface DatasetSplitCounts {
  trainRows: number;
  holdoutRows: number;
  trainUsers: number;
  holdoutUsers: number;
}

/** The real user of a row: `user`, else the part of `userId` before the first `#`. */
function userOf(line: string, lineNo: number, path: string): string {
  if (jsonNestsDeeperThan(line, MAX_JSON_DEPTH)) throw validationError(`dataset "${path}" line ${lineNo}: JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch {
    throw validationError(`dataset "${path}" line ${lineNo} is not valid JSON`);
  }
  if (typeof row === 'object' && row !== null && !Array.isArray(row)) {
    const { user, userId } = row as { user?: unknown; userId?: unknown };
    if (typeof user === 'string' && user !== '') return user;
    if (typeof userId === 'string') {
      const head = userId.split('#', 1)[0] ?? '';
      if (head !== '') return head;
    }
  }
  throw validationError(`dataset "${path}" line ${lineNo} has no user (neither "user" nor "userId")`);
}

/**
 * Streams the dataset at `path` into `opts.trainOut` and `opts.holdoutOut`, each row copied unchanged (line
 * endings normalised to `\n`; blank lines dropped). Resolves the counts once both files are in place.
 * Re-running with the same options rewrites the same two files.
 * @throws a validationError (VALIDATION_ERROR) naming the line when a row is too long, not JSON or has no
 *   user; nothing is left behind then (the partial files are removed).
 */
export async function splitDatasetFile(path: string, opts: DatasetSplitOptions): Promise<DatasetSplitCounts> {
  if (!(opts.share >= 0 && opts.share <= 1)) throw new RangeError(`holdout share must be in [0, 1], got ${opts.share}`);
  if (resolve(opts.trainOut) === resolve(opts.holdoutOut)) throw new RangeError('the train and holdout files must differ');
  const counts: DatasetSplitCounts = { trainRows: 0, holdoutRows: 0, trainUsers: 0, holdoutUsers: 0 };
  const trainUsers = new Set<string>();
  const holdoutUsers = new Set<string>();
  const opened: DatasetFile[] = [];
  try {
    const train = await openDatasetFile(opts.trainOut);
    opened.push(train);
    const holdout = await openDatasetFile(opts.holdoutOut);
    opened.push(holdout);
    const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 }) as AsyncIterable<string>;
    let lineNo = 0;
    for await (const line of splitLines(input, MAX_LINE_CHARS)) {
      lineNo++;
      if (line.length > MAX_LINE_CHARS) throw validationError(`dataset "${path}" line ${lineNo} is longer than ${MAX_LINE_CHARS} characters`);
      if (line.trim() === '') continue;
      const user = userOf(line, lineNo, path);
      if (isHeldOut(user, opts.share, opts.salt)) {
        holdoutUsers.add(user);
        counts.holdoutRows++;
        await holdout.sink.write(`${line}\n`);
      } else {
        trainUsers.add(user);
        counts.trainRows++;
        await train.sink.write(`${line}\n`);
      }
    }
    // Holdout first: a run that finds the train file in place may take the split as done.
    await holdout.commit();
    await train.commit();
  } catch (err) {
    await Promise.all(opened.map((f) => f.abort()));
    throw err;
  }
  counts.trainUsers = trainUsers.size;
  counts.holdoutUsers = holdoutUsers.size;
  return counts;
}
