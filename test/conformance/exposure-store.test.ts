/**
 * The ExposureStore conformance suite against the in-memory store and the Redis store (private redis-server),
 * the latter both batched (a standalone server's default) and one script per operation (a Cluster's path).
 */
import { createMemoryExposureStore } from '../../src/store/memory-exposure-store.js';
import { createRedisExposureStore } from '../../src/store/redis-exposure-store.js';
import { sleep } from '../../testkit/wait.js';
import { onRedisServer, standalone } from './port-harness.js';
import { uniquePrefix } from '../../testkit/redis-server.js';
import { describeExposureStoreConformance } from './exposure-store-conformance.js';

describeExposureStoreConformance(
  'memory',
  standalone(() => {
    let now = 1_700_000_000_000;
    const clock = { now: () => now };
    const store = createMemoryExposureStore({ maxEntries: 1_000, clock });
    return { store, now: clock.now, elapse: (ms: number) => Promise.resolve(void (now += ms)) };
  }),
);

describeExposureStoreConformance(
  'Redis',
  onRedisServer(async (connect) => ({
    store: createRedisExposureStore({ redis: await connect(), keyPrefix: uniquePrefix() }),
    now: () => Date.now(),
    // Redis expires keys on its own clock.
    elapse: sleep,
  })),
);

// The Cluster's path (one script per operation, not the standalone batch), on a standalone server.
describeExposureStoreConformance(
  'Redis, one script per operation',
  onRedisServer(async (connect) => ({
    store: createRedisExposureStore({ redis: await connect(), keyPrefix: uniquePrefix(), batch: false }),
    now: () => Date.now(),
    elapse: sleep,
  })),
);
