/**
 * In-memory ShadowStore for a replica without Redis (and for tests). Each experiment's state (encoded records,
 * counters, the LLM calls of recent hours) is one entry of an LRU bounded by count and by the records' bytes in
 * all (default 32 MiB: the embedded default must stay small), expiring `ttlSeconds` after its last write like
 * the Redis keys. Every operation is synchronous inside, so `add` is atomic as the port asks.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../agp/ports.js';
import { decodeShadowRecord, encodeShadowRecord, shadowRecordBytes } from '../experiments/shadow-scoring.js';
import type { ShadowCounters, ShadowEntry, ShadowRecord, ShadowRetention, ShadowState, ShadowStore } from '../experiments/shadow-types.js';
import { emptyShadowCounters } from '../experiments/shadow-types.js';

/** Bounds and clock of the in-memory store. */
export interface MemoryShadowStoreOptions {
  clock?: Clock | undefined;
  /** Experiments held (default 32; the least recently written goes first). */
  maxExperiments?: number | undefined;
  /** Bytes of encoded records held over every experiment (default 32 MiB); one experiment keeps at most this. */
  maxBytes?: number | undefined;
}

interface Entry {
  /** Encoded records, oldest first from `head`. */
  records: string[];
  head: number;
  bytes: number;
  counters: ShadowCounters;
  hours: Map<number, number>;
}

/** Per-entry overhead counted against maxBytes (the counters and maps). */
const ENTRY_OVERHEAD = 512;

/** Builds the in-memory shadow store. */
export function createMemoryShadowStore(opts: MemoryShadowStoreOptions = {}): ShadowStore {
  const clock = opts.clock;
  const maxBytes = opts.maxBytes ?? 32 * 1024 * 1024;
  const entries = new LRUCache<string, Entry>({
    max: opts.maxExperiments ?? 32,
    maxSize: maxBytes + ENTRY_OVERHEAD,
    sizeCalculation: (e) => e.bytes + ENTRY_OVERHEAD,
    ...(clock ? { perf: { now: () => clock.now() }, ttlResolution: 0 } : {}),
  });
  const peek = (id: string) => entries.get(id, { updateAgeOnGet: false });

  return {
    callsThisHour(experimentId: string, hour: number): Promise<number> {
      return Promise.resolve(peek(experimentId)?.hours.get(hour) ?? 0);
    },

    add(experimentId: string, entry: ShadowEntry, retention: ShadowRetention): Promise<void> {
      const e: Entry = peek(experimentId) ?? { records: [], head: 0, bytes: 0, counters: emptyShadowCounters(), hours: new Map() };
      const c = e.counters;
      if (entry.record) {
        const raw = encodeShadowRecord(entry.record.value);
        e.records.push(raw);
        e.bytes += shadowRecordBytes(raw);
        const cap = Math.min(retention.maxBytes, maxBytes);
        // The newest record always stays, as in Redis.
        while (e.records.length - e.head > 1 && (e.records.length - e.head > retention.maxRecords || e.bytes > cap)) {
          e.bytes -= shadowRecordBytes(e.records[e.head] as string);
          e.head += 1;
        }
        if (e.head > 1_024 && e.head * 2 > e.records.length) {
          e.records = e.records.slice(e.head);
          e.head = 0;
        }
        const tau = entry.record.tau;
        c.scored += 1;
        c.tau = { count: c.tau.count + 1, sum: c.tau.sum + tau, sumSq: c.tau.sumSq + tau * tau };
      }
      const calls = Math.max(0, Math.round(entry.llmCalls));
      if (calls > 0) {
        c.llmCalls += calls;
        e.hours.set(entry.hour, (e.hours.get(entry.hour) ?? 0) + calls);
        for (const h of e.hours.keys()) if (h < entry.hour - 1) e.hours.delete(h);
      }
      for (const k of ['budget', 'queueFull', 'failed'] as const) c.skipped[k] += entry.skipped?.[k] ?? 0;
      // Set again: refreshes the TTL and the entry's size.
      entries.set(experimentId, e, { ttl: Math.max(1, Math.round(retention.ttlSeconds * 1000)) });
      return Promise.resolve();
    },

    read(experimentId: string): Promise<ShadowState> {
      const e = peek(experimentId);
      if (!e) return Promise.resolve({ counters: emptyShadowCounters(), records: [] });
      const records: ShadowRecord[] = [];
      const seen = new Set<string>();
      for (let i = e.records.length - 1; i >= e.head; i--) {
        const r = decodeShadowRecord(e.records[i] as string);
        if (r && !seen.has(r.requestId)) {
          seen.add(r.requestId);
          records.push(r);
        }
      }
      const c = e.counters;
      return Promise.resolve({ counters: { scored: c.scored, skipped: { ...c.skipped }, llmCalls: c.llmCalls, tau: { ...c.tau } }, records });
    },

    delete(experimentId: string): Promise<void> {
      entries.delete(experimentId);
      return Promise.resolve();
    },
  };
}
