/** The ProfileStore conformance suite against the in-memory store and the Redis store (private redis-server). */
import { createMemoryProfileStore } from '../../src/store/memory-profile-store.js';
import { createRedis, whenReady } from '../../src/store/redis-connection.js';
import type { RedisClient } from '../../src/store/redis-connection.js';
import { createRedisProfileStore } from '../../src/store/redis-profile-store.js';
import { startRedisServer, uniquePrefix } from '../../testkit/redis-server.js';
import type { RedisServerHandle } from '../../testkit/redis-server.js';
import { standalone } from './port-harness.js';
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

let server: RedisServerHandle | undefined;
let redis: RedisClient | undefined;
describeProfileStoreConformance('Redis', {
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
      store: createRedisProfileStore({ redis: redis as RedisClient, keyPrefix: uniquePrefix() }),
      // Redis expires keys on its own clock.
      elapse: sleep,
    }),
});
