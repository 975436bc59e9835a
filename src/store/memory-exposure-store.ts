/**
 * In-memory ExposureStore for a replica without Redis: a count-bounded LRU (EXPOSURE_MEMORY_MAX) of
 * exposures with a TTL each. An entry holds the compact encoded document (exposure-codec.ts; one flat
 * string is far smaller on the heap than the record object) and, once events arrive, the dedupe keys and
 * positive counts. Every operation is synchronous inside, so applyEvents is atomic as the port asks.
 *
 * Erasure: a per-user index (user digest → requestIds) removes a user's entries without a scan, and a
 * bounded tombstone LRU (user digest → erasure time) drops a put of an exposure served before the erasure
 * (it may still have been queued in the recorder). When a tombstone is evicted, its time becomes a floor:
 * every exposure served before it is dropped, so eviction can lose a late write but never keep an erased one.
 *
 * Running sums: per experiment, arm → field → value plus each (arm, user)'s totals, folded by
 * user-level-fold.ts's foldUserChange (the definition the Redis store's Lua copies). No sharding: one process.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../agp/ports.js';
import { decodeExposure, exposureDoc } from '../experiments/exposure-codec.js';
import type { ArmSums, EventApplication, EventWrite, ExposureRecord, ExposureStore, ExposureWrite, PositiveCounts, ScannedExposure, SumsUpdate } from '../experiments/ports.js';
import { foldUserChange } from '../experiments/user-level-fold.js';
import type { UserTotals } from '../experiments/user-level-fold.js';
import { userHash } from './key-schema.js';

/** Bounds and clock of the in-memory store. */
export interface MemoryExposureStoreOptions {
  /** Most exposures held (EXPOSURE_MEMORY_MAX). */
  maxEntries: number;
  /**
   * Most bytes of stored exposures (EXPOSURE_MEMORY_MAX_BYTES, default 64 MiB): a count alone does not bound
   * memory when callers send 200 long candidate ids. Sized at write time (the document plus a fixed overhead
   * for the entry and its event sets).
   */
  maxBytes?: number;
  /** Time source for TTLs and erasure times (epoch ms). */
  clock?: Clock;
  /** Erasures remembered individually (default 10,000). */
  maxTombstones?: number;
}

/** One user's entries; shared by all of them, so an entry costs a pointer, not a copy of the digest. */
interface Owner {
  digest: string;
  requestIds: Set<string>;
}

/** One experiment's sums: arm → field → value, and (arm NUL userId) → that user's totals. */
interface ExperimentSums {
  arms: Map<string, Map<string, number>>;
  users: Map<string, UserTotals>;
}

/** Adds `deltas` to an arm's row. */
function addTo(sums: ExperimentSums, arm: string, deltas: Readonly<Record<string, number>>): void {
  let row = sums.arms.get(arm);
  if (!row) sums.arms.set(arm, (row = new Map()));
  for (const [field, d] of Object.entries(deltas)) row.set(field, (row.get(field) ?? 0) + d);
}

interface Entry {
  doc: string;
  owner: Owner;
  seen?: Set<string>;
  positives?: Map<string, number>;
  /** The counts last claimed for the experiment's running sums. */
  claimed?: Map<string, number>;
}

/** An ExposureStore plus a size probe for tests and the bench. */
export interface MemoryExposureStore extends ExposureStore {
  readonly size: number;
}

/**
 * The string with exactly its own bytes. V8 allocates a JSON.stringify result with slack and trims it in
 * place; the trimmed tail stays in the heap as long as the string lives (measured: ~200 B of a ~650 B
 * document). An ASCII string is copied through a Buffer, which allocates it exactly; others are kept as is.
 */
function exactCopy(s: string): string {
  return Buffer.byteLength(s) === s.length ? Buffer.from(s, 'latin1').toString('latin1') : s;
}

/** Builds the in-memory store. @throws Error when maxEntries is not a positive integer. */
export function createMemoryExposureStore(opts: MemoryExposureStoreOptions): MemoryExposureStore {
  if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) {
    throw new Error(`maxEntries must be a positive integer, got ${opts.maxEntries}`);
  }
  const clock = opts.clock ?? { now: () => Date.now() };
  /** owner digest → that owner's entries currently held. */
  const byUser = new Map<string, Owner>();
  const entries = new LRUCache<string, Entry>({
    max: opts.maxEntries,
    maxSize: opts.maxBytes ?? 64 * 1024 * 1024,
    sizeCalculation: (entry, requestId) => entry.doc.length + 2 * requestId.length + 256,
    ttlAutopurge: false,
    ...(opts.clock ? { perf: { now: () => clock.now() }, ttlResolution: 0 } : {}),
    dispose: (entry, requestId, reason) => {
      if (reason === 'set') return;
      entry.owner.requestIds.delete(requestId);
      if (entry.owner.requestIds.size === 0) byUser.delete(entry.owner.digest);
    },
  });
  let floor = -Infinity;
  const tombstones = new LRUCache<string, number>({
    max: opts.maxTombstones ?? 10_000,
    dispose: (at, _owner, reason) => {
      if (reason !== 'set') floor = Math.max(floor, at);
    },
  });
  const erasedAfter = (owner: string, servedAt: number) => floor >= servedAt || (tombstones.get(owner) ?? -Infinity) >= servedAt;
  const sums = new Map<string, ExperimentSums>();

  const putOne = (r: ExposureWrite, ttl: number): boolean => {
    const digest = userHash(r.userId);
    if (erasedAfter(digest, r.at)) return false;
    let owner = byUser.get(digest);
    if (!owner) byUser.set(digest, (owner = { digest, requestIds: new Set() }));
    // A requestId built by concatenation (randomUUID is) would keep its pieces alive: store a flat copy.
    const requestId = exactCopy(r.requestId);
    if (entries.has(requestId)) return false; // the first write wins, as with SET NX
    entries.set(requestId, { doc: exactCopy(exposureDoc(r)), owner }, { ttl });
    owner.requestIds.add(requestId);
    return true;
  };

  return {
    get size() {
      return entries.size;
    },
    put(records: readonly ExposureWrite[], ttlSeconds: number): Promise<readonly boolean[]> {
      const ttl = Math.max(1, Math.round(ttlSeconds * 1000));
      return Promise.resolve(records.map((r) => putOne(r, ttl)));
    },
    get(requestId: string): Promise<ExposureRecord | null> {
      return Promise.resolve(decodeExposure(requestId, entries.get(requestId)?.doc));
    },
    applyEvents(requestId: string, events: readonly EventWrite[]): Promise<EventApplication | null> {
      const entry = entries.get(requestId, { updateAgeOnGet: false });
      if (!entry) return Promise.resolve(null);
      const seen = (entry.seen ??= new Set());
      const positives = (entry.positives ??= new Map());
      const before: PositiveCounts = entry.claimed ?? new Map();
      const fresh = events.map((e) => {
        if (seen.has(e.dedupeKey)) return false;
        seen.add(e.dedupeKey);
        if (e.positive) positives.set(e.itemId, (positives.get(e.itemId) ?? 0) + 1);
        return true;
      });
      entry.claimed = new Map(positives);
      return Promise.resolve({ fresh, before, after: new Map(positives) });
    },
    releaseClaim(requestId: string, claimed: PositiveCounts, restore: PositiveCounts): Promise<boolean> {
      const entry = entries.get(requestId, { updateAgeOnGet: false });
      const cur = entry?.claimed ?? new Map<string, number>();
      const same = cur.size === claimed.size && [...claimed].every(([k, v]) => cur.get(k) === v);
      if (!entry || !same) return Promise.resolve(false);
      entry.claimed = new Map(restore);
      return Promise.resolve(true);
    },
    positives(requestId: string): Promise<PositiveCounts | null> {
      const entry = entries.get(requestId, { updateAgeOnGet: false });
      return Promise.resolve(entry ? new Map(entry.positives ?? []) : null);
    },
    deleteUser(userId: string): Promise<number> {
      const owner = userHash(userId);
      tombstones.set(owner, clock.now());
      let removed = 0;
      for (const requestId of [...(byUser.get(owner)?.requestIds ?? [])]) {
        if (entries.has(requestId)) removed += 1; // expired entries are not counted, as with Redis DEL
        entries.delete(requestId);
      }
      byUser.delete(owner);
      return Promise.resolve(removed);
    },
    async *scan(domain: string, since: number, until: number, pageSize = 200): AsyncGenerator<ScannedExposure[]> {
      // The keys are bounded by maxEntries; an entry erased or expired while the scan runs is skipped.
      const ids = [...entries.keys()];
      let page: ScannedExposure[] = [];
      for (const requestId of ids) {
        const entry = entries.get(requestId, { updateAgeOnGet: false });
        const exposure = entry ? decodeExposure(requestId, entry.doc) : null;
        if (!entry || !exposure || exposure.domain !== domain || exposure.at < since || exposure.at >= until) continue;
        page.push({ exposure, positives: new Map(entry.positives ?? []) });
        if (page.length >= pageSize) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    },
    forgetUserTotals(experimentId: string, arms: readonly string[], userId: string): Promise<void> {
      const exp = sums.get(experimentId);
      for (const arm of arms) exp?.users.delete(`${arm}\u0000${userId}`);
      return Promise.resolve();
    },
    applySums(experimentId: string, update: SumsUpdate): Promise<void> {
      let exp = sums.get(experimentId);
      if (!exp) sums.set(experimentId, (exp = { arms: new Map(), users: new Map() }));
      for (const [arm, deltas] of Object.entries(update.increments)) addTo(exp, arm, deltas);
      for (const change of update.users) {
        const key = `${change.arm}\u0000${update.userId}`;
        const { after, increments } = foldUserChange(exp.users.get(key) ?? { count: 0, sums: {} }, change);
        exp.users.set(key, after);
        addTo(exp, change.arm, increments);
      }
      return Promise.resolve();
    },
    readSums(experimentId: string): Promise<ArmSums> {
      const out: Record<string, Record<string, number>> = {};
      for (const [arm, row] of sums.get(experimentId)?.arms ?? []) out[arm] = Object.fromEntries(row);
      return Promise.resolve(out);
    },
    deleteSums(experimentId: string): Promise<void> {
      sums.delete(experimentId);
      return Promise.resolve();
    },
  };
}
