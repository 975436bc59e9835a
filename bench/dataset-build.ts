/**
 * Dataset build bench (issue 11: "dataset build rows per second and peak RSS for 1M exposures").
 *
 * 1. Fill a PRIVATE redis-server (testkit/redis-server.ts) with N exposures of one domain spread over a 7-day
 *    window (bench/lib/exposure-fill.ts: 20 candidates, 10 history items, ~30 % with a positive event), written
 *    as the store's own keys in one pipeline per 5,000 exposures (bench/lib/exposure-pipeline-fill.ts, checked
 *    key by key against the store's put + applyEvents first), and the item catalogue holding the titles
 *    (its own put). The fill is timed separately; it is not the figure.
 * 2. Build the window's dataset in a CHILD process (bench/lib/dataset-build-child.ts) through the CLI runtime's
 *    DatasetService (`agp dataset build`: Redis scan + catalogue + file writer), so the peak RSS reported is
 *    the builder's own. Reported: rows/s, exposures scanned/s, rows, skips, peak RSS (and per half of the
 *    build), the builder's and redis-server's CPU during the build, Redis used_memory.
 * 3. Unless `--memory-exposures 0`: the same build on the in-memory store and catalogue at their default
 *    bounds (a replica without Redis), filled and built in one child.
 *
 *   npm run bench:dataset-build -- [--exposures 1000000] [--memory-exposures 100000] [--users 50000]
 *        [--items 20000] [--positive-share 0.3] [--text-chars 0] [--out bench/results/dataset-build.json]
 *   npm run bench -- --only dataset-build
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { createRedis, whenReady } from '../src/store/redis-connection.js';
import { createRedisItemCatalogue } from '../src/store/redis-item-catalogue.js';
import { startRedisServer } from '../testkit/redis-server.js';
import { CLK_TCK, cpuMicros } from '../testkit/processes.js';
import { catalogueBatches, trafficBatches, type TrafficBatch, type TrafficSpec } from './lib/exposure-fill.js';
import { checkAgainstStore, pipelineFill } from './lib/exposure-pipeline-fill.js';
import { machineInfo, sourceInfo } from './lib/machine.js';

const execFileP = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DAY_MS = 86_400_000;
const PREFIX = 'bdb';
const CATALOGUE_TTL_S = 2_592_000;
const EXPOSURE_TTL_S = 8 * 86_400;

const { values: o } = parseArgs({
  options: {
    exposures: { type: 'string', default: '1000000' },
    'memory-exposures': { type: 'string', default: '100000' },
    users: { type: 'string', default: '50000' },
    items: { type: 'string', default: '20000' },
    'positive-share': { type: 'string', default: '0.3' },
    'text-chars': { type: 'string', default: '0' },
    out: { type: 'string', default: join(repoRoot, 'bench', 'results', 'dataset-build.json') },
  },
  strict: true,
});
const int = (name: keyof typeof o, min: number): number => {
  const n = Number(o[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${o[name]}`);
  return n;
};
const positiveShare = Number(o['positive-share']);
if (!(positiveShare >= 0 && positiveShare <= 1)) throw new Error(`--positive-share must be between 0 and 1, got ${o['positive-share']}`);
const start = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 7 * DAY_MS;
const spec = (exposures: number): TrafficSpec => ({
  domain: 'movies',
  exposures,
  users: int('users', 1),
  items: int('items', 100),
  positiveShare,
  noHistoryShare: 0.02,
  candidates: 20,
  history: 10,
  textChars: int('text-chars', 0),
  start,
  windowMs: 7 * DAY_MS,
  seed: 1,
});
const log = (msg: string) => process.stderr.write(`[dataset-build] ${msg}\n`);
const mib = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);

/** Runs the child; its JSON line. */
async function child(args: string[], env: Record<string, string>): Promise<Record<string, unknown>> {
  const { stdout } = await execFileP(process.execPath, ['--expose-gc', '--import', 'tsx', join(repoRoot, 'bench', 'lib', 'dataset-build-child.ts'), ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), NODE_ENV: 'production', ...env },
    maxBuffer: 1024 * 1024,
    timeout: 3_600_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

async function redisRun(n: number, dir: string) {
  const server = await startRedisServer();
  // The filler's own connection, without a command timeout: one pipeline holds tens of thousands of commands.
  const redis = createRedis(server.url, { role: 'recorder', overrides: { commandTimeout: undefined } });
  try {
    if (!(await whenReady(redis, 5_000))) throw new Error('the private redis-server did not answer');
    const r = redis as Redis;
    const used = async () => Number(/used_memory:(\d+)/.exec(await r.info('memory'))?.[1]);
    const usedBefore = await used();
    const catalogue = createRedisItemCatalogue({ redis, keyPrefix: PREFIX });
    const s = spec(n);
    await checkAgainstStore(r, 'bdbcheck', trafficBatches({ ...s, exposures: 300, seed: 2 }, 300).next().value as TrafficBatch, EXPOSURE_TTL_S);
    const f0 = performance.now();
    for (const batch of catalogueBatches(s, 2_000)) await catalogue.put(batch, CATALOGUE_TTL_S);
    let [positives, batches] = [0, 0];
    let inFlight: Promise<void> = Promise.resolve();
    for (const batch of trafficBatches(s, 5_000)) {
      // One pipeline in flight while the next batch is generated.
      await inFlight;
      inFlight = pipelineFill(r, PREFIX, batch, EXPOSURE_TTL_S);
      positives += batch.positives.length;
      if (++batches % 20 === 0) process.stderr.write('.');
    }
    await inFlight;
    const fillSeconds = (performance.now() - f0) / 1000;
    process.stderr.write('\n');
    const usedAfter = await used();
    log(`filled ${n} exposures (${positives} with a positive) in ${fillSeconds.toFixed(0)} s; Redis used_memory ${mib(usedAfter)} MiB`);
    const redisPid = Number(/process_id:(\d+)/.exec(await r.info('server'))?.[1]);
    const redisCpu0 = cpuMicros(redisPid);
    const build = await child(['--store', 'redis', '--domain', s.domain, '--since', String(start), '--until', String(start + 7 * DAY_MS), '--out', join(dir, 'redis.jsonl')], {
      REDIS_URL: server.url,
      REDIS_KEY_PREFIX: PREFIX,
      TRAINING_DATA_DIR: dir,
    });
    // Redis does a share of the build's work (the scan's scripts, the catalogue GETs): its CPU in that time.
    build.redisCpuSeconds = +((cpuMicros(redisPid) - redisCpu0) / 1e6).toFixed(1);
    return {
      exposures: n,
      positivesApplied: positives,
      fill: { seconds: +fillSeconds.toFixed(1), exposuresPerSecond: Math.round(n / fillSeconds) },
      redis: { usedMemoryMiB: mib(usedAfter), usedMemoryDeltaMiB: mib(usedAfter - usedBefore), bytesPerExposure: Math.round((usedAfter - usedBefore) / n) },
      build,
    };
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'agp-bench-dataset-build-'));
try {
  const n = int('exposures', 1);
  const nMemory = int('memory-exposures', 0);
  const t0 = performance.now();
  log(`Redis: filling ${n} exposures over 7 days…`);
  const redisResult = await redisRun(n, dir);
  log(`Redis build: ${JSON.stringify(redisResult.build)}`);
  await rm(join(dir, 'redis.jsonl'), { force: true });
  let memory: Record<string, unknown> | null = null;
  if (nMemory > 0) {
    log(`memory: filling and building ${nMemory} exposures in one child…`);
    const s = spec(nMemory);
    memory = await child(['--store', 'memory', '--domain', s.domain, '--since', String(start), '--until', String(start + 7 * DAY_MS), '--out', join(dir, 'memory.jsonl'), '--spec', JSON.stringify(s)], {
      TRAINING_DATA_DIR: dir,
    });
    log(`memory build: ${JSON.stringify(memory)}`);
  }
  const doc = {
    command: `npm run bench:dataset-build -- ${process.argv.slice(2).join(' ')}`.replace(/ -- $/, ''),
    finishedAt: new Date().toISOString(),
    wallSeconds: Math.round((performance.now() - t0) / 1000),
    machine: machineInfo(CLK_TCK),
    source: sourceInfo(repoRoot),
    traffic: { ...spec(n), start: new Date(start).toISOString(), windowDays: 7, itemPopularity: 'item = floor(items * r^2)', missingTitles: '1 item in 1000' },
    redis: redisResult,
    memory,
  };
  await mkdir(dirname(o.out), { recursive: true });
  await writeFile(o.out, `${JSON.stringify(doc, null, 2)}\n`);
  const b = redisResult.build as { rowsPerSecond: number; exposuresPerSecond: number; peakRssMiB: number; summary: { rows: number } };
  process.stdout.write(
    `${JSON.stringify({ exposures: n, rows: b.summary.rows, rowsPerSecond: b.rowsPerSecond, exposuresPerSecond: b.exposuresPerSecond, peakRssMiB: b.peakRssMiB, redisUsedMemoryMiB: redisResult.redis.usedMemoryMiB, out: o.out })}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
