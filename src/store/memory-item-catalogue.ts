/**
 * In-memory ItemCatalogue for a replica without Redis: a count-bounded LRU (ITEM_CATALOGUE_MEMORY_MAX) of
 * (domain, id) → item with a TTL each. Only useful in one process (a CLI build reads Redis).
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../agp/ports.js';
import type { CatalogueItem, ItemCatalogue } from '../experiments/item-catalogue.js';

/** Bounds and clock of the in-memory catalogue. */
export interface MemoryItemCatalogueOptions {
  maxEntries: number;
  /** Most bytes of text held (UTF-16: 2 per char, plus the key), default 16 MiB: the embedded default must stay small. */
  maxBytes?: number;
  clock?: Clock;
}

/** Builds the in-memory catalogue. @throws Error when maxEntries is not a positive integer. */
export function createMemoryItemCatalogue(opts: MemoryItemCatalogueOptions): ItemCatalogue & { readonly size: number } {
  if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) throw new Error(`maxEntries must be a positive integer, got ${opts.maxEntries}`);
  const clock = opts.clock;
  const items = new LRUCache<string, CatalogueItem>({
    max: opts.maxEntries,
    maxSize: opts.maxBytes ?? 16 * 1024 * 1024,
    sizeCalculation: (v, k) => 2 * (k.length + v.title.length + (v.text?.length ?? 0)) + 64,
    ...(clock ? { perf: { now: () => clock.now() }, ttlResolution: 0 } : {}),
  });
  return {
    get size() {
      return items.size;
    },
    put(entries, ttlSeconds) {
      const ttl = Math.max(1, Math.round(ttlSeconds * 1000));
      for (const e of entries) items.set(`${e.domain}\u0000${e.id}`, e.text === undefined ? { title: e.title } : { title: e.title, text: e.text }, { ttl });
      return Promise.resolve();
    },
    getMany(domain, ids) {
      return Promise.resolve(ids.map((id) => items.get(`${domain}\u0000${id}`, { updateAgeOnGet: false }) ?? null));
    },
  };
}
