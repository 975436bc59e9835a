/**
 * Redis connections, the prompt registry and the profile store, built from Config. Every role builds its
 * stores with these, so a connection has the same options and a registry the same storage everywhere.
 */
import type { Config } from '../config.js';
import type { Clock, Logger, ProfileStore, RankingCache } from '../agp/ports.js';
import { BUILTIN_ACTIVE_PROMPT } from '../agp/prompts.js';
import { createMemoryProfileStore } from '../store/memory-profile-store.js';
import { createMemoryPromptStorage } from '../store/memory-prompt-storage.js';
import { loadPromptFile, newestPerDomain } from '../store/prompt-file.js';
import { createPromptRegistry, type ManagedPromptRegistry } from '../store/prompt-registry.js';
import type { OnPromptLoss } from '../store/prompt-loss-tracker.js';
import { createRedis, type RedisClient, type RedisRole, type RedisTarget } from '../store/redis-connection.js';
import { createRedisProfileStore } from '../store/redis-profile-store.js';
import { createMemoryRankingCache } from '../store/memory-ranking-cache.js';
import { createRedisRankingCache } from '../store/redis-ranking-cache.js';
import { createRedisPromptStorage } from '../store/redis-prompt-storage.js';
import type { Closers } from './closers.js';

/** Opens a connection for `role` and registers its quit. */
export function connectRedis(target: RedisTarget, role: RedisRole, logger: Logger, closers: Closers): RedisClient {
  const client = createRedis(target, { role, logger });
  closers.push(() => client.quit().catch(() => client.disconnect()));
  return client;
}

/** What a registry is built from. */
export interface RegistryParts {
  config: Config;
  logger: Logger;
  clock: Clock;
  closers: Closers;
  /** The cache connection; without it the registry lives in memory (the embedded default). */
  redis?: RedisClient | undefined;
  /** Activation notices from other replicas (API and worker roles; the CLI only reads once). */
  subscriber?: RedisClient | undefined;
  onActiveChange?: ((active: Record<string, string>) => void) | undefined;
  onLostChange?: OnPromptLoss | undefined;
}

/** The prompt registry over Redis (or memory), not yet started. */
export function createRegistry(p: RegistryParts): ManagedPromptRegistry {
  const storage = p.redis
    ? createRedisPromptStorage({ redis: p.redis, subscriber: p.subscriber, keyPrefix: p.config.redis.keyPrefix, logger: p.logger })
    : createMemoryPromptStorage();
  const registry = createPromptRegistry({
    storage,
    builtin: BUILTIN_ACTIVE_PROMPT,
    refreshMs: p.config.prompts.refreshMs,
    clock: p.clock,
    logger: p.logger,
    onActiveChange: p.onActiveChange,
    onLostChange: p.onLostChange,
  });
  p.closers.push(() => registry.close());
  return registry;
}

/** PROMPT_FILE pins prompts from git: import them and activate the newest per domain. */
export async function importPromptFile(config: Config, registry: ManagedPromptRegistry, logger: Logger): Promise<void> {
  if (!config.prompts.file) return;
  const versions = await loadPromptFile(config.prompts.file);
  for (const v of versions) await registry.put(v);
  for (const v of newestPerDomain(versions)) await registry.activate(v.domain, v.version);
  logger.info({ file: config.prompts.file, versions: versions.length }, 'prompts loaded from PROMPT_FILE');
}

/** The result cache's store: Redis when it is configured, else a bounded in-memory LRU (RERANK_CACHE_MAX_ENTRIES). */
export function createRankingCacheStore(config: Config, clock: Clock, redis: RedisClient | undefined): RankingCache {
  return redis
    ? createRedisRankingCache({ redis, keyPrefix: config.redis.keyPrefix })
    : createMemoryRankingCache({ maxEntries: config.resultCache.maxEntries, clock });
}

/** Profiles in Redis when it is configured, else in a bounded in-memory LRU. */
export function createProfileStore(config: Config, clock: Clock, redis: RedisClient | undefined): ProfileStore {
  return redis
    ? createRedisProfileStore({ redis, keyPrefix: config.redis.keyPrefix })
    : createMemoryProfileStore({ maxEntries: config.profiles.maxEntries, clock });
}
