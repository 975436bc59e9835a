/**
 * The child process of bench/dataset-build.ts: one dataset build through the service's own code path, in a
 * process of its own so that its peak RSS is the builder's and not the filler's.
 *
 * - `--store redis`: the CLI runtime's DatasetService (`agp dataset build`: createCliRuntime → the Redis
 *   exposure store's scan + the Redis item catalogue + the file writer), configured from the environment
 *   (REDIS_URL, REDIS_KEY_PREFIX, TRAINING_DATA_DIR) like the CLI.
 * - `--store memory`: what a replica without Redis does for POST /admin/v1/datasets: the in-memory exposure
 *   store and catalogue at their configured bounds (EXPOSURE_MEMORY_MAX…, defaults unless set), filled here
 *   first with the same synthetic traffic (`--spec`, bench/lib/exposure-fill.ts), then the same service.
 *
 * Prints one JSON line: the build summary, its wall time, and memory: `peakRssMiB` is the process's maximum
 * resident set (process.resourceUsage().maxRSS, the kernel's VmHWM), `rssBeforeBuildMiB` the RSS just before
 * the build, `buildPeakRssMiB` the highest RSS sampled every 20 ms during the build.
 *
 *   node --expose-gc --import tsx bench/lib/dataset-build-child.ts --store redis|memory --domain D
 *        --since MS --until MS --out FILE [--spec JSON]
 */
import { stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { systemClock } from '../../src/agp/ports.js';
import { loadConfig } from '../../src/config.js';
import type { DatasetService } from '../../src/experiments/dataset-builder.js';
import { createRuntime } from '../../src/runtime/index.js';
import { createDatasetService } from '../../src/runtime/datasets.js';
import { createMemoryExposureStore } from '../../src/store/memory-exposure-store.js';
import { createMemoryItemCatalogue } from '../../src/store/memory-item-catalogue.js';
import { catalogueBatches, trafficBatches, type TrafficSpec } from './exposure-fill.js';

const { values: v } = parseArgs({
  options: {
    store: { type: 'string' },
    domain: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    out: { type: 'string' },
    spec: { type: 'string' },
  },
  strict: true,
});
const mib = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);
const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
let close = async () => undefined as void;
let held: Record<string, number> = {};

async function memoryService(spec: TrafficSpec): Promise<DatasetService> {
  const { exposures: x, catalogue: c, training } = config;
  const store = createMemoryExposureStore({ maxEntries: x.memoryMax, maxBytes: x.memoryMaxBytes, clock: systemClock });
  const catalogue = createMemoryItemCatalogue({ maxEntries: c.memoryMax, clock: systemClock });
  for (const batch of catalogueBatches(spec, 1_000)) await catalogue.put(batch, c.ttlSeconds);
  let positives = 0;
  for (const batch of trafficBatches(spec, 5_000)) {
    await store.put(batch.records, x.ttlSeconds);
    for (const p of batch.positives) if (await store.applyEvents(p.requestId, [{ dedupeKey: 'click', itemId: p.itemId, positive: true }])) positives += 1;
  }
  held = { exposuresHeld: store.size, positivesApplied: positives, catalogueHeld: catalogue.size, exposureMemoryMax: x.memoryMax, exposureMemoryMaxBytes: x.memoryMaxBytes };
  return createDatasetService({ exposures: store, catalogue, dataDir: training.dataDir, clock: systemClock, defaultWindowMs: x.ttlSeconds * 1_000 });
}

async function redisService(): Promise<DatasetService> {
  const runtime = await createRuntime(config, 'cli');
  close = () => runtime.close();
  return runtime.datasets();
}

const service = v.store === 'memory' ? await memoryService(JSON.parse(v.spec ?? '{}') as TrafficSpec) : await redisService();
global.gc?.();
const rssBefore = process.memoryUsage().rss;
const heapBefore = process.memoryUsage().heapUsed;
let [rssPeak, heapPeak] = [rssBefore, heapBefore];
// Every sample, so the peaks of the build's first and second halves can be compared: a builder that holds the
// window would keep growing, a streaming one is flat.
const samples: Array<[number, number]> = [];
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  [rssPeak, heapPeak] = [Math.max(rssPeak, m.rss), Math.max(heapPeak, m.heapUsed)];
  samples.push([performance.now(), m.rss]);
}, 20);
const load0 = loadavg()[0] ?? 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const result = await service.build({ domain: v.domain ?? 'movies', since: Number(v.since), until: Number(v.until), out: v.out });
const buildSeconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const half = t0 + (buildSeconds * 1000) / 2;
const halfPeak = (first: boolean) => mib(Math.max(0, ...samples.filter(([t]) => (t < half) === first).map(([, rss]) => rss)));
clearInterval(sampler);
const m = process.memoryUsage();
[rssPeak, heapPeak] = [Math.max(rssPeak, m.rss), Math.max(heapPeak, m.heapUsed)];
const fileBytes = (await stat(result.path)).size;
await close();
process.stdout.write(
  `${JSON.stringify({
    store: v.store,
    ...held,
    summary: { rows: result.rows, users: result.users, exposures: result.exposures, skipped: result.skipped, partialHistory: result.partialHistory },
    buildSeconds: +buildSeconds.toFixed(2),
    rowsPerSecond: Math.round(result.rows / buildSeconds),
    exposuresPerSecond: Math.round(result.exposures / buildSeconds),
    // The builder's own CPU: on a shared machine, wall time alone says as much about the neighbours.
    cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(1),
    exposuresPerCpuSecond: Math.round(result.exposures / ((cpu.user + cpu.system) / 1e6)),
    loadAverage1m: { atStart: +load0.toFixed(2), atEnd: +(loadavg()[0] ?? 0).toFixed(2) },
    peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    rssBeforeBuildMiB: mib(rssBefore),
    buildPeakRssMiB: mib(rssPeak),
    buildRssGrowthMiB: mib(rssPeak - rssBefore),
    buildPeakRssByHalfMiB: [halfPeak(true), halfPeak(false)],
    heapBeforeBuildMiB: mib(heapBefore),
    buildPeakHeapMiB: mib(heapPeak),
    fileMiB: mib(fileBytes),
    bytesPerRow: Math.round(fileBytes / Math.max(1, result.rows)),
  })}\n`,
);
