/**
 * The canonical training/evaluation dataset: JSONL, one user per line,
 * `{userId, history:[{id,title,text?}], candidates:[{id,title,text?}], target | targets:[ids]}`.
 *
 * The readers validate line by line with bounded memory per line (see dataset-lines.ts), and return or
 * stream users only while everything so far is valid; a malformed file ends in a DatasetError, so it
 * never half-trains. Every problem names its 1-based line number and the reason, never the content.
 * No file I/O here: callers pass lines (the CLI and the job runner open the files).
 */
import { z } from 'zod';
import type { Item } from './types.js';
import { createRng } from './rng.js';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH, MAX_LINE_CHARS } from './dataset-lines.js';

/** One user of the dataset, validated: candidates have unique ids and every target is a candidate. */
export interface UserRecord {
  userId: string;
  /** Interaction history, oldest first. */
  history: Item[];
  /** The baseline recommender's list, in its order (the "base" ranking). */
  candidates: Item[];
  /** Ground-truth item ids (usually one). */
  targets: string[];
}

/** One problem found while reading a dataset. */
export interface DatasetIssue {
  line: number;
  message: string;
}

/** A dataset that failed validation; `issues` lists every problem found (up to a cap). */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  constructor(
    readonly source: string,
    readonly issues: DatasetIssue[],
  ) {
    const shown = issues.slice(0, 5).map((i) => `${source}:${i.line}: ${i.message}`);
    const more = issues.length > 5 ? `\n… and ${issues.length - 5} more problem(s)` : '';
    super(`invalid dataset ${source}:\n${shown.join('\n')}${more}`);
  }
}

const id = z.union([z.string().trim().min(1, 'must be a non-empty string'), z.number().finite()]).transform(String);

const itemSchema = z.object({
  id,
  title: z.string().trim().min(1, 'must be a non-empty string'),
  text: z.string().optional(),
});

const rowSchema = z
  .object({
    userId: id,
    history: z.array(itemSchema),
    candidates: z.array(itemSchema).min(1, 'must contain at least one candidate'),
    target: id.optional(),
    targets: z.array(id).min(1, 'must contain at least one id').optional(),
  })
  .refine((r) => (r.target === undefined) !== (r.targets === undefined), {
    message: 'exactly one of "target" or "targets" is required',
    path: ['target'],
  });

const MAX_ISSUES = 50;

function describeZod(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid row';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/**
 * Validates one parsed row; returns the record or a message. Messages name fields and positions, never
 * values: a dataset may hold user ids and private text, and its problems reach API answers and logs.
 */
function checkRow(raw: unknown): UserRecord | string {
  const parsed = rowSchema.safeParse(raw);
  if (!parsed.success) return describeZod(parsed.error);
  const r = parsed.data;
  const seen = new Map<string, number>();
  for (const [i, c] of r.candidates.entries()) {
    const first = seen.get(c.id);
    if (first !== undefined) return `candidates: duplicate candidate id (positions ${first + 1} and ${i + 1})`;
    seen.set(c.id, i);
  }
  const targets = r.targets ?? [r.target as string];
  if (new Set(targets).size !== targets.length) return 'targets: duplicate target id';
  for (const [i, t] of targets.entries()) {
    if (!seen.has(t)) return `${r.targets ? `targets.${i}` : 'target'}: not among the candidates`;
  }
  const strip = (it: z.output<typeof itemSchema>): Item =>
    it.text === undefined ? { id: it.id, title: it.title } : { id: it.id, title: it.title, text: it.text };
  return { userId: r.userId, history: r.history.map(strip), candidates: r.candidates.map(strip), targets };
}

/** JSON.parse's position of the error, when it gives one (never the text it quotes). */
function jsonErrorPosition(err: unknown): string {
  const at = /at position (\d+)/.exec(err instanceof Error ? err.message : '');
  return at ? ` at character ${Number(at[1]) + 1}` : '';
}

/** Bounds on what one line may cost to read. */
export interface DatasetLimits {
  /** Longest line accepted, in characters (default MAX_LINE_CHARS). */
  maxLineChars?: number | undefined;
  /** Deepest JSON nesting accepted (default MAX_JSON_DEPTH). */
  maxDepth?: number | undefined;
}

/**
 * Validates a dataset one line (or one parsed entry) at a time, keeping only what the checks across
 * lines need: the line of every user id seen, and the problems found (up to 50).
 */
export class DatasetValidator {
  private lineNo = 0;
  private readonly issues: DatasetIssue[] = [];
  private readonly firstLine = new Map<string, number>();
  private users = 0;
  private stopped = false;
  private readonly maxLineChars: number;
  private readonly maxDepth: number;

  constructor(
    readonly source: string,
    limits: DatasetLimits = {},
  ) {
    this.maxLineChars = limits.maxLineChars ?? MAX_LINE_CHARS;
    this.maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  }

  /** True once a problem was found: later users are still checked but no longer returned. */
  get failed(): boolean {
    return this.issues.length > 0;
  }

  /** True once reading on is pointless: enough problems are known, or a line was too long to be a row. */
  get saturated(): boolean {
    return this.stopped || this.issues.length >= MAX_ISSUES;
  }

  /** Validates the next line (blank lines count but are skipped). Returns the user while all is valid. */
  line(text: string): UserRecord | undefined {
    this.lineNo += 1;
    if (text.length > this.maxLineChars) {
      // Not a dataset (a binary or a dump): stop rather than read, say, 500 MB more of it.
      this.stopped = true;
      return this.fail(`line is longer than ${this.maxLineChars} characters`);
    }
    if (text.trim() === '') return undefined;
    // JSON.parse would build any depth; a row is 3 deep, so refuse deep text before building it.
    if (jsonNestsDeeperThan(text, this.maxDepth)) return this.fail(`JSON nests deeper than ${this.maxDepth} levels`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return this.fail(`invalid JSON${jsonErrorPosition(err)}`);
    }
    return this.check(raw);
  }

  /** Validates the next entry, already parsed (inline users; entry numbers play the part of lines). */
  value(raw: unknown): UserRecord | undefined {
    this.lineNo += 1;
    return this.check(raw);
  }

  /** @throws DatasetError listing every problem found, or when there were no users at all. */
  finish(): void {
    if (this.issues.length > 0) throw new DatasetError(this.source, this.issues);
    if (this.users === 0) throw new DatasetError(this.source, [{ line: 0, message: 'no users (the input is empty)' }]);
  }

  private check(raw: unknown): UserRecord | undefined {
    const rec = checkRow(raw);
    if (typeof rec === 'string') return this.fail(rec);
    const prev = this.firstLine.get(rec.userId);
    if (prev !== undefined) return this.fail(`userId: duplicate of line ${prev}`);
    this.firstLine.set(rec.userId, this.lineNo);
    this.users += 1;
    return this.failed ? undefined : rec;
  }

  private fail(message: string): undefined {
    if (this.issues.length < MAX_ISSUES) this.issues.push({ line: this.lineNo, message });
    return undefined;
  }
}

/**
 * Streams the users of a canonical JSONL dataset, in file order, validating as it goes. Once a line is
 * invalid no further user is yielded; the rest is still checked (up to 50 problems) and the generator
 * then throws. Memory: one line at a time, plus the user ids seen (for the duplicate check).
 * @param lines the file's lines (see splitLines), e.g. from a file stream opened by the caller.
 * @throws DatasetError listing each bad line (line number and what is wrong).
 */
export async function* streamDataset(
  lines: AsyncIterable<string> | Iterable<string>,
  source = '<input>',
  limits?: DatasetLimits,
): AsyncGenerator<UserRecord> {
  const v = new DatasetValidator(source, limits);
  for await (const line of lines) {
    const user = v.line(line);
    if (user) yield user;
    if (v.saturated) break;
  }
  v.finish();
}

/**
 * Reads and validates a whole dataset into memory (training needs every user for its batches). Nothing is
 * returned unless every line is valid; after the first problem no more users are kept.
 * @throws DatasetError listing each bad line.
 */
export async function readDataset(lines: AsyncIterable<string> | Iterable<string>, source = '<input>', limits?: DatasetLimits): Promise<UserRecord[]> {
  const users: UserRecord[] = [];
  for await (const u of streamDataset(lines, source, limits)) users.push(u);
  return users;
}

/**
 * Parses and validates a canonical JSONL dataset held in a string. Blank lines are ignored.
 * @param source a name for messages (usually the file path).
 * @throws DatasetError listing each bad line (line number and what is wrong); nothing is returned
 *   unless every line is valid.
 */
export function parseDataset(text: string, source = '<input>'): UserRecord[] {
  return validateAll(text.split(/\r?\n/), source, (v, line) => v.line(line));
}

/** Validates users given as parsed values (entry numbers play the part of line numbers). */
export function parseUserValues(values: readonly unknown[], source = '<input>'): UserRecord[] {
  return validateAll(values, source, (v, raw) => v.value(raw));
}

function validateAll<T>(inputs: Iterable<T>, source: string, check: (v: DatasetValidator, input: T) => UserRecord | undefined): UserRecord[] {
  const v = new DatasetValidator(source);
  const users: UserRecord[] = [];
  for (const input of inputs) {
    const user = check(v, input);
    if (user) users.push(user);
    if (v.saturated) break;
  }
  v.finish();
  return users;
}

/** Serialises one user as a canonical JSONL line (`target` when there is exactly one). */
export function serializeUser(u: UserRecord): string {
  const { targets, ...rest } = u;
  return JSON.stringify(targets.length === 1 ? { ...rest, target: targets[0] } : { ...rest, targets });
}

/** How to carve training and validation users out of the data. */
export interface SplitOptions {
  /** Maximum number of training users (paper: 100). */
  trainUsers: number;
  /** Explicit validation users; when given, nothing is held out of `users`. */
  validation?: UserRecord[] | undefined;
  /** Fraction of `users` held out for validation when no validation set is given (default 0.2). */
  valFraction?: number | undefined;
  /** Caps (or, with no validation set, fixes) the number of validation users. */
  valUsers?: number | undefined;
  seed: number;
}

/** Disjoint training and validation users. */
export interface Split {
  train: UserRecord[];
  validation: UserRecord[];
}

/**
 * Seeded, reproducible split. With an explicit validation set, users present in both are removed from
 * training (train and validation stay disjoint).
 */
export function splitUsers(users: UserRecord[], opts: SplitOptions): Split {
  const rng = createRng(opts.seed);
  if (opts.validation) {
    const valIds = new Set(opts.validation.map((u) => u.userId));
    const train = rng.shuffle(users.filter((u) => !valIds.has(u.userId))).slice(0, opts.trainUsers);
    const validation = opts.valUsers === undefined ? opts.validation : opts.validation.slice(0, opts.valUsers);
    return { train, validation };
  }
  const shuffled = rng.shuffle([...users]);
  const frac = opts.valFraction ?? 0.2;
  const nVal = opts.valUsers ?? Math.max(1, Math.round(shuffled.length * frac));
  if (nVal >= shuffled.length) throw new RangeError(`cannot hold out ${nVal} validation users from ${shuffled.length}`);
  return { validation: shuffled.slice(0, nVal), train: shuffled.slice(nVal, nVal + opts.trainUsers) };
}
