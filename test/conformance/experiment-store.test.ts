/** The ExperimentStore conformance suite against the in-memory store and the Redis store (private redis-server). */
import { createMemoryExperimentStore } from '../../src/store/memory-experiment-store.js';
import { createRedisExperimentStore } from '../../src/store/redis-experiment-store.js';
import { uniquePrefix } from '../../testkit/redis-server.js';
import { describeExperimentStoreConformance } from './experiment-store-conformance.js';
import { onRedisServer, standalone } from './port-harness.js';

describeExperimentStoreConformance(
  'memory',
  standalone(() => ({ store: createMemoryExperimentStore() })),
);

describeExperimentStoreConformance(
  'Redis',
  onRedisServer(async (connect) => ({ store: createRedisExperimentStore({ redis: await connect(), keyPrefix: uniquePrefix() }) })),
);
