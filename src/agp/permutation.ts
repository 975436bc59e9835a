/**
 * The one parser of ranking answers. Models answer in many shapes (tags, JSON, the authors' markers,
 * numbered lists, letters, prose); every shape is turned into a full permutation so a sloppy answer
 * repairs into a usable ranking instead of scoring zero, and a useless one falls back to the baseline.
 */
import { answerTail, findTags, pairTags, stripThink } from './answer-tags.js';
import type { LabelIssues, ParseOutcome } from './types.js';

export type { LabelIssues } from './types.js';

export { stripThink };

/** A parsed ranking. `order` is always a full permutation of 0..n-1. */
export interface ParsedRanking {
  /** 0-based candidate indices, best first; always a permutation of 0..n-1. */
  order: number[];
  outcome: ParseOutcome;
  /** Distinct valid labels the answer supplied (before missing candidates were appended). */
  rankedCount: number;
  /** Valid labels repeated after their first mention (ignored). */
  duplicates: number;
  /** Labels out of range or not matching any candidate (ignored). */
  unknown: number;
  /** Parse-quality counts for telemetry: the three ways an answer's labels can fall short of a permutation. */
  issues: LabelIssues;
}

const NO_ISSUES: Readonly<LabelIssues> = Object.freeze({ duplicate: 0, unknown: 0, missing: 0 });

/** Optional extras for parseRanking. */
export interface ParseRankingOptions {
  /** Candidate ids in list order; lets `[some-id]` answers be mapped when a model echoes ids, not labels. */
  ids?: readonly string[];
}

/*
 * Every regex here runs on untrusted model output, so each must be linear: no two adjacent quantifiers
 * that can match the same characters (`\s*#?\s*` tries every split of a run of spaces: `"item" + " " × n`
 * took 22 s), and no lazy scan to a closing tag from every opening one (see answer-tags.ts).
 */
/** A numbered-list line: `1. …`, `2) …`, `Rank 3: …`. The number is a list position, not a label. */
const LIST_LINE = /^\s*(?:rank\s*)?(\d{1,3})\s*[.):]\s+([\s\S]*)$/i;
const NUMERIC_LABEL = /^\s*(?:(?:item|candidate|cand)\s*(?:#\s*)?|[c#]\s*)?(\d{1,6})\s*$/i;

/** One JSON array element as a canonical label number (0, i.e. unknown, when it is not a label). */
function jsonElementLabel(v: unknown, idIndex: ReadonlyMap<string, number>): number {
  if (typeof v === 'number') return Number.isInteger(v) ? v : 0;
  if (typeof v !== 'string') return 0;
  const s = v.trim();
  // Not `/\s*\]$/`: that rescans a run of spaces from each of its positions.
  const inner = s.slice(s.startsWith('[') ? 1 : 0, s.endsWith(']') && s.length > 1 ? -1 : undefined).trim();
  const id = idIndex.get(s) ?? idIndex.get(inner);
  if (id !== undefined) return id + 1;
  const num = NUMERIC_LABEL.exec(inner);
  if (num) return Number(num[1]);
  return /^[A-Za-z]$/.test(inner) ? inner.toUpperCase().charCodeAt(0) - 64 : 0;
}

/**
 * Content of the last JSON `"ranking": [...]` array as label text; null when absent. Parsed elements are
 * canonicalised one by one, so an array mixing styles (`["[2]", "C3", 1]`) still reads fully.
 */
function jsonRankingRegion(text: string, idIndex: ReadonlyMap<string, number>): string | null {
  let start = -1;
  // A quoted key, or a bare one right after `{` or `,`: the prose "my ranking:" before a `[3] > [1]` line is no
  // JSON key (read as one, its first label was the whole ranking).
  for (const m of text.matchAll(/(?:["']ranking["']|[{,]\s*ranking)\s*:\s*\[/gi)) start = m.index + m[0].length - 1;
  if (start < 0) return null;
  // Scan to the matching bracket, respecting strings, so labels like "[3]" inside strings do not end it.
  let depth = 0;
  let inString = false;
  let end = text.length;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) {
      end = i + 1;
      break;
    }
  }
  const raw = text.slice(start, end);
  try {
    const arr: unknown = JSON.parse(raw);
    if (Array.isArray(arr)) return arr.map((v) => String(jsonElementLabel(v, idIndex))).join(', ');
  } catch {
    // Truncated or sloppy JSON: read the raw text with the ordinary label rules.
  }
  return raw.slice(1, raw.endsWith(']') ? -1 : undefined);
}

/** The part of the answer that holds the ranking, by preference: tags, JSON, authors' markers, everything. */
function answerRegion(text: string, idIndex: ReadonlyMap<string, number>): string {
  const tags = findTags(text, 'ranking', false);
  const lastBlock = pairTags(tags)
    .map((b) => text.slice(b.open.end, b.close.start))
    .findLast((c) => /[0-9A-Za-z]/.test(c));
  if (lastBlock !== undefined) return lastBlock;
  const lastOpen = tags.findLast((t) => !t.close);
  if (lastOpen) return text.slice(lastOpen.end); // truncated answer: the opening tag made it, the end did not
  const json = jsonRankingRegion(text, idIndex);
  if (json !== null) return json;
  const markers = [...text.matchAll(/\|\s*beginoftext\s*\|([\s\S]*?)(?:\|\s*endoftext\s*\||$)/gi)];
  const lastMarker = markers.at(-1);
  if (lastMarker) return lastMarker[1] ?? '';
  return text;
}

type Reader = (line: string) => number[];

/** `[3]`, `[Item 3]`, `[C3]`, and `[id]` when ids are known. Non-labels in brackets (`[Drama]`) are skipped. */
function bracketReader(idIndex: ReadonlyMap<string, number>): Reader {
  return (line) => {
    const out: number[] = [];
    for (const m of line.matchAll(/\[([^[\]\n]{1,200})\]/g)) {
      const content = m[1] ?? '';
      const num = NUMERIC_LABEL.exec(content);
      if (num) out.push(Number(num[1]));
      else {
        const idx = idIndex.get(content.trim());
        if (idx !== undefined) out.push(idx + 1);
      }
    }
    return out;
  };
}

/** `Item 3`, `Candidate 3`, `C3`, `#3`. */
const prefixedReader: Reader = (line) =>
  [...line.matchAll(/(?:\b(?:item|candidate|cand)\s*(?:#\s*)?|\bc|#\s*)(\d{1,6})\b/gi)].map((m) => Number(m[1]));

/** `B, A, C`, `[B] > [A]`: uppercase letters standing alone before a separator (so the article "A" is not one). */
const letterReader: Reader = (line) =>
  [...line.matchAll(/\[\s*([A-Za-z])\s*\]|(?<![A-Za-z0-9_'’[])([A-Z])(?=\s*(?:[,;>)\].:|\-–—]|$))/g)].map(
    (m) => (m[1] ?? m[2] ?? '@').toUpperCase().charCodeAt(0) - 64,
  );

/** Every standalone integer (not part of a word or a decimal). */
const bareNumbers = (s: string): number[] =>
  [...s.matchAll(/(?<![A-Za-z0-9_.])(\d{1,6})(?![A-Za-z0-9_]|\.\d)/g)].map((m) => Number(m[1]));

/** A non-blank line of the answer region, with its numbered-list match (looked up once, used by every reader). */
interface AnswerLine {
  line: string;
  list: RegExpExecArray | null;
}

/** The answer region's lines that can hold a label (blank ones cannot, and each reader would visit them). */
function answerLines(region: string): AnswerLine[] {
  const out: AnswerLine[] = [];
  for (const line of region.split(/\r?\n/)) if (line.trim() !== '') out.push({ line, list: LIST_LINE.exec(line) });
  return out;
}

/** Applies a reader line by line; in a numbered list only the first label of each line counts. */
function readLabels(lines: AnswerLine[], reader: Reader): number[] {
  const out: number[] = [];
  for (const { line, list } of lines) {
    const found = reader(list ? (list[2] ?? '') : line);
    if (list) out.push(...found.slice(0, 1));
    else out.push(...found);
  }
  return out;
}

/**
 * Bare numbers. In a numbered list `1. 3 …` the list number is dropped; `3. Title` lines whose numbers
 * are not simply 1, 2, 3… are read as labels, but a plain 1..k list of titles carries no labels at all.
 */
function readBareNumbers(lines: AnswerLine[]): number[] {
  const prefixes = lines.flatMap(({ list }) => (list ? [Number(list[1])] : []));
  const sequential = prefixes.every((p, i) => p === i + 1);
  const out: number[] = [];
  lines.forEach(({ line, list }) => {
    if (!list) {
      out.push(...bareNumbers(line));
      return;
    }
    const lead = /^\(?\s*(\d{1,6})(?![A-Za-z0-9_]|\.\d)/.exec(list[2] ?? '');
    if (lead) out.push(Number(lead[1]));
    else if (!sequential) out.push(Number(list[1]));
  });
  return out;
}

/** The answer exactly as the prompt asks for it: `<ranking>3, 1, 2</ranking>` and nothing else. */
const EXACT_ANSWER = /^\s*<ranking>\s*(\d{1,6}(?:\s*,\s*\d{1,6})*)\s*<\/ranking>\s*$/;

/**
 * Fast path for the common case, a well-formed answer that ranks every candidate exactly once: the order,
 * or null to fall through to the general readers (which give the same result for such an answer).
 */
function exactAnswer(answer: string, n: number): number[] | null {
  const m = EXACT_ANSWER.exec(answer);
  if (!m) return null;
  const labels = (m[1] as string).split(',');
  if (labels.length !== n) return null;
  const seen = new Uint8Array(n);
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const k = Number(labels[i]) - 1;
    if (!(k >= 0 && k < n) || seen[k]) return null;
    seen[k] = 1;
    order[i] = k;
  }
  return order;
}

/**
 * Parses a model's ranking answer over `n` candidates labelled 1..n.
 * Each label convention is tried; the one yielding the most distinct valid labels wins (ties go to the
 * more explicit syntax: brackets, then Item/C/#, then letters, then bare numbers). Duplicates and unknown
 * labels are dropped and missing candidates appended in baseline order. Fewer than ceil(n/2) ranked
 * candidates is `unparseable` and yields the identity order.
 * @throws RangeError when n is not a non-negative integer.
 */
export function parseRanking(answer: string, n: number, opts?: ParseRankingOptions): ParsedRanking {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`candidate count must be a non-negative integer, got ${n}`);
  const identity = Array.from({ length: n }, (_, i) => i);
  if (n <= 1) return { order: identity, outcome: 'ok', rankedCount: n, duplicates: 0, unknown: 0, issues: { ...NO_ISSUES } };

  const tail = answerTail(answer);
  const exact = exactAnswer(tail, n);
  if (exact) return { order: exact, outcome: 'ok', rankedCount: n, duplicates: 0, unknown: 0, issues: { ...NO_ISSUES } };

  const idIndex = new Map<string, number>();
  opts?.ids?.forEach((id, i) => {
    if (i < n && !idIndex.has(id)) idIndex.set(id, i);
  });
  const lines = answerLines(answerRegion(stripThink(tail), idIndex));

  const readings = [readLabels(lines, bracketReader(idIndex)), readLabels(lines, prefixedReader)];
  if (n <= 26) readings.push(readLabels(lines, letterReader));
  readings.push(readBareNumbers(lines));

  let best = { order: [] as number[], duplicates: 0, unknown: 0 };
  for (const labels of readings) {
    const seen = new Set<number>();
    const cur = { order: [] as number[], duplicates: 0, unknown: 0 };
    for (const label of labels) {
      if (!(label >= 1 && label <= n)) cur.unknown++;
      else if (seen.has(label - 1)) cur.duplicates++;
      else {
        seen.add(label - 1);
        cur.order.push(label - 1);
      }
    }
    if (cur.order.length > best.order.length) best = cur;
  }

  const rankedCount = best.order.length;
  const { duplicates, unknown } = best;
  const issues: LabelIssues = { duplicate: duplicates, unknown, missing: n - rankedCount };
  if (rankedCount < Math.ceil(n / 2)) return { order: identity, outcome: 'unparseable', rankedCount, duplicates, unknown, issues };
  const ranked = new Set(best.order);
  const order = best.order.concat(identity.filter((i) => !ranked.has(i)));
  const outcome: ParseOutcome = rankedCount === n && duplicates === 0 && unknown === 0 ? 'ok' : 'repaired';
  return { order, outcome, rankedCount, duplicates, unknown, issues };
}

/**
 * Reorders `items` by `order` (0-based indices, best first). Out-of-range and repeated indices are
 * skipped and items the order leaves out are appended in their original order, so no item is ever lost.
 */
export function applyOrder<T>(items: T[], order: number[]): T[] {
  const used = new Set<number>();
  const out: T[] = [];
  for (const i of order) {
    if (Number.isInteger(i) && i >= 0 && i < items.length && !used.has(i)) {
      used.add(i);
      out.push(items[i] as T);
    }
  }
  items.forEach((item, i) => {
    if (!used.has(i)) out.push(item);
  });
  return out;
}
