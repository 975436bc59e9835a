/**
 * A fast filler for the dataset-build bench: writes exposures and their positive events with the exact keys
 * and values the Redis exposure store writes (src/store/redis-exposure-store.ts, redis-exposure-scan.ts), but
 * as plain commands in one pipeline per batch instead of three script calls per exposure. 1M exposures through
 * the store's put took minutes of client CPU on a 2-core machine; the fill is set-up, not the measured figure.
 *
 * Because this repeats the store's layout, `checkAgainstStore` writes the same exposures both ways (under two
 * prefixes) and compares every key, so a change to the store's layout fails the bench instead of silently
 * measuring a different one.
 */
import type { Redis } from 'ioredis';
import { isDeepStrictEqual } from 'node:util';
import { encodeExposure } from '../../src/experiments/exposure-codec.js';
import { createKeySchema } from '../../src/store/key-schema.js';
import { BUCKET_MS } from '../../src/store/redis-exposure-scan.js';
import { createRedisExposureStore } from '../../src/store/redis-exposure-store.js';
import type { TrafficBatch } from './exposure-fill.js';

/** Writes one batch as the store's put + applyEvents (one click on the positive item) would. */
export async function pipelineFill(redis: Redis, prefix: string, batch: TrafficBatch, ttlSeconds: number): Promise<void> {
  const keys = createKeySchema(prefix);
  const nowS = Math.floor(Date.now() / 1000);
  const p = redis.pipeline();
  for (const r of batch.records) {
    const tag = keys.exposureTag(r.requestId);
    const idx = keys.exposureUserIndex(r.userId);
    const hour = Math.floor(r.at / BUCKET_MS);
    const bucket = keys.exposureTimeBucket(r.domain, hour);
    p.zadd(idx, nowS + ttlSeconds, tag).expireat(idx, nowS + ttlSeconds);
    p.set(keys.exposureDoc(tag), encodeExposure(r), 'EX', ttlSeconds, 'NX');
    p.zadd(bucket, r.at, r.requestId).expireat(bucket, Math.max(Math.ceil(((hour + 1) * BUCKET_MS) / 1000), nowS) + ttlSeconds);
  }
  for (const { requestId, itemId } of batch.positives) {
    const tag = keys.exposureTag(requestId);
    const [ev, pos, cl] = [keys.exposureEvents(tag), keys.exposurePositives(tag), keys.exposureClaimed(tag)];
    p.hset(ev, 'click', '1').hincrby(pos, itemId, 1).hset(cl, itemId, '1');
    p.expire(ev, ttlSeconds).expire(pos, ttlSeconds).expire(cl, ttlSeconds);
  }
  const replies = (await p.exec()) ?? [];
  const failed = replies.find(([err]) => err);
  if (failed) throw failed[0] as Error;
}

/** The value of every key one exposure has (TTLs aside), as the store's own reads would see them. */
async function snapshot(redis: Redis, prefix: string, batch: TrafficBatch): Promise<unknown[]> {
  const keys = createKeySchema(prefix);
  return Promise.all(
    batch.records.map(async (r) => {
      const tag = keys.exposureTag(r.requestId);
      const bucket = keys.exposureTimeBucket(r.domain, Math.floor(r.at / BUCKET_MS));
      return [
        await redis.get(keys.exposureDoc(tag)),
        await redis.zscore(keys.exposureUserIndex(r.userId), tag).then((s) => (s === null ? null : 'listed')),
        await redis.zscore(bucket, r.requestId),
        await redis.hgetall(keys.exposureEvents(tag)),
        await redis.hgetall(keys.exposurePositives(tag)),
        await redis.hgetall(keys.exposureClaimed(tag)),
        (await redis.ttl(bucket)) > 0 && (await redis.ttl(keys.exposureDoc(tag))) > 0,
      ];
    }),
  );
}

/**
 * Writes `batch` through the real store (put + applyEvents) under `${prefix}s` and through pipelineFill under
 * `${prefix}p`, and compares every key. @throws Error naming the first exposure that differs.
 */
export async function checkAgainstStore(redis: Redis, prefix: string, batch: TrafficBatch, ttlSeconds: number): Promise<void> {
  const store = createRedisExposureStore({ redis, keyPrefix: `${prefix}s` });
  await store.put(batch.records, ttlSeconds);
  for (const { requestId, itemId } of batch.positives) await store.applyEvents(requestId, [{ dedupeKey: 'click', itemId, positive: true }]);
  await pipelineFill(redis, `${prefix}p`, batch, ttlSeconds);
  const [viaStore, viaPipeline] = [await snapshot(redis, `${prefix}s`, batch), await snapshot(redis, `${prefix}p`, batch)];
  const i = viaStore.findIndex((s, k) => !isDeepStrictEqual(s, viaPipeline[k]));
  if (i >= 0) throw new Error(`the pipeline fill no longer writes what the store writes (exposure ${i}): ${JSON.stringify(viaStore[i])} vs ${JSON.stringify(viaPipeline[i])}`);
  const leftovers = [...(await redis.keys(`${prefix}s:*`)), ...(await redis.keys(`${prefix}p:*`))];
  for (let k = 0; k < leftovers.length; k += 500) await redis.del(...leftovers.slice(k, k + 500));
}
