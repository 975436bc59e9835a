/** The ExposureStore conformance suite against the in-memory store and the Redis store (private redis-server). */
import { createMemoryExposureStore } from '../../src/store/memory-exposure-store.js';
import { createRedis, whenReady } from '../../src/store/redis-connection.js';
import type { RedisClient } from '../../src/store/redis-connection.js';
import { createRedisExposureStore } from '../../src/store/redis-exposure-store.js';
import { startRedisServer, uniquePrefix } from '../../testkit/redis-server.js';
import type { RedisServerHandle } from '../../testkit/redis-server.js';
import { sleep } from '../../testkit/wait.js';
import { standalone } from './port-harness.js';
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

let server: RedisServerHandle | undefined;
let redis: RedisClient | undefined;
describeExposureStoreConformance('Redis', {
  async start() {
    server = await startRedisServer();
    redis = createRedis(server.url, { role: 'cache' });
    if (!(await whenReady(redis, 5_000))) throw new Error('redis-server did not come up');
  },
  async stop() {
    redis?.disconnect();
    await server?.stop();
  },
  create: () =>
    Promise.resolve({
      store: createRedisExposureStore({ redis: redis as RedisClient, keyPrefix: uniquePrefix() }),
      now: () => Date.now(),
      // Redis expires keys on its own clock.
      elapse: sleep,
    }),
});
