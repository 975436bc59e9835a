/**
 * File I/O of the CLI: datasets, the file checkpoint store (write-temp-then-rename), the JSONL trace
 * sink, argument helpers and the usage error. The method (src/agp) never touches files itself.
 */
import { appendFileSync, closeSync, createReadStream, openSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { UserRecord } from '../agp/dataset.js';
import { readDataset } from '../agp/dataset.js';
import { splitLines } from '../agp/dataset-lines.js';
import type { CheckpointStore, TrainingCheckpoint } from '../agp/checkpoint.js';
import { parseCheckpoint } from '../agp/checkpoint.js';
import type { TraceEntry, TraceSink } from '../agp/trace.js';
import { parseTrace } from '../agp/trace.js';

/** Wrong invocation: exit code 2 with one clear message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function readError(err: unknown, file: string, what: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  return new Error(`cannot read ${what} ${file}${code === 'ENOENT' ? ': no such file' : `: ${(err as Error).message}`}`);
}

/** Reads a file, turning "not found" into a one-line runtime error naming the file. */
export async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw readError(err, file, what);
  }
}

/**
 * Streams the lines of a text file (64 KiB at a time; overlong lines cut, see splitLines). A read error
 * is a one-line runtime error naming the file.
 */
export async function* readLinesOf(file: string, what: string): AsyncGenerator<string> {
  try {
    yield* splitLines(createReadStream(file, { encoding: 'utf8', highWaterMark: 64 * 1024 }) as AsyncIterable<string>);
  } catch (err) {
    throw readError(err, file, what);
  }
}

/** Reads and validates a canonical JSONL dataset (every line, before anything runs), streaming the file. */
export async function readDatasetFile(file: string): Promise<UserRecord[]> {
  return readDataset(readLinesOf(file, 'dataset'), file);
}

/** Reads a JSONL trace written by `agp train`. */
export async function readTraceFile(file: string): Promise<TraceEntry[]> {
  return parseTrace(await readText(file, 'trace'), file);
}

/** Writes a file atomically: a temp file in the same directory, then rename. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, 'utf8');
  await rename(tmp, file);
}

/** A CheckpointStore on one JSON file; saves are atomic (temp + rename). */
export function createFileCheckpointStore(file: string): CheckpointStore {
  return {
    async load(): Promise<TrainingCheckpoint | null> {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
      return parseCheckpoint(text, file);
    },
    save: (c) => writeFileAtomic(file, `${JSON.stringify(c)}\n`),
  };
}

/**
 * A synchronous JSONL trace sink (every entry is on disk before the next call starts, so a crash loses
 * nothing). `append` keeps an existing trace (resume); otherwise the file is truncated.
 */
export function createJsonlTraceSink(file: string, append: boolean): TraceSink {
  if (!append) writeFileSync(file, '');
  else closeSync(openSync(file, 'a'));
  return (entry) => appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

/** Parses an integer option; throws UsageError naming the flag. */
export function intOpt(v: string | undefined, flag: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} must be an integer >= ${min}, got "${v}"`);
  return n;
}

/** Parses a number option; throws UsageError naming the flag. */
export function numOpt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got "${v}"`);
  return n;
}

/** Requires an option. */
export function required(v: string | undefined, flag: string): string {
  if (v === undefined || v === '') throw new UsageError(`--${flag} is required`);
  return v;
}

/** Checks an enumerated option. */
export function oneOf<T extends string>(v: string | undefined, flag: string, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}
