/**
 * Record readers shared by every converter: a file (optionally .gz) becomes a stream of
 * `{line, record}` where `record` maps field names to raw values. Four file shapes are understood:
 * JSON lines, CSV with a header (RFC 4180, parsed by csv-parse: quoted fields may hold commas, doubled
 * quotes and line breaks), RecBole atomic files (tab-separated, typed header `name:type`), and
 * `::`-separated `.dat` files (MovieLens 1M) with fixed column names.
 */
import { createReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { CsvError, parse as parseCsv } from 'csv-parse';

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

/** The bytes of a file, gunzipped when its name ends in .gz. */
function openInput(file: string): Readable {
  const raw = createReadStream(file);
  // pipeline (not pipe) so that a read error (ENOENT, a truncated .gz) reaches the consumer.
  return file.endsWith('.gz') ? pipeline(raw, createGunzip(), () => {}) : raw;
}

/** Lines of a text file (gunzipped when the name ends in .gz), with 1-based numbers. */
export async function* readLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  const rl = createInterface({ input: openInput(file), crlfDelay: Infinity });
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

/**
 * The line a CSV record starts on. csv-parse counts the line a record ENDS on (`lines`); its raw text
 * (with any blank lines skipped before it, and its own line break) tells how many lines it spans.
 */
function recordStartLine(endLine: number, raw: string | undefined): number {
  const body = (raw ?? '').replace(/^[\r\n]+/, '').replace(/\r?\n$/, '');
  let breaks = 0;
  for (const ch of body) if (ch === '\n') breaks += 1;
  return Math.max(1, endLine - breaks);
}

/**
 * Records of a CSV file with a header row (names trimmed). A quoted field may span lines, so each
 * record is numbered by the line it starts on; a stray quote inside an unquoted field is kept as text
 * (catalogue titles have them).
 */
async function* readCsvRecords(file: string): AsyncGenerator<{ line: number; record: RawRecord }> {
  const parser = pipeline(
    openInput(file),
    parseCsv({
      bom: true,
      columns: (header: string[]) => header.map((h) => h.trim()),
      record_delimiter: ['\r\n', '\n'],
      skip_empty_lines: true,
      relax_quotes: true,
      info: true,
      raw: true,
    }),
    () => {},
  );
  try {
    for await (const { record, info, raw } of parser as AsyncIterable<{ record: RawRecord; info: { lines: number }; raw?: string }>) {
      yield { line: recordStartLine(info.lines, raw), record };
    }
  } catch (err) {
    if (err instanceof CsvError) {
      const at = err as CsvError & { lines?: number; raw?: string };
      const line = typeof at.lines === 'number' ? recordStartLine(at.lines, at.raw) : undefined;
      throw new ConvertError(`malformed record (${err.message})`, file, line);
    }
    throw new ConvertError(`cannot read (${(err as Error).message})`, file);
  } finally {
    parser.destroy();
  }
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
  if (shape.kind === 'csv') {
    yield* readCsvRecords(file);
    return;
  }
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
        const fields = text.split('\t');
        if (!header) {
          // RecBole headers are typed (`user_id:token`); the name is the part before the colon.
          header = fields.map((f) => (f.split(':')[0] ?? f).trim());
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
