/**
 * The canonical training/evaluation dataset: JSONL, one user per line,
 * `{userId, history:[{id,title,text?}], candidates:[{id,title,text?}], target | targets:[ids]}`.
 *
 * The reader validates the WHOLE input before returning anything, so a malformed file never
 * half-trains; every problem names its 1-based line number. No file I/O here: callers pass text
 * (the CLI reads the file).
 */
import { z } from 'zod';
import type { Item } from './types.js';
import { createRng } from './rng.js';

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

/** Validates one parsed row; returns the record or a message. */
function checkRow(raw: unknown): UserRecord | string {
  const parsed = rowSchema.safeParse(raw);
  if (!parsed.success) return describeZod(parsed.error);
  const r = parsed.data;
  const seen = new Map<string, number>();
  for (const [i, c] of r.candidates.entries()) {
    const first = seen.get(c.id);
    if (first !== undefined) return `candidates: duplicate candidate id "${c.id}" (positions ${first + 1} and ${i + 1})`;
    seen.set(c.id, i);
  }
  const targets = r.targets ?? [r.target as string];
  if (new Set(targets).size !== targets.length) return 'targets: duplicate target id';
  for (const t of targets) {
    if (!seen.has(t)) return `target "${t}" is not among the candidates`;
  }
  const strip = (it: z.output<typeof itemSchema>): Item =>
    it.text === undefined ? { id: it.id, title: it.title } : { id: it.id, title: it.title, text: it.text };
  return { userId: r.userId, history: r.history.map(strip), candidates: r.candidates.map(strip), targets };
}

/**
 * Parses and validates a canonical JSONL dataset. Blank lines are ignored.
 * @param source a name for messages (usually the file path).
 * @throws DatasetError listing each bad line (line number and what is wrong); nothing is returned
 *   unless every line is valid.
 */
export function parseDataset(text: string, source = '<input>'): UserRecord[] {
  const users: UserRecord[] = [];
  const issues: DatasetIssue[] = [];
  const firstLine = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (issues.length >= MAX_ISSUES) break;
    const lineNo = i + 1;
    if (line.trim() === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      issues.push({ line: lineNo, message: `invalid JSON (${(err as Error).message})` });
      continue;
    }
    const rec = checkRow(raw);
    if (typeof rec === 'string') {
      issues.push({ line: lineNo, message: rec });
      continue;
    }
    const prev = firstLine.get(rec.userId);
    if (prev !== undefined) {
      issues.push({ line: lineNo, message: `duplicate userId "${rec.userId}" (first on line ${prev})` });
      continue;
    }
    firstLine.set(rec.userId, lineNo);
    users.push(rec);
  }
  if (issues.length > 0) throw new DatasetError(source, issues);
  if (users.length === 0) throw new DatasetError(source, [{ line: 0, message: 'no users (the input is empty)' }]);
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
