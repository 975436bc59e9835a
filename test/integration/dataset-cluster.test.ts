/**
 * Training sets on a real 3-master Redis Cluster: the item catalogue's per-item keys and the exposures'
 * hour buckets spread over the masters (no CROSSSLOT), a scan crosses buckets on different slots, and a
 * dataset built from it loads as a canonical dataset.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDataset } from '../../src/agp/dataset.js';
import { buildDataset } from '../../src/experiments/dataset-builder.js';
import { createKeySchema } from '../../src/store/key-schema.js';
import { createRedisExposureStore } from '../../src/store/redis-exposure-store.js';
import { createRedisItemCatalogue } from '../../src/store/redis-item-catalogue.js';
import { startRedisCluster, type RedisClusterHandle } from '../../testkit/redis-cluster.js';
import { uniquePrefix } from '../../testkit/redis-server.js';
import { exposure } from '../conformance/exposure-store-conformance.js';

const HOUR = 3_600_000;
let cluster: RedisClusterHandle;
let client: Cluster;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  client = new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
}, 60_000);
afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

describe('datasets on Redis Cluster', () => {
  it('catalogue items and hour buckets spread over the masters; a build across buckets works', async () => {
    const prefix = uniquePrefix('dc');
    const keys = createKeySchema(prefix);
    const catalogue = createRedisItemCatalogue({ redis: client, keyPrefix: prefix });
    const exposures = createRedisExposureStore({ redis: client, keyPrefix: prefix });
    const base = exposure();
    const ids = [...base.baseline, ...base.history];
    await catalogue.put(ids.map((id) => ({ domain: 'movies', id, title: `T ${id}` })), 600);
    expect(await catalogue.getMany('movies', ids)).toEqual(ids.map((id) => ({ title: `T ${id}` })));
    const owners = new Set(await Promise.all(ids.map((id) => cluster.ownerOf(keys.catalogueItem('movies', id)))));
    expect(owners.size).toBe(3);

    const start = Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR;
    const recs = Array.from({ length: 60 }, (_, i) => exposure({ requestId: `cl-${i}`, userId: `u${i % 9}`, at: start + i * (HOUR / 10) }));
    expect(await exposures.put(recs, 600)).toEqual(recs.map(() => true));
    for (const r of recs.filter((_, i) => i % 2 === 0)) await exposures.applyEvents(r.requestId, [{ dedupeKey: 'c', itemId: r.served[0] ?? '', positive: true }]);
    const bucketOwners = new Set(await Promise.all(Array.from({ length: 6 }, (_, h) => cluster.ownerOf(keys.exposureTimeBucket('movies', start / HOUR + h)))));
    expect(bucketOwners.size).toBeGreaterThan(1);

    const lines: string[] = [];
    const summary = await buildDataset({ exposures, catalogue, pageSize: 7 }, { domain: 'movies', since: start, until: start + 6 * HOUR }, { write: (l) => Promise.resolve(void lines.push(l)) });
    expect(summary).toMatchObject({ exposures: 60, rows: 30, users: 9, skipped: { noPositive: 30 } });
    expect(parseDataset(lines.join(''), 'cluster.jsonl')).toHaveLength(30);

    expect(await exposures.deleteUser('u0')).toBe(7);
    const again = await buildDataset({ exposures, catalogue }, { domain: 'movies', since: start, until: start + 6 * HOUR }, { write: () => Promise.resolve() });
    expect(again.exposures).toBe(53);
  }, 60_000);
});
