/**
 * Record readers shared by every converter: a file (optionally .gz) becomes a stream of
 * `{line, record}` where `record` maps field names to raw values. Four file shapes are understood:
 * JSON lines, CSV with a header (RFC 4180 quoting), RecBole atomic files (tab-separated, typed header
 * `name:type`), and `::`-separated `.dat` files (MovieLens 1M) with fixed column names.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

/** A converter error that names the file and, when known, the 1-based line. */
export class ConvertError extends Error {
  override readonly name = 'ConvertError';
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(file ? `${file}${line ? `:${line}` : ''}: ${message}` : message);
  }
}

/** Field name → raw value. */
export type RawRecord = Record<string, unknown>;

/** The shape of an input file. */
export type RecordKind =
  | { kind: 'jsonl' }
  | { kind: 'csv' }
  | { kind: 'recbole' }
  | { kind: 'dat'; columns: readonly string[] };

/** Lines of a text file (gunzipped when the name ends in .gz), with 1-based numbers. */
export async function* readLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  const raw = createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const rl = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line += 1;
      yield { line, text };
    }
  } catch (err) {
    throw new ConvertError(`cannot read (${(err as Error).message})`, file, line || undefined);
  }
}

/** Splits one CSV line; quotes may contain commas and doubled quotes. */
export function parseCsvLine(text: string, sep = ','): string[] {
  const out: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') {
        quoted = false;
        i += 1;
        if (i < text.length && text[i] !== sep) throw new Error('unexpected character after closing quote');
        continue;
      }
      field += ch;
      i += 1;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === sep) {
      out.push(field);
      field = '';
    } else field += ch;
    i += 1;
  }
  if (quoted) throw new Error('unterminated quoted field');
  out.push(field);
  return out;
}

function zip(names: readonly string[], values: string[]): RawRecord | string {
  if (values.length !== names.length) return `expected ${names.length} fields, got ${values.length}`;
  const rec: RawRecord = {};
  names.forEach((n, i) => (rec[n] = values[i]));
  return rec;
}

/**
 * Reads every record of a file. Blank lines are skipped; a malformed line throws ConvertError with
 * the file and line number.
 */
export async function* readRecords(file: string, shape: RecordKind): AsyncGenerator<{ line: number; record: RawRecord }> {
  let header: string[] | undefined = shape.kind === 'dat' ? [...shape.columns] : undefined;
  for await (const { line, text } of readLines(file)) {
    if (text.trim() === '') continue;
    let rec: RawRecord | string;
    try {
      if (shape.kind === 'jsonl') {
        const v: unknown = JSON.parse(text);
        rec = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as RawRecord) : 'expected a JSON object';
      } else if (shape.kind === 'dat') {
        rec = zip(header as string[], text.split('::'));
      } else {
        const sep = shape.kind === 'csv' ? ',' : '\t';
        const fields = shape.kind === 'csv' ? parseCsvLine(text, sep) : text.split(sep);
        if (!header) {
          // RecBole headers are typed (`user_id:token`); the name is the part before the colon.
          header = fields.map((f) => (shape.kind === 'recbole' ? (f.split(':')[0] ?? f) : f).trim());
          continue;
        }
        rec = zip(header, fields);
      }
    } catch (err) {
      throw new ConvertError(`malformed line (${(err as Error).message})`, file, line);
    }
    if (typeof rec === 'string') throw new ConvertError(`malformed line (${rec})`, file, line);
    yield { line, record: rec };
  }
}

/** The header (field names) of a RecBole or CSV file, or [] for an empty file. */
export async function readHeader(file: string, shape: RecordKind): Promise<string[]> {
  for await (const { text } of readLines(file)) {
    if (text.trim() === '') continue;
    if (shape.kind === 'csv') return parseCsvLine(text);
    return text.split('\t').map((f) => (f.split(':')[0] ?? f).trim());
  }
  return [];
}

/** A field accessor that throws a message naming the field (the reader adds file and line). */
export function field(rec: RawRecord, ...names: string[]): string {
  for (const n of names) {
    const v = rec[n];
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  throw new Error(`missing field ${names.map((n) => `"${n}"`).join(' or ')}`);
}

/** Like `field`, but returns undefined instead of throwing. */
export function optionalField(rec: RawRecord, ...names: string[]): string | undefined {
  try {
    return field(rec, ...names);
  } catch {
    return undefined;
  }
}

/** A finite number from a field (numbers or numeric strings). */
export function numberField(rec: RawRecord, ...names: string[]): number {
  const raw = field(rec, ...names);
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`field "${names[0]}" is not a number: ${JSON.stringify(raw).slice(0, 40)}`);
  return n;
}
