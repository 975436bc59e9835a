/**
 * Dataset files of training jobs: a `{path}` is confined to TRAINING_DATA_DIR (realpath, so `..`, outside
 * absolute paths and escaping symlinks are refused), size-checked before a byte is read, and streamed
 * line by line through the same parser as the CLI (src/agp/dataset.ts), with a line-length cap and a
 * nesting bound before JSON.parse. Every problem is a 400 VALIDATION_ERROR naming the file, the line and
 * the reason, never the file's content.
 */
import { createReadStream } from 'node:fs';
import { open, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { UserRecord } from '../agp/dataset.js';
import { DatasetError, parseUserValues, readDataset } from '../agp/dataset.js';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH, splitLines } from '../agp/dataset-lines.js';
import { validationError } from '../errors.js';
import type { DatasetRef } from './training-jobs.js';

/**
 * Dataset files larger than this are refused before a byte is read. A job keeps every user in memory
 * (training draws batches from them) as parsed objects, which take more room than their text, so the cap
 * is what keeps a job's heap inside the chart's 512 Mi limit.
 */
export const MAX_DATASET_BYTES = 64 * 1024 * 1024;

/** A dataset file holding one JSON array is parsed whole, so it gets a smaller cap than JSONL. */
export const MAX_JSON_ARRAY_DATASET_BYTES = 16 * 1024 * 1024;

/** True when `child` is `root` itself or lies beneath it. */
function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Resolves a dataset path against the data directory and confines it there. The lexical check refuses
 * `..` escapes and absolute paths elsewhere; the realpath check refuses symlinks pointing outside.
 * @throws a validationError (VALIDATION_ERROR) when the path escapes, does not exist or is not a regular file.
 */
export async function resolveDatasetPath(dataDir: string, path: string): Promise<string> {
  if (path.includes('\0')) throw validationError('dataset path is invalid');
  let root: string;
  try {
    root = await realpath(resolve(dataDir));
  } catch {
    throw validationError('the training data directory (TRAINING_DATA_DIR) does not exist');
  }
  const outside = () => validationError(`dataset path "${path}" is outside the training data directory`);
  const candidate = resolve(root, path);
  if (!isInside(root, candidate) || candidate === root) throw outside();
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw validationError(`dataset file "${path}" not found in the training data directory`);
  }
  if (!isInside(root, real) || real === root) throw outside();
  const st = await stat(real);
  if (!st.isFile()) throw validationError(`dataset path "${path}" is not a regular file`);
  if (st.size > MAX_DATASET_BYTES) throw validationError(`dataset file "${path}" is larger than ${MAX_DATASET_BYTES} bytes`);
  return real;
}

function toValidationError(err: unknown): unknown {
  if (err instanceof DatasetError) {
    return validationError(err.message, { issues: err.issues.slice(0, 50) });
  }
  return err;
}

/** True when the file's first non-blank character (within its first 64 KiB) opens a JSON array. */
async function startsWithArray(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read({ buffer: Buffer.alloc(64 * 1024), position: 0 });
    return buffer.toString('utf8', 0, bytesRead).trimStart().startsWith('[');
  } finally {
    await fh.close();
  }
}

/**
 * A dataset file holding one JSON array of users: size-capped, refused when nested deeper than a row
 * can be, then parsed whole. Messages name the file and the reason, never its content.
 */
async function readJsonArrayFile(file: string, path: string, label: string): Promise<UserRecord[]> {
  const { size } = await stat(file);
  if (size > MAX_JSON_ARRAY_DATASET_BYTES) {
    throw validationError(`${label} file "${path}" is a JSON array larger than ${MAX_JSON_ARRAY_DATASET_BYTES} bytes; use JSONL (one user per line)`);
  }
  const text = await readFile(file, 'utf8');
  // The array adds one level to a row's nesting.
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH + 1)) throw validationError(`${label} file "${path}": JSON nests deeper than ${MAX_JSON_DEPTH + 1} levels`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw validationError(`${label} file "${path}" is not valid JSON`);
  }
  if (!Array.isArray(parsed)) throw validationError(`${label} file "${path}" is not an array of users`);
  return parseUserValues(parsed, path);
}

/**
 * Loads and validates the users of a dataset reference: inline users, or a JSONL file (a file holding a
 * JSON array of users is accepted too) confined to the data directory. A JSONL file is streamed: its size
 * is checked first, lines are read one at a time with a length cap, and a line's nesting is bounded
 * before it is parsed, so a hostile file costs bounded memory.
 * @throws a validationError (VALIDATION_ERROR) on a bad path, a file too large or invalid users (with
 *   line/entry numbered issues in `details`).
 */
export async function loadDatasetRef(ref: DatasetRef, dataDir: string, label: string): Promise<UserRecord[]> {
  try {
    if ('users' in ref) return parseUserValues(ref.users, `${label}.users`);
    const file = await resolveDatasetPath(dataDir, ref.path);
    if (await startsWithArray(file)) return await readJsonArrayFile(file, ref.path, label);
    return await readDataset(splitLines(createReadStream(file, { encoding: 'utf8', highWaterMark: 64 * 1024 }) as AsyncIterable<string>), ref.path);
  } catch (err) {
    throw toValidationError(err);
  }
}

