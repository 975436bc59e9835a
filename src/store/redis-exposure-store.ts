/**
 * Redis ExposureStore. Works unchanged on Redis Cluster: every command touches one slot.
 *
 * Keys (key-schema.ts): per exposure, under a tag derived from its requestId, the document (a string,
 * exposure-codec.ts), the dedupe hash and the positive-count hash, all expiring with the document; per user,
 * under the user's tag, a sorted set of the user's exposure tags scored by their expiry (so expired members
 * are trimmed on every put and the set cannot grow without bound) and an erasure tombstone holding the time
 * of the last erasure; per experiment and sums shard (sumsShard(userId), 16 shards), a hash of running sums
 * and a hash of per-user totals under one tag.
 *
 * - put: per exposure, two commands, a whole chunk of them leaving in one socket write (redis-write-coalescing.ts): a script on the user's slot (unless the user's tombstone
 *   is at or after the exposure's time, trim and ZADD the index) and `SET doc EX ttl NX` on the exposure's
 *   slot; a third, DEL, only when the script refused (an erased user). An erasure sets the tombstone BEFORE
 *   reading the index and overwrites each listed document with an empty marker (kept for the tombstone's
 *   lifetime) instead of deleting it: a put whose index step came first either wrote its document before
 *   the marker (overwritten) or finds the marker (NX refuses). Recording CPU is paid by the serving process
 *   (docs/experiments-storage.md), so every command here counts.
 * - put also lists the exposures in their domain's hour bucket (redis-exposure-scan.ts): one more script call
 *   per (domain, hour) of the chunk, in the same write; `scan` streams a window from those buckets.
 * - On a standalone Redis all of a turn's writes (each exposure's index step and document as ONE script,
 *   PUT_LUA, since the two may share a script there; the time index; the running sums) go as one EVALSHA
 *   (redis-lua-batch.ts), each operation with its own result. On a Cluster, or with `batch: false`, each is its
 *   own script call as described above. Same keys, same semantics; an erased user's document is then never
 *   written instead of written and taken back.
 * - applyEvents: ONE script on the exposure's slot: no document → nil; else HSETNX per dedupe key,
 *   HINCRBY the item's positive count for fresh positives, returns the counts before and after.
 * - deleteUser: a script on the user's slot (tombstone, read the index), then per exposure one script on
 *   its slot (marker, DEL of its events), then ZREM of what was erased (one indexed meanwhile stays listed).
 *   An empty document reads as no exposure everywhere.
 * - applySums: ONE script on the user's sums shard (redis-sums-script.ts): the increments, then per user delta the
 *   fold of user-level-fold.ts on the user's stored totals. readSums: one HGETALL per shard, summed here.
 *
 * Redis errors propagate: the recorder counts them, the ingestion service turns them into a 503.
 */
import type { ArmSums, EventApplication, EventWrite, ExposureStore, ExposureWrite, PositiveCounts, SumsUpdate } from '../experiments/ports.js';
import { decodeExposure, exposureDoc } from '../experiments/exposure-codec.js';
import type { Clock } from '../agp/ports.js';
import { createKeySchema, DEFAULT_KEY_PREFIX, SUMS_SHARDS, sumsShard } from './key-schema.js';
import { APPLY_SUMS_LUA, SEP, applySumsArgs } from './redis-sums-script.js';
import { ensureConnected } from './redis-connection.js';
import { defineScript } from './redis-script.js';
import { createExposureTimeIndex, TIME_INDEX_LUA } from './redis-exposure-scan.js';
import { createLuaBatch } from './redis-lua-batch.js';
import { APPLY_LUA, ERASE_BEGIN_LUA, ERASE_ONE_LUA, INDEX_LUA, POSITIVES_LUA, PUT_LUA, RELEASE_LUA } from './redis-exposure-scripts.js';
import { createWriteCoalescer } from './redis-write-coalescing.js';
import type { RedisClient } from './redis-connection.js';

/** The connection (a `cache`-role client: fail fast), key prefix and limits of the Redis store. */
export interface RedisExposureStoreOptions {
  redis: RedisClient;
  keyPrefix?: string;
  clock?: Clock;
  /** Lifetime of an erasure tombstone (default 3600 s): it must outlive an exposure waiting in the recorder. */
  erasureTombstoneSeconds?: number;
  /** Exposures written or erased concurrently (default 64). */
  concurrency?: number;
  /**
   * A turn's puts, time-index writes and sums as one script call (redis-lua-batch.ts). Default: on a
   * standalone Redis; impossible on a Cluster (a batch spans slots). `false` keeps one script per operation,
   * the Cluster's path, also on a standalone server (the tests and bench/exposure-store-cpu.ts run both).
   */
  batch?: boolean;
}

/** A flat [k, v, k, v…] reply as a Map of numbers. */
function countsOf(flat: unknown): Map<string, number> {
  const out = new Map<string, number>();
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out.set(String(flat[i]), Number(flat[i + 1]));
  return out;
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Builds the Redis store; every operation is single-slot, so it runs on a Cluster unchanged. */
export function createRedisExposureStore(opts: RedisExposureStoreOptions): ExposureStore {
  const { redis } = opts;
  const keys = createKeySchema(opts.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const clock = opts.clock ?? { now: () => Date.now() };
  const tombstoneTtl = Math.max(1, Math.ceil(opts.erasureTombstoneSeconds ?? 3600));
  const concurrency = opts.concurrency ?? 64;
  // EVALSHA, not the body on every call (redis-script.ts).
  const script = {
    index: defineScript(redis, INDEX_LUA, 2),
    apply: defineScript(redis, APPLY_LUA, 4),
    release: defineScript(redis, RELEASE_LUA, 2),
    positives: defineScript(redis, POSITIVES_LUA, 2),
    eraseBegin: defineScript(redis, ERASE_BEGIN_LUA, 2),
    eraseOne: defineScript(redis, ERASE_ONE_LUA, 4),
    applySums: defineScript(redis, APPLY_SUMS_LUA, 2),
  };
  // Standalone: a turn's puts, time-index writes and sums are one EVALSHA (redis-lua-batch.ts). Cluster: one
  // script per operation (their keys span slots), every command of a turn in one socket write per node.
  const batch = redis.isCluster || opts.batch === false ? null : createLuaBatch(redis, { put: PUT_LUA, time: TIME_INDEX_LUA, sums: APPLY_SUMS_LUA });
  const timeIndex = createExposureTimeIndex({ redis, keys, ...(batch ? { runIndex: (bucket, args) => batch.run('time', [bucket], args) } : {}) });
  const coalescer = createWriteCoalescer(redis);
  const exposureKeys = (tag: string) => [keys.exposureDoc(tag), keys.exposureEvents(tag), keys.exposurePositives(tag), keys.exposureClaimed(tag)] as const;

  /**
   * One exposure's two writes (issued at once, not awaited here): the user-index script and the document.
   * Settles true when the exposure is stored and listed.
   */
  const putOne = (r: ExposureWrite, ttl: number, nowS: number): Promise<boolean> => {
    const tag = keys.exposureTag(r.requestId);
    const [idx, tomb] = [keys.exposureUserIndex(r.userId), keys.exposureErasure(r.userId)];
    const doc = keys.exposureDoc(tag);
    if (batch) return batch.run('put', [idx, tomb, doc], [tag, nowS + ttl, nowS, r.at, exposureDoc(r), ttl]).then((stored) => stored === 1);
    return Promise.all([script.index(idx, tomb, tag, nowS + ttl, nowS, r.at), redis.set(doc, exposureDoc(r), 'EX', ttl, 'NX')]).then(async ([indexed, set]) => {
      if (Number(indexed) === 1) return set === 'OK';
      // The user was erased after this exposure was served: take back the document if it was written.
      if (set === 'OK') await redis.del(doc);
      return false;
    });
  };

  /** Writes `records` in chunks of `concurrency`: every command of a chunk leaves in one socket write. */
  const putChunk = async (records: readonly ExposureWrite[], ttl: number): Promise<boolean[]> => {
    const nowS = Math.floor(clock.now() / 1000);
    if (!batch) coalescer.hold();
    // The time index goes out in the same write; a member whose document is refused or taken back is
    // harmless (a scan skips an exposure without a document).
    const [stored] = await Promise.all([Promise.all(records.map((r) => putOne(r, ttl, nowS))), timeIndex.add(records, ttl, nowS)]);
    return stored;
  };

  return {
    async put(records, ttlSeconds) {
      const ttl = Math.max(1, Math.ceil(ttlSeconds));
      await ensureConnected(redis);
      const out: boolean[] = [];
      for (let i = 0; i < records.length; i += concurrency) out.push(...(await putChunk(records.slice(i, i + concurrency), ttl)));
      return out;
    },

    async get(requestId) {
      await ensureConnected(redis);
      return decodeExposure(requestId, await redis.get(keys.exposureDoc(keys.exposureTag(requestId))));
    },

    async applyEvents(requestId: string, events: readonly EventWrite[]): Promise<EventApplication | null> {
      await ensureConnected(redis);
      const args = events.flatMap((e) => [e.dedupeKey, e.itemId, e.positive ? '1' : '0']);
      const reply = (await script.apply(...exposureKeys(keys.exposureTag(requestId)), ...args)) as unknown;
      if (!Array.isArray(reply)) return null;
      const [fresh, before, after] = reply as [unknown, unknown, unknown];
      return { fresh: (Array.isArray(fresh) ? fresh : []).map((f) => Number(f) === 1), before: countsOf(before), after: countsOf(after) };
    },

    async releaseClaim(requestId: string, claimed: PositiveCounts, restore: PositiveCounts): Promise<boolean> {
      await ensureConnected(redis);
      const tag = keys.exposureTag(requestId);
      const flat = (m: PositiveCounts) => [...m].flatMap(([k, v]) => [k, String(v)]);
      const expected = flat(claimed);
      return Number(await script.release(keys.exposureDoc(tag), keys.exposureClaimed(tag), expected.length, ...expected, ...flat(restore))) === 1;
    },

    async positives(requestId: string): Promise<PositiveCounts | null> {
      await ensureConnected(redis);
      const tag = keys.exposureTag(requestId);
      const reply = (await script.positives(keys.exposureDoc(tag), keys.exposurePositives(tag))) as unknown;
      return Array.isArray(reply) ? countsOf(reply) : null;
    },

    async deleteUser(userId: string): Promise<number> {
      await ensureConnected(redis);
      const idx = keys.exposureUserIndex(userId);
      const tags = (await script.eraseBegin(idx, keys.exposureErasure(userId), clock.now(), tombstoneTtl)) as string[];
      const removed = await eachLimited(tags, concurrency, async (tag) => Number(await script.eraseOne(...exposureKeys(tag), tombstoneTtl)));
      for (let i = 0; i < tags.length; i += 500) await redis.zrem(idx, ...tags.slice(i, i + 500));
      return removed.reduce((a, b) => a + b, 0);
    },

    scan: (domain, since, until, pageSize) => timeIndex.scan(domain, since, until, pageSize),

    async forgetUserTotals(experimentId: string, arms: readonly string[], userId: string): Promise<void> {
      if (arms.length === 0) return;
      await ensureConnected(redis);
      await redis.hdel(keys.experimentUserTotals(experimentId, sumsShard(userId)), ...arms.map((arm) => `${arm}${SEP}${userId}`));
    },

    async applySums(experimentId: string, update: SumsUpdate): Promise<void> {
      const args = applySumsArgs(update);
      if (!args) return;
      const shard = sumsShard(update.userId);
      await ensureConnected(redis);
      const [sums, totals] = [keys.experimentSums(experimentId, shard), keys.experimentUserTotals(experimentId, shard)];
      if (batch) {
        await batch.run('sums', [sums, totals], args);
        return;
      }
      // The recorder applies a batch's sums together: one socket write for all of them.
      coalescer.hold();
      await script.applySums(sums, totals, ...args);
    },

    async readSums(experimentId: string): Promise<ArmSums> {
      await ensureConnected(redis);
      // One single-key read per shard (concurrent, never one cross-slot command), merged by addition.
      const shards = await Promise.all(Array.from({ length: SUMS_SHARDS }, (_, k) => redis.hgetall(keys.experimentSums(experimentId, k))));
      const out: Record<string, Record<string, number>> = {};
      for (const shard of shards) {
        for (const [name, value] of Object.entries(shard)) {
          const cut = name.indexOf(SEP);
          const [arm, field] = [name.slice(0, cut), name.slice(cut + 1)];
          const row = (out[arm] ??= {});
          row[field] = (row[field] ?? 0) + Number(value);
        }
      }
      return out;
    },

    async deleteSums(experimentId: string): Promise<void> {
      await ensureConnected(redis);
      await Promise.all(Array.from({ length: SUMS_SHARDS }, (_, k) => redis.del(keys.experimentSums(experimentId, k), keys.experimentUserTotals(experimentId, k))));
    },
  };
}
