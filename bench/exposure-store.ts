/**
 * Exposure-store bench: what one recorded exposure costs in Redis and in the in-memory store, how fast the
 * events ingestion service attributes and deduplicates events on Redis, and the capacity model.
 *
 * Realistic exposures: 20 candidates, topN 10 served, 20 history ids, ~12-character ids, a UUID requestId
 * (what the service generates), 1,000 users, an experiment arm.
 *
 * - Redis: 10k exposures written through the store into a private redis-server; bytes per exposure =
 *   Σ MEMORY USAGE of every key the exposures created (documents + per-user indexes) / 10k, and the
 *   server's used_memory delta / 10k (adds the keyspace and expiry dictionaries). Then 2 events each
 *   (impression + click) and the same again for the event hashes.
 * - Memory: heap delta (after a forced GC) of 100k exposures in the in-memory store, per exposure.
 * - Ingestion: calls of 100 events (20 requests × 5 events: impression, click, add_to_cart, a retried
 *   click, a purchase) through createEventIngestion on Redis, sequential; events per second of wall time,
 *   per CPU-second of this (service) process, and Redis CPU per event (INFO cpu).
 * - Recorder: µs per record() on the caller's turn, and service-process CPU per exposure including the
 *   batched Redis writes (the added CPU per rerank, to compare with a cache-hit rerank's CPU).
 * - Capacity: bytes/exposure × 1,000 reranks/s × 86,400 s × 7 days (EXPOSURE_TTL_SECONDS default).
 *
 *   node --expose-gc --import tsx bench/exposure-store.ts [--exposures 10000] [--memory-exposures 100000] [--event-calls 2000]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { createEventIngestion } from '../src/experiments/event-ingestion.js';
import { createExposureRecorder } from '../src/experiments/exposure-recorder.js';
import type { ExposureRecord } from '../src/experiments/ports.js';
import { createKeySchema } from '../src/store/key-schema.js';
import { createMemoryExposureStore } from '../src/store/memory-exposure-store.js';
import { createRedis, whenReady } from '../src/store/redis-connection.js';
import type { RedisClient } from '../src/store/redis-connection.js';
import { createRedisExposureStore } from '../src/store/redis-exposure-store.js';
import { startRedisServer } from '../testkit/redis-server.js';

const { values: v } = parseArgs({
  options: {
    exposures: { type: 'string', default: '10000' },
    'memory-exposures': { type: 'string', default: '100000' },
    'event-calls': { type: 'string', default: '2000' },
  },
  strict: true,
});
const N_REDIS = Number(v.exposures);
const N_MEMORY = Number(v['memory-exposures']);
const EVENT_CALLS = Number(v['event-calls']);
const TTL_SECONDS = 604_800;
const RERANKS_PER_SECOND = 1_000;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const id12 = () => Array.from({ length: 12 }, () => ALNUM[Math.floor(Math.random() * ALNUM.length)]).join('');
const catalog = Array.from({ length: 50_000 }, id12);
const pick = () => catalog[Math.floor(Math.random() * catalog.length)] ?? '';
const users = Array.from({ length: 1_000 }, (_, i) => `user-${String(i).padStart(7, '0')}`);

function realistic(): ExposureRecord {
  const baseline = Array.from({ length: 20 }, pick);
  const served = [...baseline].sort(() => Math.random() - 0.5).slice(0, 10);
  return {
    requestId: randomUUID(),
    domain: 'movies',
    userId: users[Math.floor(Math.random() * users.length)] ?? '',
    at: Date.now(),
    experiment: { id: 'exp-0001', arm: Math.random() < 0.5 ? 'control' : 'treatment' },
    method: 'agp',
    promptVersion: 'v2026-11-30',
    fallbackReason: null,
    served,
    servedArms: null,
    baseline,
    history: Array.from({ length: 20 }, pick),
  };
}

const infoField = async (redis: RedisClient, section: string, field: string) =>
  Number(new RegExp(`${field}:([\\d.]+)`).exec(await redis.info(section))?.[1] ?? NaN);

async function memoryUsage(redis: RedisClient, pattern: string): Promise<{ keys: number; bytes: number }> {
  let cursor = '0';
  let keys = 0;
  let bytes = 0;
  do {
    const [next, batch] = await (redis as Redis).scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const k of batch) {
      keys += 1;
      bytes += Number(await redis.memory('USAGE', k, 'SAMPLES', 0));
    }
  } while (cursor !== '0');
  return { keys, bytes };
}

const server = await startRedisServer();
const redis = createRedis(server.url, { role: 'cache' });
try {
  if (!(await whenReady(redis, 5_000))) throw new Error('redis-server did not come up');
  const prefix = 'bench';
  const keys = createKeySchema(prefix);
  const store = createRedisExposureStore({ redis, keyPrefix: prefix });
  const records = Array.from({ length: N_REDIS }, realistic);
  const sampleDoc = records[0];

  const used0 = await infoField(redis, 'memory', 'used_memory');
  for (let i = 0; i < records.length; i += 100) await store.put(records.slice(i, i + 100), TTL_SECONDS);
  const used1 = await infoField(redis, 'memory', 'used_memory');
  const docs = await memoryUsage(redis, `${prefix}:exp:*`);
  const index = await memoryUsage(redis, `${prefix}:expu:*`);
  const perExposure = (docs.bytes + index.bytes) / N_REDIS;

  // Two events per exposure (impression + click): the dedupe and positives hashes.
  for (const r of records) {
    await store.applyEvents(r.requestId, [
      { dedupeKey: `k${JSON.stringify([r.served[0], 'impression'])}`, itemId: r.served[0] ?? '', positive: false },
      { dedupeKey: `k${JSON.stringify([r.served[0], 'click'])}`, itemId: r.served[0] ?? '', positive: true },
    ]);
  }
  const used2 = await infoField(redis, 'memory', 'used_memory');
  const withEvents = await memoryUsage(redis, `${prefix}:exp:*`);

  // Events ingestion on Redis.
  const ingestion = createEventIngestion({ store, clock: { now: () => Date.now() }, maxAgeMs: TTL_SECONDS * 1000 });
  const types = ['impression', 'click', 'add_to_cart', 'click', 'purchase'];
  const calls = Array.from({ length: EVENT_CALLS }, () =>
    Array.from({ length: 20 }, () => records[Math.floor(Math.random() * records.length)] as ExposureRecord).flatMap((r) => {
      const item = r.served[Math.floor(Math.random() * r.served.length)] ?? '';
      return types.map((type) => ({ requestId: r.requestId, itemId: item, type }));
    }),
  );
  const redisCpu0 = (await infoField(redis, 'cpu', 'used_cpu_user')) + (await infoField(redis, 'cpu', 'used_cpu_sys'));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let accepted = 0;
  for (const call of calls) accepted += (await ingestion.ingest(call)).accepted;
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const nodeCpu = (cpu.user + cpu.system) / 1e6;
  const redisCpu = (await infoField(redis, 'cpu', 'used_cpu_user')) + (await infoField(redis, 'cpu', 'used_cpu_sys')) - redisCpu0;
  const events = EVENT_CALLS * 100;

  // Recording cost in the service process: the synchronous part of record() (what a rerank pays on its
  // turn) and the whole CPU including the batched Redis writes (off the request path, same process).
  const recorder = createExposureRecorder({ store, ttlSeconds: TTL_SECONDS, sampleRate: 1 });
  const toRecord = Array.from({ length: N_REDIS }, realistic);
  const rc0 = process.cpuUsage();
  const s0 = performance.now();
  for (const r of toRecord) recorder.record(r);
  const syncMicros = ((performance.now() - s0) * 1000) / N_REDIS;
  await recorder.flush();
  const rc = process.cpuUsage(rc0);
  const recordCpuMicros = (rc.user + rc.system) / N_REDIS;

  // In-memory store: heap per exposure.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) process.stderr.write('warning: run with node --expose-gc for a stable heap delta\n');
  // The baseline is taken before the records exist: they are garbage by the second reading, so the
  // delta is what the store retains (the shared catalog id strings were allocated before both).
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const mem = createMemoryExposureStore({ maxEntries: N_MEMORY });
  for (let i = 0; i < N_MEMORY; i += 1_000) await mem.put(Array.from({ length: Math.min(1_000, N_MEMORY - i) }, realistic), TTL_SECONDS);
  gc?.();
  const heapPerExposure = (process.memoryUsage().heapUsed - heap0) / N_MEMORY;
  if (mem.size !== N_MEMORY) throw new Error(`memory store holds ${mem.size}, expected ${N_MEMORY}`);

  const gbPerDay = (bytes: number) => (bytes * RERANKS_PER_SECOND * 86_400) / 1e9;
  const result = {
    documentBytes: sampleDoc ? Buffer.byteLength((await redis.get(keys.exposureDoc(keys.exposureTag(sampleDoc.requestId)))) ?? '') : NaN,
    redis: {
      exposures: N_REDIS,
      memoryUsagePerExposure: Math.round(perExposure),
      docKeyBytes: Math.round(docs.bytes / N_REDIS),
      userIndexBytesPerExposure: Math.round(index.bytes / N_REDIS),
      usedMemoryDeltaPerExposure: Math.round((used1 - used0) / N_REDIS),
      usedMemoryGiBPer1M: +(((used1 - used0) / N_REDIS) * 1e6 / 2 ** 30).toFixed(2),
      with2Events: { memoryUsagePerExposure: Math.round((withEvents.bytes + index.bytes) / N_REDIS), usedMemoryDeltaPerExposure: Math.round((used2 - used0) / N_REDIS) },
    },
    memory: { exposures: N_MEMORY, heapBytesPerExposure: Math.round(heapPerExposure), heapMiBPer100k: +((heapPerExposure * 100_000) / 1048576).toFixed(1), heapGiBPer1M: +((heapPerExposure * 1e6) / 2 ** 30).toFixed(2) },
    ingestion: {
      events,
      accepted,
      eventsPerSecondWall: Math.round(events / wall),
      eventsPerServiceCpuSecond: Math.round(events / nodeCpu),
      redisCpuMicrosPerEvent: +((redisCpu * 1e6) / events).toFixed(2),
    },
    recorder: { exposures: N_REDIS, syncMicrosPerRecord: +syncMicros.toFixed(2), processCpuMicrosPerExposureWithRedisWrites: +recordCpuMicros.toFixed(1) },
    capacity: {
      assumption: `${RERANKS_PER_SECOND} reranks/s, every exposure recorded (EXPOSURE_SAMPLE_RATE=1), TTL ${TTL_SECONDS} s (7 days)`,
      gbPerDayWritten: +gbPerDay((used1 - used0) / N_REDIS).toFixed(1),
      gbResidentAtSteadyState: +(gbPerDay((used1 - used0) / N_REDIS) * 7).toFixed(0),
      gbResidentWith2EventsEach: +(gbPerDay((used2 - used0) / N_REDIS) * 7).toFixed(0),
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  redis.disconnect();
  await server.stop();
}
