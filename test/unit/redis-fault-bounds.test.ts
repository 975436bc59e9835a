/**
 * The pieces that keep a Redis fault from becoming a 500 or a hang, in isolation: boundedDependencyCall (the
 * prompt storage and the training queue), the rate limiter's bounded store, and the prompt-loss tracker.
 * test/resilience/redis-fault-*.test.ts prove them end to end against a real paused, full and killed Redis.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import { silentLogger } from '../../src/agp/ports.js';
import { ConflictError, DEPENDENCY_RETRY_AFTER_SECONDS, UnavailableError, boundedDependencyCall } from '../../src/errors.js';
import { boundedRateLimitStore, type RateLimitStoreFailure } from '../../src/http/plugins/bounded-rate-limit-store.js';
import { createPromptLossTracker } from '../../src/store/prompt-loss-tracker.js';
import { sleep } from '../../testkit/wait.js';

const never = () => new Promise<never>(() => undefined);

describe('boundedDependencyCall', () => {
  it('passes a value and a domain error through unchanged', async () => {
    expect(await boundedDependencyCall('x', 50, async () => 7)).toBe(7);
    const conflict = new ConflictError('taken');
    await expect(boundedDependencyCall('x', 50, () => Promise.reject(conflict))).rejects.toBe(conflict);
  });

  it('turns a driver error into UnavailableError with Retry-After, the driver message only in its cause', async () => {
    const oom = new Error("OOM command not allowed when used memory > 'maxmemory'.");
    const err = await boundedDependencyCall('prompt storage', 50, () => Promise.reject(oom)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: DEPENDENCY_RETRY_AFTER_SECONDS, cause: oom });
    expect((err as Error).message).not.toContain('OOM');
  });

  it('gives up on an operation that never answers after timeoutMs', async () => {
    const started = performance.now();
    const err = await boundedDependencyCall('training queue', 60, never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe('training queue did not answer within 60 ms');
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('boundedRateLimitStore', () => {
  type Result = { current: number; ttl: number };
  /** An inner store whose incr answers after `delayMs` with `outcome`, and whose child is itself. */
  function inner(delayMs: number, outcome: Error | Result): FastifyRateLimitStore {
    const store: FastifyRateLimitStore = {
      incr(_key, cb) {
        void sleep(delayMs).then(() => (outcome instanceof Error ? cb(outcome) : cb(null, outcome)));
      },
      child: () => store,
    };
    return store;
  }
  function incr(Store: ReturnType<typeof boundedRateLimitStore>): Promise<{ err: Error | null; result?: Result | undefined }> {
    const store = new Store({}).child({} as Parameters<FastifyRateLimitStore['child']>[0]);
    return new Promise((resolve) => store.incr('k', (err, result) => resolve({ err, result }), 1_000, 10));
  }

  it('answers from the inner store in time, counting nothing', async () => {
    const failures: RateLimitStoreFailure[] = [];
    const Store = boundedRateLimitStore({ inner: inner(0, { current: 2, ttl: 900 }), timeoutMs: 100, onFailure: (r) => failures.push(r), logger: silentLogger });
    expect(await incr(Store)).toEqual({ err: null, result: { current: 2, ttl: 900 } });
    expect(failures).toEqual([]);
  });

  it('reports an error, or a late answer as a timeout, once each (the plugin then lets the request through)', async () => {
    const failures: RateLimitStoreFailure[] = [];
    const onFailure = (r: RateLimitStoreFailure) => failures.push(r);
    const failing = boundedRateLimitStore({ inner: inner(0, new Error('Connection is closed.')), timeoutMs: 100, onFailure, logger: silentLogger });
    expect((await incr(failing)).err?.message).toBe('Connection is closed.');
    const slow = boundedRateLimitStore({ inner: inner(300, { current: 1, ttl: 1 }), timeoutMs: 50, onFailure, logger: silentLogger });
    const started = performance.now();
    expect((await incr(slow)).err?.message).toBe('rate-limit store did not answer within 50 ms');
    expect(performance.now() - started).toBeLessThan(250);
    await sleep(350); // the late answer arrives and is dropped: the callback ran once
    expect(failures).toEqual(['error', 'timeout']);
  });
});

describe('createPromptLossTracker', () => {
  it('reports domains that were active and vanished, and when they are active again', () => {
    const changes: Array<[readonly string[], readonly string[]]> = [];
    const tracker = createPromptLossTracker(silentLogger, (lost, newlyLost) => changes.push([lost, newlyLost]));
    tracker.observe({});
    tracker.observe({ books: 'v1', default: 'd1' });
    tracker.observe({ books: 'v2', default: 'd1' }); // a rollback or a new version is not a loss
    expect(changes).toEqual([]);
    tracker.observe({}); // Redis restarted empty
    tracker.observe({});
    tracker.observe({ default: 'd1' });
    expect(tracker.lost).toEqual(['books']);
    tracker.observe({ books: 'v1', default: 'd1' });
    expect(tracker.lost).toEqual([]);
    expect(changes).toEqual([
      [['books', 'default'], ['books', 'default']],
      [['books'], []],
      [[], []],
    ]);
  });
});
