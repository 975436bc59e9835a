/**
 * The time index of the Redis exposure store and the scan over it (ExposureStore.scan).
 *
 * Per (domain, epoch hour) one sorted set requestId → served time (ms), under its own hash tag
 * (`…:xt:{<domain>:<hour>}`), so one busy domain spreads over many slots and every command stays single-slot.
 * The put path adds one script call per (domain, hour) of a batch (one ZADD of its members, and EXPIREAT only when the bucket's expiry must move):
 * a bucket expires `ttl` after the later of the end of its hour and the last write, so it outlives every
 * exposure it lists by at most an hour.
 *
 * A scan walks the hour buckets of [since, until) in order, reads one page of members at a time by score
 * (a cursor of (last score, members already seen at that score), never a growing offset), then fetches the
 * page's documents and positive counts concurrently. A member whose document is gone (expired, erased: the
 * erasure marker is an empty document) is skipped, so an erased user's exposures are never yielded; the
 * member itself ages out with its bucket.
 */
import type { ScannedExposure } from '../experiments/ports.js';
import { decodeExposure } from '../experiments/exposure-codec.js';
import type { KeySchema } from './key-schema.js';
import type { RedisClient } from './redis-connection.js';
import { defineScript } from './redis-script.js';

/** One hour, the bucket width of the time index. */
export const BUCKET_MS = 3_600_000;

/** KEYS: bucket. ARGV: expiry (epoch s), now (epoch s), then (servedAt ms, requestId) pairs. */
export const TIME_INDEX_LUA = `
redis.call('ZADD', KEYS[1], unpack(ARGV, 3))
local ttl = redis.call('TTL', KEYS[1])
local want = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
if ttl < 0 or now + ttl < want then redis.call('EXPIREAT', KEYS[1], want) end
return 1
`;

/** KEYS: doc, positives. [doc, flat counts], or nil when the document is gone or an erasure marker. */
const READ_LUA = `
local doc = redis.call('GET', KEYS[1])
if not doc or #doc == 0 then return false end
return {doc, redis.call('HGETALL', KEYS[2])}
`;

/** What the scan needs: the connection, the keys and how to find an exposure's keys from its requestId. */
export interface ExposureScanDeps {
  redis: RedisClient;
  keys: KeySchema;
  /** Runs TIME_INDEX_LUA for one bucket another way (the store's batch on a standalone Redis). */
  runIndex?: (bucket: string, args: Array<string | number>) => Promise<unknown>;
}

/** The time-index writer and the scan of one Redis exposure store. */
export interface ExposureTimeIndex {
  /**
   * Lists exposures in their domains' hour buckets, one script call per (domain, hour) of the batch; a bucket
   * expires `ttl` seconds after the end of its hour (or after `nowS`, when later).
   */
  add(entries: ReadonlyArray<{ domain: string; requestId: string; at: number }>, ttlSeconds: number, nowS: number): Promise<unknown>;
  scan(domain: string, since: number, until: number, pageSize?: number): AsyncGenerator<ScannedExposure[]>;
}

/** Builds the time index over a connection. */
export function createExposureTimeIndex({ redis, keys, runIndex }: ExposureScanDeps): ExposureTimeIndex {
  const script = defineScript(redis, TIME_INDEX_LUA, 1);
  const index = runIndex ?? ((bucket: string, args: Array<string | number>) => script(bucket, ...args));
  const read = defineScript(redis, READ_LUA, 2);

  const readOne = async (requestId: string): Promise<ScannedExposure | null> => {
    const tag = keys.exposureTag(requestId);
    const reply = (await read(keys.exposureDoc(tag), keys.exposurePositives(tag))) as unknown;
    if (!Array.isArray(reply)) return null;
    const exposure = decodeExposure(requestId, reply[0] as string);
    if (!exposure) return null;
    const flat = Array.isArray(reply[1]) ? (reply[1] as unknown[]) : [];
    const positives = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) positives.set(String(flat[i]), Number(flat[i + 1]));
    return { exposure, positives };
  };

  return {
    add(entries, ttlSeconds, nowS) {
      // Grouped by bucket: a batch of one busy domain is one command, not one per exposure.
      const buckets = new Map<string, { hour: number; args: Array<string | number> }>();
      for (const e of entries) {
        const hour = Math.floor(e.at / BUCKET_MS);
        const key = keys.exposureTimeBucket(e.domain, hour);
        let b = buckets.get(key);
        if (!b) buckets.set(key, (b = { hour, args: [] }));
        b.args.push(e.at, e.requestId);
      }
      return Promise.all(
        [...buckets].map(([key, b]) => {
          // A document expires ttl after its write (not after its served time): the bucket outlives both.
          const expiry = Math.max(Math.ceil(((b.hour + 1) * BUCKET_MS) / 1000), nowS) + ttlSeconds;
          return index(key, [expiry, nowS, ...b.args]);
        }),
      );
    },

    async *scan(domain, since, until, pageSize = 200) {
      if (!(until > since)) return;
      const page = Math.max(1, Math.floor(pageSize));
      for (let hour = Math.floor(since / BUCKET_MS); hour <= Math.floor((until - 1) / BUCKET_MS); hour++) {
        const bucket = keys.exposureTimeBucket(domain, hour);
        let low = String(since);
        let lastScore = Number.NaN;
        let seenAtLast = 0;
        for (;;) {
          const flat = await redis.zrangebyscore(bucket, low, `(${until}`, 'WITHSCORES', 'LIMIT', seenAtLast, page);
          if (flat.length === 0) break;
          const ids: string[] = [];
          for (let i = 0; i + 1 < flat.length; i += 2) {
            const score = Number(flat[i + 1]);
            ids.push(flat[i] as string);
            if (score === lastScore) seenAtLast += 1;
            else [lastScore, seenAtLast] = [score, 1];
          }
          // Next page: from the last score, skipping the members of that score already read.
          low = String(lastScore);
          const read = (await Promise.all(ids.map(readOne))).filter((x): x is ScannedExposure => x !== null && x.exposure.domain === domain);
          if (read.length > 0) yield read;
          if (ids.length < page) break;
        }
      }
    },
  };
}
