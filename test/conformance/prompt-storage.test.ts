/** The PromptStorage conformance suite against the in-memory storage and the Redis storage (private redis-server). */
import { createMemoryPromptStorage } from '../../src/store/memory-prompt-storage.js';
import { createRedis, whenReady } from '../../src/store/redis-connection.js';
import type { RedisClient } from '../../src/store/redis-connection.js';
import { createRedisPromptStorage } from '../../src/store/redis-prompt-storage.js';
import { startRedisServer, uniquePrefix } from '../../testkit/redis-server.js';
import type { RedisServerHandle } from '../../testkit/redis-server.js';
import { standalone } from './port-harness.js';
import { describePromptStorageConformance } from './prompt-storage-conformance.js';

describePromptStorageConformance('memory', standalone(createMemoryPromptStorage));

let server: RedisServerHandle | undefined;
const clients: RedisClient[] = [];
describePromptStorageConformance('Redis', {
  async start() {
    server = await startRedisServer();
  },
  async stop() {
    for (const c of clients.splice(0)) c.disconnect();
    await server?.stop();
  },
  async create() {
    const url = (server as RedisServerHandle).url;
    const [redis, subscriber] = [createRedis(url, { role: 'cache' }), createRedis(url, { role: 'subscriber' })];
    clients.push(redis, subscriber);
    if (!(await whenReady(redis, 5_000))) throw new Error('redis-server did not come up');
    // Each storage gets its own prefix, so its own versions, active set and activation channel.
    return createRedisPromptStorage({ redis, subscriber, keyPrefix: uniquePrefix('ps') });
  },
});
