/**
 * Thin per-format readers: how each public dataset names its user, item, time and title fields.
 * Everything else (sorting, splitting, joining the ranking) is in core.ts.
 */
import type { FormatSpec, Interaction, ItemMeta } from './core.js';
import { itemText } from './core.js';
import type { RawRecord } from './records.js';
import { field, numberField, optionalField } from './records.js';

/** Formats `agp convert` understands. */
export const FORMATS = ['recbole', 'movielens', 'amazon2018', 'amazon2023', 'yelp', 'goodreads'] as const;
export type FormatName = (typeof FORMATS)[number];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Parses "2016-03-09 00:44:42" (Yelp) as UTC milliseconds. */
export function parseUtcDateTime(s: string): number {
  const t = Date.parse(`${s.trim().replace(' ', 'T')}${/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? '' : 'Z'}`);
  if (!Number.isFinite(t)) throw new Error(`unparseable date ${JSON.stringify(s).slice(0, 40)}`);
  return t;
}

/** Parses Goodreads' "Thu Dec 17 10:31:20 -0800 2015" as epoch milliseconds. */
export function parseGoodreadsDate(s: string): number {
  const m = /^\w{3} (\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$/.exec(s.trim());
  const month = m ? MONTHS.indexOf(m[1] as string) : -1;
  if (!m || month < 0) throw new Error(`unparseable date ${JSON.stringify(s).slice(0, 40)}`);
  const n = (i: number) => Number(m[i]);
  const utc = Date.UTC(n(9), month, n(2), n(3), n(4), n(5));
  const offsetMin = (n(7) * 60 + n(8)) * (m[6] === '-' ? -1 : 1);
  return utc - offsetMin * 60_000;
}

function listText(v: unknown): string | undefined {
  if (Array.isArray(v)) {
    const flat = v.flat(2).filter((x): x is string => typeof x === 'string' && x.trim() !== '');
    return flat.length > 0 ? flat.join(', ') : undefined;
  }
  return typeof v === 'string' ? v : undefined;
}

function event(userId: string, itemId: string, ts: number): Interaction {
  return { userId, itemId, ts };
}

function meta(title: string | undefined, text?: string): ItemMeta {
  return { title: title ?? '', text };
}

const recbole: FormatSpec = {
  name: 'recbole',
  interactions: { kind: 'recbole' },
  items: { kind: 'recbole' },
  toInteraction(r) {
    if ('item_id_list' in r) {
      throw new Error('sequence-augmented .inter files (item_id_list) are not supported; use the raw .inter with timestamps');
    }
    // Without a timestamp column the file order is the time order (ties keep file order).
    const ts = 'timestamp' in r ? numberField(r, 'timestamp') : 0;
    return event(field(r, 'user_id'), field(r, 'item_id'), ts);
  },
  toItem(r) {
    const titleKey = Object.keys(r).find((k) => k === 'title' || k.endsWith('_title') || k === 'name' || k === 'item_name');
    const title = titleKey ? optionalField(r, titleKey) : undefined;
    const rest = Object.entries(r)
      .filter(([k, v]) => k !== 'item_id' && k !== titleKey && typeof v === 'string' && v.trim() !== '')
      .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${String(v).trim()}`);
    return [field(r, 'item_id'), meta(title, itemText(rest))];
  },
};

const movielens: FormatSpec = {
  name: 'movielens',
  interactions: { kind: 'csv' },
  items: { kind: 'csv' },
  toInteraction: (r) => event(field(r, 'userId'), field(r, 'movieId'), numberField(r, 'timestamp')),
  toItem(r) {
    const genres = optionalField(r, 'genres');
    const text = genres && genres !== '(no genres listed)' ? `Genres: ${genres.split('|').join(', ')}` : undefined;
    return [field(r, 'movieId'), meta(optionalField(r, 'title'), text)];
  },
};

const amazon2018: FormatSpec = {
  name: 'amazon2018',
  interactions: { kind: 'jsonl' },
  items: { kind: 'jsonl' },
  toInteraction: (r) => event(field(r, 'reviewerID'), field(r, 'asin'), numberField(r, 'unixReviewTime')),
  toItem: (r) => [field(r, 'asin'), meta(optionalField(r, 'title'), itemText([listText(r.category), optionalField(r, 'brand')]))],
};

const amazon2023: FormatSpec = {
  name: 'amazon2023',
  interactions: { kind: 'jsonl' },
  items: { kind: 'jsonl' },
  toInteraction: (r) => event(field(r, 'user_id'), field(r, 'parent_asin'), numberField(r, 'timestamp')),
  toItem: (r) => [
    field(r, 'parent_asin'),
    meta(optionalField(r, 'title'), itemText([optionalField(r, 'main_category'), listText(r.categories), listText(r.description)])),
  ],
};

const yelp: FormatSpec = {
  name: 'yelp',
  interactions: { kind: 'jsonl' },
  items: { kind: 'jsonl' },
  toInteraction: (r) => event(field(r, 'user_id'), field(r, 'business_id'), parseUtcDateTime(field(r, 'date'))),
  toItem: (r) => [
    field(r, 'business_id'),
    meta(optionalField(r, 'name'), itemText([listText(r.categories), optionalField(r, 'city')])),
  ],
};

function goodreadsTime(r: RawRecord): number {
  const added = optionalField(r, 'date_added');
  if (added !== undefined) return parseGoodreadsDate(added);
  return numberField(r, 'timestamp');
}

const goodreads: FormatSpec = {
  name: 'goodreads',
  interactions: { kind: 'jsonl' },
  items: { kind: 'jsonl' },
  toInteraction: (r) => event(field(r, 'user_id'), field(r, 'book_id'), goodreadsTime(r)),
  toItem: (r) => [
    field(r, 'book_id'),
    meta(optionalField(r, 'title', 'title_without_series'), itemText([optionalField(r, 'description')], 300)),
  ],
};

/** MovieLens 1M/10M `.dat` files use `::` and no header. */
const ML_DAT = {
  interactions: { kind: 'dat', columns: ['userId', 'movieId', 'rating', 'timestamp'] },
  items: { kind: 'dat', columns: ['movieId', 'title', 'genres'] },
} as const;

/** The spec for a format; MovieLens switches to the `::` reader when the files end in .dat. */
export function formatSpec(name: FormatName, files: { interactions: string; items: string }): FormatSpec {
  const specs: Record<FormatName, FormatSpec> = { recbole, movielens, amazon2018, amazon2023, yelp, goodreads };
  const spec = specs[name];
  if (name !== 'movielens') return spec;
  return {
    ...spec,
    interactions: files.interactions.endsWith('.dat') ? ML_DAT.interactions : spec.interactions,
    items: files.items.endsWith('.dat') ? ML_DAT.items : spec.items,
  };
}
