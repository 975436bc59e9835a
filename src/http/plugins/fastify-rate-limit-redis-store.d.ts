/**
 * Types for the Redis store that @fastify/rate-limit ships but does not declare (store/RedisStore.js).
 * Used by ./bounded-rate-limit-store.ts, which wraps it with a timeout and fails open.
 */
declare module '@fastify/rate-limit/store/RedisStore.js' {
  import type { FastifyRateLimitStore } from '@fastify/rate-limit';
  import type { Redis } from 'ioredis';

  /** `new RedisStore(continueExceeding, exponentialBackoff, redis, keyPrefix)`, as the plugin builds it. */
  const RedisStore: new (continueExceeding: boolean, exponentialBackoff: boolean, redis: Redis, key?: string) => FastifyRateLimitStore & {
    read(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number, max: number): void;
  };
  export = RedisStore;
}
