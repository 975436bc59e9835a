/**
 * In-memory LoopStore for a replica without Redis (and for tests). Every operation is synchronous inside, so
 * beginRun's refusal and updateRun's compare-and-set are atomic as the port asks. Records are copied in and
 * out (structuredClone), so a caller mutating what it passed or got cannot change what is stored.
 *
 * Bounded like the Redis store: the last LOOP_RUNS_KEPT finished runs and the last LOOP_AUDIT_KEPT audit
 * records per domain. Orders and refusals match redis-loop-store.ts (test/conformance/loop-store-conformance.ts).
 */
import type { Clock } from '../agp/ports.js';
import { LOOP_AUDIT_KEPT, LOOP_RUNS_KEPT } from '../loop/ports.js';
import type { AuditRecord, LoopRun, LoopStore, Pin, Schedule } from '../loop/ports.js';

/** Options of the in-memory loop store. */
export interface MemoryLoopStoreOptions {
  /** Accepted for symmetry with the Redis store; no operation reads the time (records carry their own). */
  clock?: Clock;
}

/** One domain's runs: the current one (done or not) and the finished ones, newest first. */
interface DomainRuns {
  current: LoopRun | null;
  recent: LoopRun[];
}

/** A page size as a count: negative, NaN and fractions never widen a page. */
export function pageSize(limit: number): number {
  return Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : 0;
}

/**
 * The runs of listRuns from the current run and the recent finished ones (newest first): a current run that is
 * done is already the head of the recent ones, so it is listed once.
 */
export function runsNewestFirst(current: LoopRun | null, recent: readonly LoopRun[], limit: number): LoopRun[] {
  const all = current && current.step !== 'done' ? [current, ...recent] : [...recent];
  const seen = new Set<string>();
  return all.filter((r) => !seen.has(r.runId) && seen.add(r.runId)).slice(0, pageSize(limit));
}

/** Orders ids by their UTF-8 bytes, as the Redis store's script does (the same as code units for ASCII ids). */
function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * An audit page from a trail ordered by id, greatest first: the first `limit` records below `before` (by id, which is
 * time-ordered) and of `runId` when given.
 */
function auditPage(trail: readonly AuditRecord[], opts: { limit: number; before?: string | undefined; runId?: string | undefined }): AuditRecord[] {
  const { before, runId } = opts;
  return trail.filter((r) => (before === undefined || compareIds(r.id, before) < 0) && (runId === undefined || r.runId === runId)).slice(0, pageSize(opts.limit));
}

/** Builds the in-memory loop store. */
export function createMemoryLoopStore(_opts: MemoryLoopStoreOptions = {}): LoopStore {
  const schedules = new Map<string, Schedule>();
  const pins = new Map<string, Pin>();
  const runs = new Map<string, DomainRuns>();
  const audit = new Map<string, AuditRecord[]>();
  const copy = <T>(v: T | undefined): T | null => (v === undefined ? null : structuredClone(v));
  const runsOf = (domain: string): DomainRuns => {
    let r = runs.get(domain);
    if (!r) runs.set(domain, (r = { current: null, recent: [] }));
    return r;
  };
  /** Makes `run` current and, once done, the newest recent run. */
  const store = (r: DomainRuns, run: LoopRun): void => {
    r.current = structuredClone(run);
    if (run.step === 'done') r.recent = [structuredClone(run), ...r.recent].slice(0, LOOP_RUNS_KEPT);
  };

  return {
    putSchedule(schedule: Schedule): Promise<void> {
      schedules.set(schedule.domain, structuredClone(schedule));
      return Promise.resolve();
    },
    getSchedule(domain: string): Promise<Schedule | null> {
      return Promise.resolve(copy(schedules.get(domain)));
    },
    listSchedules(): Promise<Schedule[]> {
      const domains = [...schedules.keys()].sort();
      return Promise.resolve(domains.flatMap((d) => copy(schedules.get(d)) ?? []));
    },
    deleteSchedule(domain: string): Promise<boolean> {
      return Promise.resolve(schedules.delete(domain));
    },

    getPin(domain: string): Promise<Pin | null> {
      return Promise.resolve(copy(pins.get(domain)));
    },
    listPins(): Promise<Pin[]> {
      const domains = [...pins.keys()].sort();
      return Promise.resolve(domains.flatMap((d) => copy(pins.get(d)) ?? []));
    },
    setPin(domain: string, pin: Pin | null): Promise<boolean> {
      if (pin === null) return Promise.resolve(pins.delete(domain));
      pins.set(domain, structuredClone(pin));
      return Promise.resolve(true);
    },

    beginRun(run: LoopRun): Promise<LoopRun | null> {
      const r = runsOf(run.domain);
      const cur = r.current;
      if (cur && (cur.runId === run.runId || cur.step !== 'done')) return Promise.resolve(structuredClone(cur));
      const earlier = r.recent.find((x) => x.runId === run.runId);
      if (earlier) return Promise.resolve(structuredClone(earlier));
      store(r, run);
      return Promise.resolve(null);
    },
    currentRun(domain: string): Promise<LoopRun | null> {
      return Promise.resolve(copy(runs.get(domain)?.current ?? undefined));
    },
    getRun(domain: string, runId: string): Promise<LoopRun | null> {
      const r = runs.get(domain);
      if (!r) return Promise.resolve(null);
      const found = r.current?.runId === runId ? r.current : r.recent.find((x) => x.runId === runId);
      return Promise.resolve(copy(found));
    },
    updateRun(run: LoopRun): Promise<boolean> {
      const r = runs.get(run.domain);
      const cur = r?.current;
      if (!r || !cur || cur.runId !== run.runId || cur.step === 'done') return Promise.resolve(false);
      store(r, run);
      return Promise.resolve(true);
    },
    listRuns(domain: string, limit: number): Promise<LoopRun[]> {
      const r = runs.get(domain);
      if (!r) return Promise.resolve([]);
      return Promise.resolve(runsNewestFirst(r.current, r.recent, limit).map((x) => structuredClone(x)));
    },

    appendAudit(record: AuditRecord): Promise<void> {
      const trail = audit.get(record.domain) ?? [];
      // Ordered by id, greatest first (equal ids: newest appended first), as the Redis store keeps it: a record
      // appended late (another writer's clock) goes to its place, so paging by id has no gap and no repeat.
      const at = trail.findIndex((r) => compareIds(record.id, r.id) >= 0);
      trail.splice(at === -1 ? trail.length : at, 0, structuredClone(record));
      if (trail.length > LOOP_AUDIT_KEPT) trail.length = LOOP_AUDIT_KEPT;
      audit.set(record.domain, trail);
      return Promise.resolve();
    },
    listAudit(domain: string, opts: { limit: number; before?: string | undefined; runId?: string | undefined }): Promise<AuditRecord[]> {
      return Promise.resolve(auditPage(audit.get(domain) ?? [], opts).map((r) => structuredClone(r)));
    },
  };
}
