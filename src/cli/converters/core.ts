/**
 * The one conversion core every format shares: parse events → group and sort by time → leave-one-out
 * split → join the baseline ranking (top-k) → attach titles. Per-format files only say how to turn a
 * raw record into an interaction or an item.
 *
 * Protocol (paper §3.1): the latest interaction is the test target, the second latest the validation
 * target; the history is every interaction before the target. Candidates are the baseline recommender's
 * top-k; users whose target is not within the top-k are dropped (and counted).
 */
import type { UserRecord } from '../../agp/dataset.js';
import type { Item } from '../../agp/types.js';
import type { RawRecord, RecordKind } from './records.js';
import { ConvertError, readRecords } from './records.js';

/** One user–item interaction. */
export interface Interaction {
  userId: string;
  itemId: string;
  /** Any monotone time scale (seconds, ms); only the order matters. */
  ts: number;
}

/** Text of one item. */
export interface ItemMeta {
  title: string;
  text?: string | undefined;
}

/** How a format maps raw records. Each function throws an Error with a short message for a bad record. */
export interface FormatSpec {
  name: string;
  interactions: RecordKind;
  items: RecordKind;
  toInteraction(rec: RawRecord): Interaction;
  /** Returns undefined for records to skip (e.g. items without an id column the format allows). */
  toItem(rec: RawRecord): [string, ItemMeta] | undefined;
}

/** Why users were dropped. */
export interface DropCounts {
  /** The user has interactions but no entry in the ranking file. */
  not_in_ranking: number;
  /** The user is in the ranking file but has no interactions. */
  no_interactions: number;
  /** Too few interactions for the split (test needs 2, valid needs 3: at least one history item). */
  too_few_interactions: number;
  /** The split's target is not within the baseline's top-k (paper protocol). */
  target_not_in_top_k: number;
}

/** What a conversion did. */
export interface ConvertSummary {
  format: string;
  split: 'test' | 'valid';
  k: number;
  interactions: number;
  /** Distinct users seen in the interactions or the ranking. */
  users: number;
  kept: number;
  dropped: DropCounts;
  /** Items referenced by kept users with no title in the items file (their id is used as title). */
  itemsWithoutTitle: number;
}

/** Options of one conversion. */
export interface ConvertOptions {
  interactionsFile: string;
  itemsFile: string;
  ranking: Map<string, string[]>;
  k: number;
  split: 'test' | 'valid';
  /** Keep at most this many history items (the most recent). Default 50. */
  maxHistory?: number | undefined;
}

/** Parses a ranking file: a JSON object mapping user id → ranked item ids. */
export function parseRankingFile(text: string, file: string): Map<string, string[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConvertError(`invalid JSON (${(err as Error).message})`, file);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConvertError('expected a JSON object mapping user id to a list of item ids', file);
  }
  const out = new Map<string, string[]>();
  for (const [user, list] of Object.entries(raw)) {
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' || typeof x === 'number')) {
      throw new ConvertError(`user "${user}": expected an array of item ids`, file);
    }
    out.set(user, list.map(String));
  }
  return out;
}

interface Event {
  itemId: string;
  ts: number;
  ord: number;
}

/** Runs the shared pipeline for one format. */
export async function convertWith(spec: FormatSpec, o: ConvertOptions): Promise<{ users: UserRecord[]; summary: ConvertSummary }> {
  const byUser = new Map<string, Event[]>();
  const unranked = new Set<string>();
  let interactions = 0;
  for await (const { line, record } of readRecords(o.interactionsFile, spec.interactions)) {
    let ev: Interaction;
    try {
      ev = spec.toInteraction(record);
    } catch (err) {
      throw new ConvertError((err as Error).message, o.interactionsFile, line);
    }
    interactions += 1;
    if (!o.ranking.has(ev.userId)) {
      unranked.add(ev.userId);
      continue;
    }
    const list = byUser.get(ev.userId);
    const e = { itemId: ev.itemId, ts: ev.ts, ord: interactions };
    if (list) list.push(e);
    else byUser.set(ev.userId, [e]);
  }

  const dropped: DropCounts = { not_in_ranking: unranked.size, no_interactions: 0, too_few_interactions: 0, target_not_in_top_k: 0 };
  const offset = o.split === 'test' ? 1 : 2;
  const maxHistory = o.maxHistory ?? 50;
  const pending: Array<{ userId: string; history: string[]; candidates: string[]; target: string }> = [];
  for (const [userId, ranked] of o.ranking) {
    const events = byUser.get(userId);
    if (!events) {
      dropped.no_interactions += 1;
      continue;
    }
    if (events.length < offset + 1) {
      dropped.too_few_interactions += 1;
      continue;
    }
    events.sort((a, b) => a.ts - b.ts || a.ord - b.ord); // ties keep file order
    const tIdx = events.length - offset;
    const target = (events[tIdx] as Event).itemId;
    const candidates = [...new Set(ranked)].slice(0, o.k);
    if (!candidates.includes(target)) {
      dropped.target_not_in_top_k += 1;
      continue;
    }
    const history = events.slice(Math.max(0, tIdx - maxHistory), tIdx).map((e) => e.itemId);
    pending.push({ userId, history, candidates, target });
  }

  const needed = new Set<string>();
  for (const p of pending) for (const id of [...p.history, ...p.candidates]) needed.add(id);
  const meta = new Map<string, ItemMeta>();
  for await (const { line, record } of readRecords(o.itemsFile, spec.items)) {
    let it: [string, ItemMeta] | undefined;
    try {
      it = spec.toItem(record);
    } catch (err) {
      throw new ConvertError((err as Error).message, o.itemsFile, line);
    }
    if (it && needed.has(it[0]) && !meta.has(it[0])) meta.set(it[0], it[1]);
  }
  const missing = new Set<string>();
  const item = (id: string): Item => {
    const m = meta.get(id);
    if (!m || m.title.trim() === '') {
      missing.add(id);
      return { id, title: `item ${id}` };
    }
    return m.text ? { id, title: m.title, text: m.text } : { id, title: m.title };
  };
  const users: UserRecord[] = pending.map((p) => ({
    userId: p.userId,
    history: p.history.map(item),
    candidates: p.candidates.map(item),
    targets: [p.target],
  }));
  const allUsers = new Set([...o.ranking.keys(), ...unranked]);
  return {
    users,
    summary: {
      format: spec.name,
      split: o.split,
      k: o.k,
      interactions,
      users: allUsers.size,
      kept: users.length,
      dropped,
      itemsWithoutTitle: missing.size,
    },
  };
}

/** Joins non-empty text parts with ". " and caps the length. */
export function itemText(parts: Array<string | undefined | null>, max = 500): string | undefined {
  const t = parts.filter((p): p is string => typeof p === 'string' && p.trim() !== '').map((p) => p.trim()).join('. ');
  return t === '' ? undefined : t.slice(0, max);
}
