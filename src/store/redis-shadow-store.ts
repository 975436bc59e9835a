/**
 * Redis ShadowStore. Every key of one shadow experiment shares the tag `{<experiment id>}` (key-schema.ts), so
 * each write is ONE script on one slot and the store runs on a Cluster unchanged:
 *
 * - `xsh:{id}:r` list of encoded records (shadow-scoring.ts), newest first: LPUSH, then RPOP the oldest while
 *   the list is longer than maxRecords or its bytes exceed maxBytes (the newest record always stays);
 * - `xsh:{id}:c` hash of counters: scored, budget, queueFull, failed, llmCalls, tauSum, tauSumSq (floats by
 *   HINCRBYFLOAT), and `bytes`, the encoded size of the list (reset when the list has expired);
 * - `xsh:{id}:h:<hour>` the LLM calls of one clock hour, expiring two hours later (the budget check reads it).
 *
 * The list and the hash expire together, `ttlSeconds` (EXPOSURE_TTL_SECONDS) after the experiment's last write: a
 * record outliving its exposure could not be scored against positives anyway. Writes are bounded by the
 * experiment's LLM budget (skips come batched), so one slot per experiment is no hot spot.
 */
import type { ShadowEntry, ShadowRecord, ShadowRetention, ShadowState, ShadowStore } from '../experiments/shadow-types.js';
import { emptyShadowCounters } from '../experiments/shadow-types.js';
import { decodeShadowRecord, encodeShadowRecord } from '../experiments/shadow-scoring.js';
import { createKeySchema, DEFAULT_KEY_PREFIX } from './key-schema.js';
import { ensureConnected } from './redis-connection.js';
import type { RedisClient } from './redis-connection.js';
import { defineScript } from './redis-script.js';

/** The connection and key prefix of the Redis shadow store. */
export interface RedisShadowStoreOptions {
  redis: RedisClient;
  keyPrefix?: string;
}

/** Lifetime of an hour's call count: the hour itself plus one, so a late reader still finds it. */
const HOUR_TTL_SECONDS = 7_200;
/** Records read per LRANGE. */
const READ_PAGE = 2_000;

/**
 * KEYS: records, counters, hour. ARGV: record ('' = none), tau, tau², llmCalls, ttl, maxRecords, maxBytes,
 * hourTtl, budget, queueFull, failed.
 */
const ADD_LUA = `
local ttl = tonumber(ARGV[5])
if ARGV[1] ~= '' then
  if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[2], 'bytes', 0) end
  redis.call('LPUSH', KEYS[1], ARGV[1])
  local bytes = redis.call('HINCRBY', KEYS[2], 'bytes', #ARGV[1])
  local n = redis.call('LLEN', KEYS[1])
  local maxRecords, maxBytes = tonumber(ARGV[6]), tonumber(ARGV[7])
  while n > 1 and (n > maxRecords or bytes > maxBytes) do
    local old = redis.call('RPOP', KEYS[1])
    if not old then break end
    bytes = redis.call('HINCRBY', KEYS[2], 'bytes', -#old)
    n = n - 1
  end
  redis.call('HINCRBY', KEYS[2], 'scored', 1)
  redis.call('HINCRBYFLOAT', KEYS[2], 'tauSum', ARGV[2])
  redis.call('HINCRBYFLOAT', KEYS[2], 'tauSumSq', ARGV[3])
end
local calls = tonumber(ARGV[4])
if calls > 0 then
  redis.call('HINCRBY', KEYS[2], 'llmCalls', calls)
  redis.call('INCRBY', KEYS[3], calls)
  redis.call('EXPIRE', KEYS[3], ARGV[8])
end
local names = {'budget', 'queueFull', 'failed'}
for i = 1, 3 do
  local d = tonumber(ARGV[8 + i])
  if d > 0 then redis.call('HINCRBY', KEYS[2], names[i], d) end
end
-- Records and counters live and expire together (every write refreshes both).
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return 1
`;

const num = (v: string | undefined) => (v === undefined ? 0 : Number(v));

/** Builds the Redis shadow store. */
export function createRedisShadowStore(opts: RedisShadowStoreOptions): ShadowStore {
  const { redis } = opts;
  const keys = createKeySchema(opts.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const script = { add: defineScript(redis, ADD_LUA, 3) };

  return {
    async callsThisHour(experimentId: string, hour: number): Promise<number> {
      await ensureConnected(redis);
      return num((await redis.get(keys.shadowHourCalls(experimentId, hour))) ?? undefined);
    },

    async add(experimentId: string, entry: ShadowEntry, retention: ShadowRetention): Promise<void> {
      const rec = entry.record;
      const s = entry.skipped ?? {};
      const args = [
        rec ? encodeShadowRecord(rec.value) : '',
        String(rec?.tau ?? 0),
        String((rec?.tau ?? 0) ** 2),
        String(Math.max(0, Math.round(entry.llmCalls))),
        String(Math.max(1, Math.ceil(retention.ttlSeconds))),
        String(retention.maxRecords),
        String(retention.maxBytes),
        String(HOUR_TTL_SECONDS),
        String(s.budget ?? 0),
        String(s.queueFull ?? 0),
        String(s.failed ?? 0),
      ];
      await ensureConnected(redis);
      await script.add(keys.shadowRecords(experimentId), keys.shadowCounters(experimentId), keys.shadowHourCalls(experimentId, entry.hour), ...args);
    },

    async read(experimentId: string): Promise<ShadowState> {
      await ensureConnected(redis);
      const [hash, list] = [keys.shadowCounters(experimentId), keys.shadowRecords(experimentId)];
      const c = await redis.hgetall(hash);
      const counters = emptyShadowCounters();
      counters.scored = num(c.scored);
      counters.llmCalls = num(c.llmCalls);
      counters.skipped = { budget: num(c.budget), queueFull: num(c.queueFull), failed: num(c.failed) };
      counters.tau = { count: counters.scored, sum: num(c.tauSum), sumSq: num(c.tauSumSq) };
      // Pages from the newest: an LPUSH meanwhile only moves records towards later pages, so none is missed;
      // one read twice is dropped by its requestId (records are keyed by it).
      const records: ShadowRecord[] = [];
      const seen = new Set<string>();
      for (let start = 0; ; start += READ_PAGE) {
        const page = await redis.lrange(list, start, start + READ_PAGE - 1);
        for (const raw of page) {
          const r = decodeShadowRecord(raw);
          if (r && !seen.has(r.requestId)) {
            seen.add(r.requestId);
            records.push(r);
          }
        }
        if (page.length < READ_PAGE) break;
      }
      return { counters, records };
    },

    async delete(experimentId: string): Promise<void> {
      await ensureConnected(redis);
      // Same slot: one DEL of both keys is single-slot.
      await redis.del(keys.shadowRecords(experimentId), keys.shadowCounters(experimentId));
    },
  };
}
