/** The ShadowStore conformance suite against the in-memory store and the Redis store (private redis-server). */
import { createMemoryShadowStore } from '../../src/store/memory-shadow-store.js';
import { createRedisShadowStore } from '../../src/store/redis-shadow-store.js';
import { uniquePrefix } from '../../testkit/redis-server.js';
import { sleep } from '../../testkit/wait.js';
import { onRedisServer, standalone } from './port-harness.js';
import { describeShadowStoreConformance } from './shadow-store-conformance.js';

describeShadowStoreConformance(
  'memory',
  standalone(() => {
    let now = 1_700_000_000_000;
    const store = createMemoryShadowStore({ clock: { now: () => now } });
    return { store, elapse: (ms: number) => Promise.resolve(void (now += ms)) };
  }),
);

describeShadowStoreConformance(
  'Redis',
  // Redis expires keys on its own clock.
  onRedisServer(async (connect) => ({ store: createRedisShadowStore({ redis: await connect(), keyPrefix: uniquePrefix() }), elapse: sleep })),
);
