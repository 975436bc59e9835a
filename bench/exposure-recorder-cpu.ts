/**
 * Recorder CPU bench: service-process CPU per recorded exposure on Redis, the experiment's running-sums
 * update (`applySums`) included, batched (standalone) and one script per operation (the Cluster's path). It is what one rerank
 * adds to the serving process when EXPOSURE_SAMPLE_RATE=1 (the default) and an A/B experiment is running.
 *
 * Each round records `--exposures` realistic exposures (bench/exposure-store.ts's shape, A/B arm, the sums
 * update serving builds with exposureSums) through createExposureRecorder into a private redis-server, the
 * way serving does (record() one by one, the drain loop writes batches of 100), and reads this process's
 * CPU (process.cpuUsage) from the first record() to the end of flush(). Setups alternate round by round.
 *
 *   node --import tsx bench/exposure-recorder-cpu.ts [--exposures 5000] [--rounds 3] [--only <label part>] [--chunk 5000]
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exposureSums } from '../src/experiments/experiment-sums.js';
import { createExposureRecorder } from '../src/experiments/exposure-recorder.js';
import type { ExperimentRecord, ExposureRecord } from '../src/experiments/ports.js';
import { createRedis, whenReady } from '../src/store/redis-connection.js';
import { createRedisExposureStore } from '../src/store/redis-exposure-store.js';
import { percentile } from '../testkit/load.js';
import { REPO_ROOT } from '../testkit/processes.js';
import { startRedisServer } from '../testkit/redis-server.js';

const { values: v } = parseArgs({ options: { exposures: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '3' }, only: { type: 'string' }, chunk: { type: 'string', default: '5000' } }, strict: true });
const N = Number(v.exposures);
const ROUNDS = Number(v.rounds);
const CHUNK = Math.min(5_000, Math.max(1, Number(v.chunk)));
const TTL_SECONDS = 604_800;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const id12 = () => Array.from({ length: 12 }, () => ALNUM[Math.floor(Math.random() * ALNUM.length)]).join('');
const catalog = Array.from({ length: 50_000 }, id12);
const pick = () => catalog[Math.floor(Math.random() * catalog.length)] ?? '';
const users = Array.from({ length: 1_000 }, (_, i) => `user-${String(i).padStart(7, '0')}`);
const experiment: Pick<ExperimentRecord, 'mode' | 'arms'> = { mode: 'ab', arms: [{ name: 'control', method: 'agp' }, { name: 'treatment', method: 'direct' }] };

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

/**
 * A store setup: batched (one script call per turn, a standalone Redis's default) or one script per operation
 * (a Cluster's path, run here on the same standalone server), with or without the running sums.
 */
interface Setup {
  label: string;
  batch: boolean;
  sums: boolean;
}
const setups: Setup[] = [
  { label: 'per-operation, put + applySums', batch: false, sums: true },
  { label: 'batched, put + applySums', batch: true, sums: true },
  { label: 'batched, put only', batch: true, sums: false },
];

if (v.only) setups.splice(0, setups.length, ...setups.filter((s) => s.label.includes(v.only ?? '')));
const server = await startRedisServer();
const results: Record<string, number[]> = Object.fromEntries(setups.map((s) => [s.label, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of round % 2 === 0 ? setups : [...setups].reverse()) {
      const redis = createRedis(server.url, { role: 'recorder' });
      if (!(await whenReady(redis, 5_000))) throw new Error('redis-server did not come up');
      const store = createRedisExposureStore({ redis, keyPrefix: `b${round}`, batch: s.batch });
      let failed = 0;
      const recorder = createExposureRecorder({ store, ttlSeconds: TTL_SECONDS, sampleRate: 1, onOutcome: (o, n) => (o === 'recorded' ? undefined : (failed += n)) });
      const work = Array.from({ length: N }, () => {
        const e = realistic();
        return { e, sums: s.sums ? exposureSums(e, experiment, [{ arm: e.experiment?.arm ?? '', llmCalls: 1, fellBack: false, latencyMs: 12 }]) : null };
      });
      // Warm-up: JIT and script cache (the first EVALSHA of a script loads it).
      for (const w of work.slice(0, 200)) recorder.record(w.e, w.sums);
      await recorder.flush();
      const c0 = process.cpuUsage();
      // In chunks below the recorder's queue bound (10,000), so nothing is dropped; --chunk 6 imitates the
      // small batches the service gathers under sequential traffic (each chunk is flushed before the next).
      for (let i = 200; i < N; i += CHUNK) {
        for (const w of work.slice(i, i + CHUNK)) recorder.record(w.e, w.sums);
        await recorder.flush();
      }
      const c = process.cpuUsage(c0);
      const us = (c.user + c.system) / (N - 200);
      if (failed > 0) throw new Error(`${s.label}: ${failed} exposures not recorded`);
      results[s.label]?.push(us);
      process.stdout.write(`round ${round + 1}/${ROUNDS} ${s.label}: ${us.toFixed(1)} µs CPU per exposure\n`);
      redis.disconnect();
    }
  }
} finally {
  await server.stop();
}
const summary = Object.fromEntries(Object.entries(results).map(([k, xs]) => [k, { runs: xs.map((x) => +x.toFixed(1)), median: +percentile(xs, 50).toFixed(1) }]));
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
const out = join(REPO_ROOT, 'bench', 'results');
await mkdir(out, { recursive: true });
await writeFile(join(out, 'exposure-recorder-cpu.json'), `${JSON.stringify({ at: new Date().toISOString(), command: `node --import tsx bench/exposure-recorder-cpu.ts ${process.argv.slice(2).join(' ')}`.trim(), exposures: N, rounds: ROUNDS, chunk: CHUNK, summary }, null, 2)}\n`);
