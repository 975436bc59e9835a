/**
 * Redis ItemCatalogue. One string per item, `…:item:{<sha256(domain NUL id) prefix>}` (key-schema.ts), so
 * items spread over every slot of a Cluster and each command is single-slot; the value is the JSON array
 * `[title]` or `[title, text]`, written with `SET … EX ttl` (the latest seen wins). Reads are concurrent
 * GETs (auto-pipelined on one connection). Bytes per item: docs/loop.md.
 */
import type { CatalogueItem, ItemCatalogue } from '../experiments/item-catalogue.js';
import { createKeySchema, DEFAULT_KEY_PREFIX } from './key-schema.js';
import { ensureConnected } from './redis-connection.js';
import type { RedisClient } from './redis-connection.js';
import { createWriteCoalescer } from './redis-write-coalescing.js';

/** The connection and key prefix of the Redis catalogue. */
export interface RedisItemCatalogueOptions {
  redis: RedisClient;
  keyPrefix?: string;
}

/** A stored value as an item, or null when absent or malformed. */
function decode(raw: string | null): CatalogueItem | null {
  if (raw == null) return null;
  try {
    const v: unknown = JSON.parse(raw);
    if (!Array.isArray(v) || typeof v[0] !== 'string' || v[0] === '') return null;
    return typeof v[1] === 'string' ? { title: v[0], text: v[1] } : { title: v[0] };
  } catch {
    return null;
  }
}

/** Builds the Redis catalogue; every command touches one key. */
export function createRedisItemCatalogue(opts: RedisItemCatalogueOptions): ItemCatalogue {
  const { redis } = opts;
  const keys = createKeySchema(opts.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const coalescer = createWriteCoalescer(redis);
  return {
    async put(entries, ttlSeconds) {
      const ttl = Math.max(1, Math.ceil(ttlSeconds));
      await ensureConnected(redis);
      // A batch of SETs in one socket write (serving pays this process's CPU; redis-write-coalescing.ts).
      coalescer.hold();
      await Promise.all(
        entries.map((e) => redis.set(keys.catalogueItem(e.domain, e.id), JSON.stringify(e.text === undefined ? [e.title] : [e.title, e.text]), 'EX', ttl)),
      );
    },
    async getMany(domain, ids) {
      await ensureConnected(redis);
      const raws = await Promise.all(ids.map((id) => redis.get(keys.catalogueItem(domain, id))));
      return raws.map(decode);
    },
  };
}
