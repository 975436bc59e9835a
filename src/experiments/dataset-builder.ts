/**
 * Builds a canonical training set (src/agp/dataset.ts) from live traffic, written against ports only: it
 * streams a domain's exposures in [since, until) (ExposureStore.scan), keeps those with at least one
 * positive event, turns ids back into titles (ItemCatalogue) and hands one JSONL line per row to a sink.
 * Memory: one page of exposures plus the set of distinct user ids (for `users` and `maxUsers`), never the
 * window.
 *
 * A row: `{userId, user, requestId, at, history, candidates, target}`. The canonical reader refuses a
 * repeated userId, and a user has many exposures, so `userId` is `<user>#<requestId>` and `user` is the real
 * id (extra fields are ignored by the reader; a trainer that splits by user should use `user`).
 * `candidates` is the baseline (caller's) order, deduplicated; `target` the first served item with a positive.
 *
 * Titles: a candidate or the target without a catalogue entry drops the row (counted `titleExpired`: a
 * list with holes is not the list that was served); a history item without one is left out and the row is
 * written (counted in `partialHistory`); a row whose history is then empty is counted `titleExpired`.
 */
import type { Item } from '../agp/types.js';
import { validationError } from '../errors.js';
import type { CatalogueItem, ItemCatalogue } from './item-catalogue.js';
import type { EventType, ExposureStore, ScannedExposure } from './ports.js';
import { POSITIVE_EVENT_TYPES } from './ports.js';

/** What a build is asked for. */
export interface DatasetRequest {
  domain: string;
  /** Epoch ms, inclusive. */
  since: number;
  /** Epoch ms, exclusive. */
  until: number;
  positiveTypes?: readonly EventType[] | undefined;
  maxUsers?: number | undefined;
}

/** Rows skipped, by reason. */
export interface DatasetSkips {
  noPositive: number;
  noHistory: number;
  titleExpired: number;
  maxUsers: number;
}

/** What a build wrote. */
export interface DatasetSummary {
  rows: number;
  users: number;
  /** Exposures read from the window. */
  exposures: number;
  skipped: DatasetSkips;
  /** Rows written with some history items left out (their titles expired). */
  partialHistory: number;
}

/** Where the lines go (a file in practice; an array in tests). Awaited, so a slow disk slows the scan. */
export interface DatasetSink {
  write(line: string): Promise<void>;
}

/** What a build reads. */
export interface DatasetBuilderDeps {
  exposures: ExposureStore;
  catalogue: ItemCatalogue;
  /** Exposures per scan page (default 200). */
  pageSize?: number;
}

/**
 * Checks positiveTypes. The exposure store counts click, add_to_cart and purchase together per item (not per
 * type), so only the full positive set can be honoured; a narrower or invalid set is a 400, never a silent
 * widening.
 */
export function checkPositiveTypes(types: readonly string[] | undefined): void {
  if (types === undefined) return;
  const set = new Set(types);
  const full = set.size === POSITIVE_EVENT_TYPES.size && [...set].every((t) => POSITIVE_EVENT_TYPES.has(t as EventType));
  if (!full) {
    throw validationError(`positiveTypes must be ${[...POSITIVE_EVENT_TYPES].join(', ')} (all of them): exposures keep positive counts per item, not per event type`);
  }
}

/** Items with titles, in order; `missing` counts the ids without a catalogue entry. */
function titled(ids: readonly string[], found: readonly (CatalogueItem | null)[]): { items: Item[]; missing: number } {
  const items: Item[] = [];
  let missing = 0;
  ids.forEach((id, i) => {
    const c = found[i];
    if (!c) missing += 1;
    else items.push(c.text === undefined ? { id, title: c.title } : { id, title: c.title, text: c.text });
  });
  return { items, missing };
}

/** The first served item with a positive count that is also a candidate, or undefined. */
function firstPositive(s: ScannedExposure, candidates: ReadonlySet<string>): string | undefined {
  return s.exposure.served.find((id) => (s.positives.get(id) ?? 0) > 0 && candidates.has(id));
}

/**
 * Streams the window into `sink`; resolves with what was written and skipped.
 * @throws a validationError for a bad window or positiveTypes; store errors propagate.
 */
export async function buildDataset(deps: DatasetBuilderDeps, req: DatasetRequest, sink: DatasetSink): Promise<DatasetSummary> {
  checkPositiveTypes(req.positiveTypes);
  if (!Number.isFinite(req.since) || !Number.isFinite(req.until) || req.until <= req.since) throw validationError('the window is empty: `until` must be after `since`');
  const maxUsers = req.maxUsers ?? Infinity;
  const users = new Set<string>();
  const out: DatasetSummary = { rows: 0, users: 0, exposures: 0, partialHistory: 0, skipped: { noPositive: 0, noHistory: 0, titleExpired: 0, maxUsers: 0 } };

  for await (const page of deps.exposures.scan(req.domain, req.since, req.until, deps.pageSize ?? 200)) {
    // First the checks that need no titles, then ONE catalogue read for the whole page (ids deduplicated).
    const kept: Array<{ s: ScannedExposure; candidateIds: string[]; target: string }> = [];
    for (const s of page) {
      out.exposures += 1;
      const candidateIds = [...new Set(s.exposure.baseline)];
      const target = firstPositive(s, new Set(candidateIds));
      if (target === undefined) out.skipped.noPositive += 1;
      else if (s.exposure.history.length === 0) out.skipped.noHistory += 1;
      else kept.push({ s, candidateIds, target });
    }
    if (kept.length === 0) continue;
    const ids = [...new Set(kept.flatMap((k) => [...k.candidateIds, ...k.s.exposure.history]))];
    const found = await deps.catalogue.getMany(req.domain, ids);
    const titles = new Map(ids.map((id, i) => [id, found[i] ?? null]));
    const lookup = (list: readonly string[]) => list.map((id) => titles.get(id) ?? null);
    for (const { s, candidateIds, target } of kept) {
      const e = s.exposure;
      if (!users.has(e.userId) && users.size >= maxUsers) {
        out.skipped.maxUsers += 1;
        continue;
      }
      const candidates = titled(candidateIds, lookup(candidateIds));
      const history = titled(e.history, lookup(e.history));
      if (candidates.missing > 0 || history.items.length === 0) {
        out.skipped.titleExpired += 1;
        continue;
      }
      if (history.missing > 0) out.partialHistory += 1;
      users.add(e.userId);
      const row = { userId: `${e.userId}#${e.requestId}`, user: e.userId, requestId: e.requestId, at: e.at, history: history.items, candidates: candidates.items, target };
      await sink.write(`${JSON.stringify(row)}\n`);
      out.rows += 1;
    }
  }
  out.users = users.size;
  return out;
}

/** A build as asked over the API or the CLI: the window defaults to the exposures' whole lifetime. */
export interface DatasetBuildRequest {
  domain: string;
  since?: number | undefined;
  until?: number | undefined;
  positiveTypes?: readonly EventType[] | undefined;
  maxUsers?: number | undefined;
  /** CLI only: where to write (a path of the caller's); the API always writes under TRAINING_DATA_DIR. */
  out?: string | undefined;
}

/** A finished build: where it is (relative to TRAINING_DATA_DIR when written there) and what it holds. */
export interface DatasetBuildResult extends DatasetSummary {
  path: string;
}

/** The dataset service the admin route and `agp dataset build` call (wired in src/runtime/datasets.ts). */
export interface DatasetService {
  build(req: DatasetBuildRequest): Promise<DatasetBuildResult>;
}
