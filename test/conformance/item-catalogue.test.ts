/** The ItemCatalogue conformance suite against the memory and the Redis adapter (private redis-server). */
import { createMemoryItemCatalogue } from '../../src/store/memory-item-catalogue.js';
import { createRedisItemCatalogue } from '../../src/store/redis-item-catalogue.js';
import { sleep } from '../../testkit/wait.js';
import { uniquePrefix } from '../../testkit/redis-server.js';
import { onRedisServer, standalone } from './port-harness.js';
import { describeItemCatalogueConformance } from './item-catalogue-conformance.js';

describeItemCatalogueConformance(
  'memory',
  standalone(() => {
    let now = 1_700_000_000_000;
    const catalogue = createMemoryItemCatalogue({ maxEntries: 100, clock: { now: () => now } });
    return { catalogue, elapse: (ms: number) => Promise.resolve(void (now += ms)) };
  }),
);

describeItemCatalogueConformance(
  'Redis',
  onRedisServer(async (connect) => ({ catalogue: createRedisItemCatalogue({ redis: await connect(), keyPrefix: uniquePrefix() }), elapse: sleep })),
);
