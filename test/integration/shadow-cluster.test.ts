/**
 * Shadow scoring's store on a real 3-master Redis Cluster: the conformance suite over the service's own
 * cluster client (the `recorder` role it runs on; any cross-slot command would fail with CROSSSLOT), one
 * experiment's keys on one slot, and different experiments spread over the masters.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createKeySchema } from '../../src/store/key-schema.js';
import { createRedis, whenReady, type RedisClient } from '../../src/store/redis-connection.js';
import { createRedisShadowStore } from '../../src/store/redis-shadow-store.js';
import { startRedisCluster, type RedisClusterHandle } from '../../testkit/redis-cluster.js';
import { uniquePrefix } from '../../testkit/redis-server.js';
import { sleep } from '../../testkit/wait.js';
import { describeShadowStoreConformance } from '../conformance/shadow-store-conformance.js';

let cluster: RedisClusterHandle | undefined;
let client: RedisClient | undefined;

describeShadowStoreConformance('3-master Redis Cluster', {
  async start() {
    cluster = await startRedisCluster({ masters: 3 });
    client = createRedis({ clusterNodes: cluster.nodes }, { role: 'recorder' });
    if (!(await whenReady(client, 10_000))) throw new Error('cluster client not ready');
  },
  // The cluster outlives the suite: the slot checks below use it too.
  stop: () => Promise.resolve(),
  create: () => Promise.resolve({ store: createRedisShadowStore({ redis: client as RedisClient, keyPrefix: uniquePrefix('shc') }), elapse: sleep }),
});

afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

describe('shadow keys on Redis Cluster', () => {
  it('one experiment’s keys share a slot; twelve experiments spread over the three masters', async () => {
    const c = cluster as RedisClusterHandle;
    const keys = createKeySchema('agp');
    const one = [keys.shadowRecords('exp_a'), keys.shadowCounters('exp_a'), keys.shadowHourCalls('exp_a', 473_000)];
    expect(new Set(await Promise.all(one.map((k) => c.ownerOf(k)))).size).toBe(1);
    const owners = await Promise.all(Array.from({ length: 12 }, (_, i) => c.ownerOf(keys.shadowRecords(`exp_${i}`))));
    expect(new Set(owners).size).toBe(3);
  });
});
