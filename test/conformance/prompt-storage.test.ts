/** The PromptStorage conformance suite against the in-memory storage and the Redis storage (private redis-server). */
import { createMemoryPromptStorage } from '../../src/store/memory-prompt-storage.js';
import { createRedisPromptStorage } from '../../src/store/redis-prompt-storage.js';
import { onRedisServer, standalone } from './port-harness.js';
import { uniquePrefix } from '../../testkit/redis-server.js';
import { describePromptStorageConformance } from './prompt-storage-conformance.js';

describePromptStorageConformance('memory', standalone(createMemoryPromptStorage));

describePromptStorageConformance(
  'Redis',
  // Each storage gets its own prefix, so its own versions, active set and activation channel.
  onRedisServer(async (connect) => createRedisPromptStorage({ redis: await connect(), subscriber: await connect('subscriber'), keyPrefix: uniquePrefix('ps') })),
);
