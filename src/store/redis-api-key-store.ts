/**
 * API keys in Redis (API_KEYS=redis), managed through /admin/v1/api-keys. Every key of this store carries the
 * `{apikeys}` hash tag, so on a Cluster all of them live in one slot and each script below is single-slot.
 *
 * - Records: one hash, name → record JSON (the sha256 of the key, never the key). Create is HSETNX;
 *   revoke and rotate are a compare-and-set script, so two concurrent admin calls cannot both win.
 * - Usage: a hash per key (cumulative counters) and a string per key and UTC day (LLM calls, two-day TTL),
 *   both bumped by one script per request.
 */
import type { ApiKeyRecord, ApiKeyStore, ApiKeyUsage } from '../api-keys/api-keys.js';
import { DAY_COUNTER_TTL_SECONDS, emptyKeyUsage } from '../api-keys/api-keys.js';
import { createKeySchema } from './key-schema.js';
import type { RedisClient } from './redis-connection.js';
import { defineScript } from './redis-script.js';

const REPLACE = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`;

const ADD_USAGE = `
redis.call('HINCRBY', KEYS[1], 'reranks', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'llmCalls', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'promptTokens', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'completionTokens', ARGV[4])
redis.call('INCRBY', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return 1`;

/** The stored form: fixed field order, so a record read back and re-encoded equals what is stored. */
export function encodeApiKeyRecord(r: ApiKeyRecord): string {
  return JSON.stringify({
    name: r.name,
    hash: r.hash,
    prefix: r.prefix,
    last4: r.last4,
    createdAt: r.createdAt,
    revokedAt: r.revokedAt,
    rateLimit: r.rateLimit,
    dailyLlmCallQuota: r.dailyLlmCallQuota,
    previousHash: r.previousHash,
    previousExpiresAt: r.previousExpiresAt,
  });
}

const num = (v: string | undefined): number => (v === undefined ? 0 : Number(v) || 0);

/** Options of the Redis store. */
export interface RedisApiKeyStoreOptions {
  redis: RedisClient;
  keyPrefix: string;
}

/** Creates the store (no I/O until used). */
export function createRedisApiKeyStore(opts: RedisApiKeyStoreOptions): ApiKeyStore {
  const { redis } = opts;
  const keys = createKeySchema(opts.keyPrefix);
  const replace = defineScript(redis, REPLACE, 1);
  const addUsage = defineScript(redis, ADD_USAGE, 2);
  return {
    kind: 'redis',
    async list() {
      const all = await redis.hgetall(keys.apiKeyRecords());
      return Object.values(all).map((s) => JSON.parse(s) as ApiKeyRecord);
    },
    async create(record) {
      return (await redis.hsetnx(keys.apiKeyRecords(), record.name, encodeApiKeyRecord(record))) === 1;
    },
    async replace(before, after) {
      return (await replace(keys.apiKeyRecords(), before.name, encodeApiKeyRecord(before), encodeApiKeyRecord(after))) === 1;
    },
    async addUsage(name, day, d) {
      await addUsage(keys.apiKeyUsage(name), keys.apiKeyDaily(name, day), d.reranks, d.llmCalls, d.promptTokens, d.completionTokens, DAY_COUNTER_TTL_SECONDS);
    },
    async llmCallsOn(name, day) {
      return num((await redis.get(keys.apiKeyDaily(name, day))) ?? undefined);
    },
    async usage(names, day) {
      const out = new Map<string, ApiKeyUsage>();
      // Sequential on purpose: the number of keys is small and this is an admin read.
      for (const name of names) {
        const [h, today] = await Promise.all([redis.hgetall(keys.apiKeyUsage(name)), redis.get(keys.apiKeyDaily(name, day))]);
        out.set(name, {
          ...emptyKeyUsage(),
          reranks: num(h.reranks),
          llmCalls: num(h.llmCalls),
          promptTokens: num(h.promptTokens),
          completionTokens: num(h.completionTokens),
          llmCallsToday: num(today ?? undefined),
        });
      }
      return out;
    },
  };
}
