/**
 * Redis PromptStorage. Versions are immutable and live in Redis (durable as far as the Redis
 * persistence config makes them), so they survive restarts of every replica. All keys share the
 * `{reg}` hash tag (single slot on Cluster):
 *
 * - `…:versions:<domain>`  hash version → PromptVersion JSON (HSETNX makes put create-if-absent)
 * - `…:domains`            set of domains that have versions (list without a domain)
 * - `…:active`             hash domain → active version
 * - channel `<prefix>:prompts:activated`  announces an activation to every replica
 *
 * Every operation is bounded (PROMPT_STORAGE_TIMEOUT_MS) and a Redis failure (down, paused, full under
 * `noeviction`) surfaces as UnavailableError, so the admin prompt routes answer 503 + Retry-After, not 500.
 */
import type { PromptVersion } from '../agp/ports.js';
import { silentLogger } from '../agp/ports.js';
import type { Logger } from '../agp/ports.js';
import { boundedDependencyCall } from '../errors.js';
import { createKeySchema, DEFAULT_KEY_PREFIX } from './key-schema.js';
import { sameContent, sortVersions } from './prompt-registry.js';
import type { PromptStorage, PutOutcome } from './prompt-registry.js';
import { ensureConnected } from './redis-connection.js';
import type { RedisClient } from './redis-connection.js';

/**
 * Longest wait for one storage operation. Above the cache connection's 1 s command timeout, so a single
 * command fails on its own first; listVersions makes two round trips.
 */
export const PROMPT_STORAGE_TIMEOUT_MS = 1_500;

export interface RedisPromptStorageOptions {
  /** A command connection (role `cache`). */
  redis: RedisClient;
  /** A dedicated connection (role `subscriber`) for activation messages; without it, polling only. */
  subscriber?: RedisClient;
  keyPrefix?: string;
  logger?: Logger;
}

/** Parses a stored PromptVersion; malformed values read as null. */
export function decodePromptVersion(raw: string | null | undefined): PromptVersion | null {
  if (raw == null) return null;
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null) return null;
    const o = v as Partial<PromptVersion>;
    if (typeof o.domain !== 'string' || typeof o.version !== 'string' || typeof o.text !== 'string') return null;
    if (typeof o.historyLength !== 'number' || typeof o.createdAt !== 'string') return null;
    return { ...o, parentVersion: o.parentVersion ?? null } as PromptVersion;
  } catch {
    return null;
  }
}

export function createRedisPromptStorage(opts: RedisPromptStorageOptions): PromptStorage {
  const { redis, subscriber } = opts;
  const log = opts.logger ?? silentLogger;
  const keys = createKeySchema(opts.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const channel = keys.promptActivatedChannel();

  const decode = (raw: string | null | undefined): PromptVersion | null => {
    const v = decodePromptVersion(raw);
    if (raw != null && v === null) log.warn({}, 'ignoring a malformed prompt version stored in Redis');
    return v;
  };

  /** Waits for the first connection attempt (bounded on its own), then bounds the operation. */
  const bounded = async <T>(operation: () => Promise<T>): Promise<T> => {
    await ensureConnected(redis);
    return boundedDependencyCall('prompt storage (Redis)', PROMPT_STORAGE_TIMEOUT_MS, operation);
  };

  const storage: PromptStorage = {
    getVersion: (domain, version) => bounded(async () => decode(await redis.hget(keys.promptVersions(domain), version))),

    listVersions: (domain) => bounded(async () => {
      const domains = domain === undefined ? await redis.smembers(keys.promptDomains()) : [domain];
      if (domains.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const d of domains) pipeline.hvals(keys.promptVersions(d));
      const results = (await pipeline.exec()) ?? [];
      const out: PromptVersion[] = [];
      for (const [err, values] of results) {
        if (err) throw err;
        for (const raw of values as string[]) {
          const v = decode(raw);
          if (v) out.push(v);
        }
      }
      return sortVersions(out);
    }),

    putVersion: (v) => bounded(async (): Promise<PutOutcome> => {
      const versionsKey = keys.promptVersions(v.domain);
      const results = await redis
        .multi()
        .hsetnx(versionsKey, v.version, JSON.stringify(v))
        .sadd(keys.promptDomains(), v.domain)
        .hget(versionsKey, v.version)
        .exec();
      if (results === null) throw new Error('redis prompt put: transaction aborted');
      for (const [err] of results) if (err) throw err;
      if (results[0]?.[1] === 1) return 'created';
      const stored = decodePromptVersion(results[2]?.[1] as string | null | undefined);
      return stored && sameContent(stored, v) ? 'exists' : 'conflict';
    }),

    setActive: (domain, version) => bounded(async () => {
      await redis.hset(keys.promptActive(), domain, version);
      // Best effort: replicas that miss the message pick the change up on their next poll.
      await redis.publish(channel, JSON.stringify({ domain, version })).catch((err: unknown) => {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'prompt activation publish failed');
      });
    }),

    getActive: () => bounded(() => redis.hgetall(keys.promptActive())),
  };

  if (subscriber) {
    storage.subscribe = async (onActivated) => {
      const onMessage = (ch: string) => {
        if (ch === channel) onActivated();
      };
      // Messages published while the subscriber was disconnected are lost: re-read on reconnect.
      let connectedOnce = false;
      const onReady = () => {
        if (connectedOnce) onActivated();
        connectedOnce = true;
      };
      subscriber.on('message', onMessage);
      subscriber.on('ready', onReady);
      try {
        await subscriber.subscribe(channel);
      } catch (err) {
        subscriber.off('message', onMessage);
        subscriber.off('ready', onReady);
        throw err;
      }
      connectedOnce = true;
      return async () => {
        subscriber.off('message', onMessage);
        subscriber.off('ready', onReady);
        if (subscriber.status === 'ready') await subscriber.unsubscribe(channel);
      };
    };
  }

  return storage;
}
