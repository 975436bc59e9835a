/**
 * The API-keys part of the API role: the store for API_KEYS (Redis) or API_KEYS_FILE (a mounted file), the
 * replica's key service, and its per-key Prometheus counters. Undefined when keys are off.
 */
import type { Config } from '../config.js';
import type { Clock, Logger } from '../agp/ports.js';
import type { ApiKeyStore } from '../api-keys/api-keys.js';
import { createApiKeyService, type ApiKeyService } from '../api-keys/api-key-service.js';
import { createApiKeyMetrics } from '../observability/api-key-metrics.js';
import type { Metrics } from '../observability/metrics.js';
import { createFileApiKeyStore } from '../store/file-api-key-store.js';
import { createRedisApiKeyStore } from '../store/redis-api-key-store.js';
import type { RedisClient } from '../store/redis-connection.js';
import type { Closers } from './closers.js';

/** What the key service is wired from. */
export interface ApiKeysParts {
  config: Config;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  closers: Closers;
  redis?: RedisClient | undefined;
  /** A store to use instead of the configured one (tests). */
  store?: ApiKeyStore | undefined;
}

/** Builds and starts (first load) the key service, or returns undefined when keys are off. */
export async function createApiKeys(p: ApiKeysParts): Promise<ApiKeyService | undefined> {
  const { mode, file, pollMs } = p.config.apiKeys;
  let store = p.store;
  if (!store && mode === 'file' && file !== undefined) store = createFileApiKeyStore(file);
  if (!store && mode === 'redis' && p.redis) store = createRedisApiKeyStore({ redis: p.redis, keyPrefix: p.config.redis.keyPrefix });
  if (!store) return undefined;
  const service = createApiKeyService({ store, clock: p.clock, logger: p.logger, pollMs, onUsage: createApiKeyMetrics(p.metrics.registry) });
  await service.start();
  p.closers.push(() => service.close());
  return service;
}
