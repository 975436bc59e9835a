/**
 * Training-set STORAGE bench (issue 11, docs/loop.md), on a private redis-server. (Was bench/dataset-build.ts;
 * the 1M-exposure build throughput and peak-RSS bench is now bench/dataset-build.ts.)
 *
 * - Catalogue: 10k items (12-character ids, ~45-character titles, ~200-character texts, as a rerank sends
 *   them) written by the Redis catalogue; bytes per item = Σ MEMORY USAGE of the item keys / 10k and the
 *   server's used_memory delta / 10k. Same for title-only items.
 * - Time index: N exposures spread over 24 hours written through the Redis exposure store; bytes per
 *   exposure of the hour buckets (Σ MEMORY USAGE of the `xt` keys / N) and Redis commands per put from
 *   INFO commandstats (the index is one EVALSHA more per exposure).
 * - Build: every exposure gets a click; the dataset is built into a file (rows/s and RSS growth).
 *
 *   node --expose-gc --import tsx bench/dataset-storage.ts [--exposures 20000]
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { buildDataset } from '../src/experiments/dataset-builder.js';
import type { ExposureRecord } from '../src/experiments/ports.js';
import { openDatasetFile } from '../src/jobs/dataset-writer.js';
import { createRedis, whenReady } from '../src/store/redis-connection.js';
import { createRedisExposureStore } from '../src/store/redis-exposure-store.js';
import { createRedisItemCatalogue } from '../src/store/redis-item-catalogue.js';
import { startRedisServer } from '../testkit/redis-server.js';

const { values } = parseArgs({ options: { exposures: { type: 'string', default: '20000' } } });
const N = Number(values.exposures);
const server = await startRedisServer();
const redis = createRedis(server.url, { role: 'recorder' });
await whenReady(redis, 5_000);
const r = redis as Redis;
const used = async () => Number(/used_memory:(\d+)/.exec(await r.info('memory'))?.[1]);
const keysOf = async (pattern: string) => {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...batch);
  } while (cursor !== '0');
  return out;
};
const memoryOf = async (ks: string[]) => (await Promise.all(ks.map((k) => r.memory('USAGE', k)))).reduce<number>((a, b) => a + Number(b ?? 0), 0);
const commands = async () => {
  const info = await r.info('commandstats');
  return Object.fromEntries([...info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map((m) => [m[1] as string, Number(m[2])]));
};
const id12 = (i: number) => `item-${String(i).padStart(7, '0')}`;
const title = (i: number) => `The Remarkable Adventures of Item Number ${i}`.slice(0, 45);
const text = (i: number) => `A long description of item ${i}: `.padEnd(200, 'lorem ipsum dolor sit amet ');

async function catalogueBytes(prefix: string, withText: boolean) {
  const cat = createRedisItemCatalogue({ redis, keyPrefix: prefix });
  const before = await used();
  const n = 10_000;
  for (let i = 0; i < n; i += 500) {
    await cat.put(Array.from({ length: 500 }, (_, j) => ({ domain: 'movies', id: id12(i + j), title: title(i + j), ...(withText ? { text: text(i + j) } : {}) })), 2_592_000);
  }
  const after = await used();
  const ks = await keysOf(`${prefix}:item:*`);
  return { perItemMemoryUsage: Math.round((await memoryOf(ks)) / n), perItemUsedMemory: Math.round((after - before) / n) };
}

const catWithText = await catalogueBytes('bc1', true);
const catTitleOnly = await catalogueBytes('bc2', false);

const prefix = 'bx';
const store = createRedisExposureStore({ redis, keyPrefix: prefix });
const start = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 24 * 3_600_000;
const baseline = Array.from({ length: 20 }, (_, i) => id12(i));
const history = Array.from({ length: 20 }, (_, i) => id12(100 + i));
const recs: ExposureRecord[] = Array.from({ length: N }, (_, i) => ({
  requestId: randomUUID(), domain: 'movies', userId: `user-${i % 1000}`, at: start + Math.floor((i / N) * 24 * 3_600_000),
  experiment: null, method: 'agp', promptVersion: 'v3', fallbackReason: null,
  served: baseline.slice(0, 10), servedArms: null, baseline, history,
}));
await createRedisItemCatalogue({ redis, keyPrefix: prefix }).put([...baseline, ...history].map((id, i) => ({ domain: 'movies', id, title: title(i) })), 3_600);
const c0 = await commands();
const t0 = performance.now();
for (let i = 0; i < N; i += 100) await store.put(recs.slice(i, i + 100), 604_800);
const putMs = performance.now() - t0;
const c1 = await commands();
const perPut = Object.fromEntries(Object.keys(c1).filter((k) => (c1[k] ?? 0) !== (c0[k] ?? 0)).map((k) => [k, +(((c1[k] ?? 0) - (c0[k] ?? 0)) / N).toFixed(2)]));
const xt = await keysOf(`${prefix}:xt:*`);
const indexBytes = (await memoryOf(xt)) / N;
for (const e of recs) await store.applyEvents(e.requestId, [{ dedupeKey: 'click', itemId: e.served[2] ?? '', positive: true }]);

const dir = await mkdtemp(join(tmpdir(), 'agp-bench-ds-'));
const out = join(dir, 'ds.jsonl');
const file = await openDatasetFile(out);
global.gc?.();
const rss0 = process.memoryUsage().rss;
let rssPeak = rss0;
const heap0 = process.memoryUsage().heapUsed;
let heapPeak = heap0;
const timer = setInterval(() => {
  const m = process.memoryUsage();
  [rssPeak, heapPeak] = [Math.max(rssPeak, m.rss), Math.max(heapPeak, m.heapUsed)];
}, 20);
const b0 = performance.now();
const summary = await buildDataset({ exposures: store, catalogue: createRedisItemCatalogue({ redis, keyPrefix: prefix }) }, { domain: 'movies', since: start, until: start + 24 * 3_600_000 }, file.sink);
await file.commit();
const buildMs = performance.now() - b0;
clearInterval(timer);
const fileBytes = (await stat(out)).size;
console.log(JSON.stringify({
  catalogue: { withText200: catWithText, titleOnly: catTitleOnly },
  timeIndex: { exposures: N, buckets: xt.length, bytesPerExposure: Math.round(indexBytes), redisCommandsPerPut: perPut, putExposuresPerSecond: Math.round(N / (putMs / 1000)) },
  build: { rows: summary.rows, rowsPerSecond: Math.round(summary.rows / (buildMs / 1000)), rssGrowthMiB: +((rssPeak - rss0) / 2 ** 20).toFixed(1), heapGrowthMiB: +((heapPeak - heap0) / 2 ** 20).toFixed(1), fileMiB: +(fileBytes / 2 ** 20).toFixed(1) },
}, null, 2));
redis.disconnect();
await server.stop();
await rm(dir, { recursive: true, force: true });
