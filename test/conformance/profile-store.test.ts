/** The ProfileStore conformance suite against the in-memory store and the Redis store (private redis-server). */
import { createMemoryProfileStore } from '../../src/store/memory-profile-store.js';
import { createRedisProfileStore } from '../../src/store/redis-profile-store.js';
import { onRedisServer, standalone } from './port-harness.js';
import { uniquePrefix } from '../../testkit/redis-server.js';
import { sleep } from '../../testkit/wait.js';
import { describeProfileStoreConformance } from './profile-store-conformance.js';

describeProfileStoreConformance(
  'memory',
  standalone(() => {
    let now = 1_000_000;
    const store = createMemoryProfileStore({ maxEntries: 1_000, clock: { now: () => now } });
    return { store, elapse: (ms: number) => Promise.resolve(void (now += ms)) };
  }),
);

describeProfileStoreConformance(
  'Redis',
  onRedisServer(async (connect) => ({
    store: createRedisProfileStore({ redis: await connect(), keyPrefix: uniquePrefix() }),
    // Redis expires keys on its own clock.
    elapse: sleep,
  })),
);
