/**
 * The item catalogue: per domain, item id → the latest {title, text} seen in a rerank request, with a TTL.
 * Exposures keep item ids only; a dataset build (dataset-builder.ts) turns them back into titles here.
 *
 * Fed OFF the request path like the exposure recorder: `observe()` runs a cheap check per item, enqueues
 * only what changed and returns; one drain loop writes batches. A bounded cache of (domain, id) → (title,
 * text fingerprint, written at) skips an item whose title and text are unchanged and whose stored copy still
 * has more than half its TTL left, so a steady catalogue costs a lookup per item per rerank and almost no
 * writes. A full queue drops (counted); a failing store is counted; nothing here ever throws into serving.
 *
 * Adapters: src/store/memory-item-catalogue.ts, src/store/redis-item-catalogue.ts. Pure: no driver imports.
 */
import type { Clock } from '../agp/ports.js';

/** What the catalogue keeps of an item. */
export interface CatalogueItem {
  title: string;
  text?: string | undefined;
}

/** One item to store. */
export interface CatalogueEntry extends CatalogueItem {
  domain: string;
  id: string;
}

/** Storage of the catalogue (a port). */
export interface ItemCatalogue {
  /** Stores (overwrites) items, each expiring `ttlSeconds` after the write. */
  put(entries: readonly CatalogueEntry[], ttlSeconds: number): Promise<void>;
  /** The items of `ids` in one domain, in order; null for unknown or expired ones. */
  getMany(domain: string, ids: readonly string[]): Promise<(CatalogueItem | null)[]>;
}

/** Outcomes of observed items (bounded label values). */
export type CatalogueOutcome = 'written' | 'unchanged' | 'dropped' | 'failed';

/** The store and limits of a catalogue recorder. */
export interface CatalogueRecorderOptions {
  store: ItemCatalogue;
  ttlSeconds: number;
  clock?: Clock;
  /** Most items waiting for the store (default 20,000). */
  maxQueue?: number;
  /** Most items per store write (default 200). */
  batchSize?: number;
  /** Items remembered as recently written (default 50,000). */
  recentMax?: number;
  /**
   * Longest title and text kept (MAX_TITLE_CHARS / MAX_TEXT_CHARS, default 200 / 500): what the prompts send
   * is what a dataset needs, and it bounds the queue and the stores whatever a caller sends.
   */
  maxTitleChars?: number;
  maxTextChars?: number;
  onOutcome?: (outcome: CatalogueOutcome, count: number) => void;
}

/** What serving calls with every rerank's items. */
export interface CatalogueRecorder {
  /** Enqueues the items whose text changed or whose stored copy is past half its TTL; never throws. */
  observe(domain: string, items: readonly (CatalogueItem & { id: string })[]): void;
  /** Resolves once everything enqueued before the call was written (or failed). */
  flush(): Promise<void>;
  readonly pending: number;
}

/**
 * What observe() remembers of an item it wrote: its title itself (compared natively, no hashing), a
 * fingerprint of its text and when it was written.
 */
interface Seen {
  title: string;
  text: number;
  at: number;
}

/** Characters of a text the fingerprint reads at most (evenly spaced). */
const TEXT_SAMPLES = 64;

/**
 * A cheap change detector for an item's text: its length and FNV-1a over at most TEXT_SAMPLES evenly spaced
 * characters (all of them up to that length). An edit that keeps the length and misses every sampled
 * character goes unnoticed until the stored copy is half its TTL old, when it is rewritten anyway. Reading
 * every character (the first version) cost more than the rest of observe() for 200-character texts.
 */
export function textFingerprint(text: string | undefined): number {
  if (text === undefined) return -1;
  const step = Math.max(1, Math.floor(text.length / TEXT_SAMPLES));
  let h = Math.imul(0x811c9dc5 ^ text.length, 0x01000193);
  for (let i = 0; i < text.length; i += step) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The items observe() wrote recently, per domain, at most `max` in all: two generations of plain Maps (a
 * full current one becomes the previous one, whose entries move back on a hit; the older one is dropped).
 * Hand-written for a measured hot path (bench/catalogue-observe-cpu.ts): it runs for every item of every
 * recorded rerank, and lru-cache's per-get bookkeeping plus a `domain NUL id` key string per item cost
 * more than the check itself.
 */
class RecentItems {
  private cur = new Map<string, Map<string, Seen>>();
  private prev = new Map<string, Map<string, Seen>>();
  private size = 0;
  constructor(private readonly max: number) {}

  get(domain: string, id: string): Seen | undefined {
    const hit = this.cur.get(domain)?.get(id);
    if (hit) return hit;
    const old = this.prev.get(domain)?.get(id);
    if (old) this.set(domain, id, old);
    return old;
  }

  set(domain: string, id: string, seen: Seen): void {
    let m = this.cur.get(domain);
    if (!m) this.cur.set(domain, (m = new Map()));
    if (!m.has(id)) this.size += 1;
    m.set(id, seen);
    if (this.size >= Math.max(1, this.max >> 1)) {
      this.prev = this.cur;
      this.cur = new Map();
      this.size = 0;
    }
  }

  delete(domain: string, id: string): void {
    if (this.cur.get(domain)?.delete(id)) this.size -= 1;
    this.prev.get(domain)?.delete(id);
  }
}

/** Builds a recorder with its own queue and drain loop (one per process). */
export function createCatalogueRecorder(opts: CatalogueRecorderOptions): CatalogueRecorder {
  const clock = opts.clock ?? { now: () => Date.now() };
  const maxQueue = opts.maxQueue ?? 20_000;
  const batchSize = opts.batchSize ?? 200;
  const halfTtlMs = (opts.ttlSeconds * 1000) / 2;
  const recent = new RecentItems(opts.recentMax ?? 50_000);
  const [maxTitle, maxText] = [opts.maxTitleChars ?? 200, opts.maxTextChars ?? 500];
  // slice() of a string that fits returns it unchanged (no copy) on the common path.
  const capped = <T extends { id: string; title: string; text?: string | undefined }>(it: T): T =>
    it.title.length <= maxTitle && (it.text === undefined || it.text.length <= maxText)
      ? it
      : { ...it, title: it.title.slice(0, maxTitle), ...(it.text === undefined ? {} : { text: it.text.slice(0, maxText) }) };
  const count = (o: CatalogueOutcome, n = 1) => {
    if (n > 0) opts.onOutcome?.(o, n);
  };
  let queue: CatalogueEntry[] = [];
  let draining: Promise<void> | undefined;

  const drain = async () => {
    while (queue.length > 0) {
      const batch = queue.slice(0, batchSize);
      queue = queue.slice(batch.length);
      try {
        await opts.store.put(batch, opts.ttlSeconds);
        count('written', batch.length);
      } catch {
        // Forget them, so the next rerank showing them tries again.
        for (const e of batch) recent.delete(e.domain, e.id);
        count('failed', batch.length);
      }
    }
  };
  const startDrain = () => {
    draining ??= (async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await drain();
    })().finally(() => {
      draining = undefined;
      if (queue.length > 0) startDrain();
    });
  };

  return {
    get pending() {
      return queue.length;
    },
    observe(domain, items) {
      try {
        const now = clock.now();
        let unchanged = 0;
        for (const raw of items) {
          const it = capped(raw);
          const text = textFingerprint(it.text);
          const seen = recent.get(domain, it.id);
          if (seen && seen.title === it.title && seen.text === text && now - seen.at < halfTtlMs) {
            unchanged += 1;
            continue;
          }
          if (queue.length >= maxQueue) {
            count('dropped');
            continue;
          }
          recent.set(domain, it.id, { title: it.title, text, at: now });
          queue.push(it.text === undefined ? { domain, id: it.id, title: it.title } : { domain, id: it.id, title: it.title, text: it.text });
        }
        count('unchanged', unchanged);
        if (queue.length > 0) startDrain();
      } catch {
        // serving must never fail because of the catalogue
      }
    },
    async flush() {
      while (draining) await draining;
    },
  };
}
