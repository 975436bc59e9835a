/**
 * What an experiment's running sums cost in Redis (docs/experiments-storage.md): bytes per stored user total
 * (one `<arm>\0<userId>` field of a shard's totals hash) and per experiment (its 16 sums hashes), by
 * MEMORY USAGE and by the server's used_memory delta, plus Redis CPU per applySums.
 *
 * Per user: one exposure update (count 1, every field named, as the fold asks), and for half of the users an
 * event update of one field. Users are 12-character ids, spread over 2 arms.
 *
 *   node --import tsx bench/experiment-sums-memory.ts [--users 20000] [--fields 3]
 */
import { parseArgs } from 'node:util';
import type { SumsUpdate } from '../src/experiments/ports.js';
import { SUMS_SHARDS, createKeySchema } from '../src/store/key-schema.js';
import { createRedis, whenReady } from '../src/store/redis-connection.js';
import type { RedisClient } from '../src/store/redis-connection.js';
import { createRedisExposureStore } from '../src/store/redis-exposure-store.js';
import { startRedisServer } from '../testkit/redis-server.js';

const { values: v } = parseArgs({ options: { users: { type: 'string', default: '20000' }, fields: { type: 'string', default: '3' } }, strict: true });
const USERS = Number(v.users);
const FIELDS = Array.from({ length: Number(v.fields) }, (_, i) => ['ndcg', 'pos', 'clicks', 'f3', 'f4'][i] ?? `f${i}`);

const infoField = async (redis: RedisClient, section: string, field: string) =>
  Number(new RegExp(`${field}:([\\d.]+)`).exec(await redis.info(section))?.[1] ?? NaN);
const usage = async (redis: RedisClient, keys: string[]) => {
  let bytes = 0;
  for (const k of keys) bytes += Number((await redis.memory('USAGE', k, 'SAMPLES', 0)) ?? 0);
  return bytes;
};

const server = await startRedisServer();
const redis = createRedis(server.url, { role: 'cache' });
try {
  if (!(await whenReady(redis, 5_000))) throw new Error('redis-server did not come up');
  const keys = createKeySchema('bench');
  const store = createRedisExposureStore({ redis, keyPrefix: 'bench' });
  const exp = 'exp-0001';
  const used0 = await infoField(redis, 'memory', 'used_memory');
  const cpu0 = (await infoField(redis, 'cpu', 'used_cpu_user')) + (await infoField(redis, 'cpu', 'used_cpu_sys'));
  let updates = 0;
  for (let i = 0; i < USERS; i++) {
    const userId = `user-${String(i).padStart(7, '0')}`;
    const arm = i % 2 === 0 ? 'control' : 'treatment';
    const sums = Object.fromEntries(FIELDS.map((f) => [f, Math.random()]));
    const batch: SumsUpdate[] = [{ userId, increments: { [arm]: { n: 1, ...sums } }, users: [{ arm, count: 1, sums }] }];
    if (i % 4 < 2) batch.push({ userId, increments: { [arm]: { pos: 1 } }, users: [{ arm, count: 0, sums: { pos: 1 } }] });
    for (const u of batch) await store.applySums(exp, u);
    updates += batch.length;
  }
  const cpu1 = (await infoField(redis, 'cpu', 'used_cpu_user')) + (await infoField(redis, 'cpu', 'used_cpu_sys'));
  const used1 = await infoField(redis, 'memory', 'used_memory');
  const shards = Array.from({ length: SUMS_SHARDS }, (_, k) => k);
  const totalsBytes = await usage(redis, shards.map((k) => keys.experimentUserTotals(exp, k)));
  const sumsBytes = await usage(redis, shards.map((k) => keys.experimentSums(exp, k)));
  const sample = await redis.hget(keys.experimentUserTotals(exp, 0), (await redis.hkeys(keys.experimentUserTotals(exp, 0)))[0] ?? '');
  process.stdout.write(
    `${JSON.stringify(
      {
        users: USERS,
        fieldsPerUser: FIELDS.length,
        sampleTotalsValueBytes: Buffer.byteLength(sample ?? ''),
        memoryUsagePerUserTotal: Math.round(totalsBytes / USERS),
        usedMemoryDeltaPerUser: Math.round((used1 - used0) / USERS),
        sumsHashesBytesPerExperiment: sumsBytes,
        redisCpuMicrosPerApplySums: +(((cpu1 - cpu0) * 1e6) / updates).toFixed(2),
      },
      null,
      2,
    )}\n`,
  );
} finally {
  redis.disconnect();
  await server.stop();
}
