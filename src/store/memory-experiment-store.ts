/**
 * In-memory ExperimentStore for a replica without Redis (and for tests). Every operation is synchronous
 * inside, so create's refusals and stop's compare-and-set are atomic as the port asks. Records are copied in
 * and out (structuredClone), so a caller mutating what it passed or got cannot change what is stored.
 */
import type { Clock } from '../agp/ports.js';
import type { CreateRefusal, ExperimentRecord, ExperimentStore, StopReason } from '../experiments/ports.js';

/** Options of the in-memory experiment store. */
export interface MemoryExperimentStoreOptions {
  /** Accepted for symmetry with the other memory stores; no operation reads the time (stop takes `at`). */
  clock?: Clock;
}

/** The finite p-values only (a NaN cannot be compared, so it is never stored; the Redis store agrees). */
function finite(pValues: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(pValues).filter(([, p]) => Number.isFinite(p)));
}

/** Newest first; ties by id, descending (the Redis store's ZREVRANGE order). */
function newestFirst(a: ExperimentRecord, b: ExperimentRecord): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * Builds the in-memory experiment store.
 * @throws Error from create when the record is not running or its id is already stored (a caller bug).
 */
export function createMemoryExperimentStore(_opts: MemoryExperimentStoreOptions = {}): ExperimentStore {
  const byId = new Map<string, ExperimentRecord>();
  /** domain → id of its running experiment. */
  const running = new Map<string, string>();
  const copy = (r: ExperimentRecord | undefined): ExperimentRecord | null => (r ? structuredClone(r) : null);

  return {
    create(record: ExperimentRecord, maxRunning: number): Promise<CreateRefusal | null> {
      if (record.state !== 'running' || record.stoppedAt !== null || record.stopReason !== null) {
        return Promise.reject(new Error(`create takes a running record, got state ${record.state}`));
      }
      if (byId.has(record.id)) return Promise.reject(new Error(`experiment ${record.id} already exists`));
      const busy = running.get(record.domain);
      if (busy !== undefined) return Promise.resolve({ reason: 'domain_busy', runningId: busy });
      if (running.size >= maxRunning) return Promise.resolve({ reason: 'too_many_running', max: maxRunning });
      byId.set(record.id, { ...structuredClone(record), pValues: finite(record.pValues) });
      running.set(record.domain, record.id);
      return Promise.resolve(null);
    },
    get(id: string): Promise<ExperimentRecord | null> {
      return Promise.resolve(copy(byId.get(id)));
    },
    list(domain?: string): Promise<ExperimentRecord[]> {
      const all = [...byId.values()].filter((r) => domain === undefined || r.domain === domain);
      return Promise.resolve(all.sort(newestFirst).map((r) => structuredClone(r)));
    },
    running(): Promise<ExperimentRecord[]> {
      const ids = [...running.values()];
      return Promise.resolve(ids.flatMap((id) => copy(byId.get(id)) ?? []).sort(newestFirst));
    },
    stop(id: string, at: number, reason: StopReason): Promise<ExperimentRecord | null> {
      const r = byId.get(id);
      if (!r || r.state !== 'running') return Promise.resolve(null);
      const stopped: ExperimentRecord = { ...r, state: 'stopped', stoppedAt: at, stopReason: structuredClone(reason) };
      byId.set(id, stopped);
      if (running.get(r.domain) === id) running.delete(r.domain);
      return Promise.resolve(structuredClone(stopped));
    },
    lowerPValues(id: string, pValues: Readonly<Record<string, number>>): Promise<void> {
      const r = byId.get(id);
      if (!r) return Promise.resolve();
      const next: Record<string, number> = { ...r.pValues };
      for (const [arm, p] of Object.entries(finite(pValues))) {
        const cur = next[arm];
        if (cur === undefined || p < cur) next[arm] = p;
      }
      byId.set(id, { ...r, pValues: next });
      return Promise.resolve();
    },
  };
}
