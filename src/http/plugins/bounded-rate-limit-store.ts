/**
 * The rate limiter's Redis store, bounded and failing open. The limiter guards the service; it must never
 * become a way for a Redis fault to fail a rerank. Every store call gets `timeoutMs` (default 100 ms):
 * past it, or on any Redis error (down, full under `noeviction`), the call reports an error, which the plugin
 * (registered with `skipOnError: true`) turns into "let the request through". Each such call is counted
 * (`agp_rate_limit_errors_total{reason}`) and the first one of an outage is logged, like the profile
 * cache's bounded lookup. Without this, a killed or full Redis turned 99.9 % of reranks into 500s, and a
 * paused one held each request for the connection's 1 s command timeout before failing it.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import RedisStore from '@fastify/rate-limit/store/RedisStore.js';
import type { Redis } from 'ioredis';

/** Longest wait for the rate-limit store before the request is let through. */
export const RATE_LIMIT_STORE_TIMEOUT_MS = 100;

/** Why a store call was skipped (the label of `agp_rate_limit_errors_total`). */
export type RateLimitStoreFailure = 'timeout' | 'error';

type Counted = { current: number; ttl: number };
type Callback = (error: Error | null, result?: Counted) => void;
type StoreCall = (key: string, callback: Callback, timeWindow: number, max: number) => void;

/** A store as the plugin uses it: `incr`, `child`, and `read` for `{ increment: false }`. */
export type RateLimitStore = FastifyRateLimitStore & { read?: StoreCall };

/** What the bounded store is built from. */
export interface BoundedRateLimitStoreOptions {
  inner: RateLimitStore;
  timeoutMs?: number | undefined;
  /** Called once per skipped call (metrics). */
  onFailure: (reason: RateLimitStoreFailure) => void;
  logger: Pick<FastifyBaseLogger, 'warn' | 'info'>;
}

/** The plugin's own Redis store (one Lua call per request) under `nameSpace`, wrapped by boundedRateLimitStore. */
export function redisRateLimitStore(redis: Redis, nameSpace: string, opts: Omit<BoundedRateLimitStoreOptions, 'inner'>): FastifyRateLimitStoreCtor {
  return boundedRateLimitStore({ ...opts, inner: new RedisStore(false, false, redis, nameSpace) });
}

/** A store class for the plugin's `store` option that bounds and counts every call of `inner` (and its children). */
export function boundedRateLimitStore(opts: BoundedRateLimitStoreOptions): FastifyRateLimitStoreCtor {
  const timeoutMs = opts.timeoutMs ?? RATE_LIMIT_STORE_TIMEOUT_MS;
  // One warning per outage, not one per request.
  let failing = false;

  function bounded(call: StoreCall, key: string, callback: Callback, timeWindow: number, max: number): void {
    let settled = false;
    const finish = (err: Error | null, result: Counted | undefined, reason: RateLimitStoreFailure): void => {
      if (settled) return; // a late answer after the timeout is dropped
      settled = true;
      clearTimeout(timer);
      if (err) {
        opts.onFailure(reason);
        if (!failing) opts.logger.warn({ err: err.message, reason }, 'rate-limit store failed; letting requests through');
        failing = true;
        callback(err);
        return;
      }
      if (failing) opts.logger.info({}, 'rate-limit store recovered');
      failing = false;
      callback(null, result);
    };
    const timer = setTimeout(() => finish(new Error(`rate-limit store did not answer within ${timeoutMs} ms`), undefined, 'timeout'), timeoutMs);
    timer.unref();
    try {
      call(key, (err, result) => finish(err, result, 'error'), timeWindow, max);
    } catch (err) {
      finish(err instanceof Error ? err : new Error(String(err)), undefined, 'error');
    }
  }

  return class BoundedRateLimitStore implements RateLimitStore {
    private readonly inner: RateLimitStore;
    /** `options` is what the plugin passes to a store class; the inner store already has its own. */
    constructor(_options?: unknown, inner: RateLimitStore = opts.inner) {
      this.inner = inner;
    }

    incr(key: string, callback: Callback, timeWindow: number, max: number): void {
      bounded((...args) => this.inner.incr(...args), key, callback, timeWindow, max);
    }

    read(key: string, callback: Callback, timeWindow: number, max: number): void {
      const read = this.inner.read;
      if (!read) throw new Error('the rate-limit store does not implement read');
      bounded((...args) => read.apply(this.inner, args), key, callback, timeWindow, max);
    }

    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): RateLimitStore {
      return new BoundedRateLimitStore(undefined, this.inner.child(routeOptions));
    }
  };
}
