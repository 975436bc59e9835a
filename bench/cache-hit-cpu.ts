/**
 * `npx tsx bench/cache-hit-cpu.ts --dist old=<dir> --dist new=<dir> [--rounds 5] [--requests 3000]`
 *
 * A/B of the service's CPU per cache-hit rerank between builds (each a `dist/` from `npm run build`, e.g. of
 * another checkout). The full bench (`npm run bench`) drives 50 connections with the load generator, the LLM
 * simulator, Redis and the service on the same 2 cores, and its per-run figure moves by ±30 %: too much to
 * tell a 5 % change. Here one keep-alive connection sends the requests one after another, so nothing competes
 * with the service while it works, and the builds run alternately, round after round, against the same Redis
 * and LLM double. CPU is the service process's utime+stime from /proc over the measured requests.
 */
import { parseArgs } from 'node:util';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Pool } from 'undici';
import { cpuMicros, REPO_ROOT, startServerProcess, stopAll } from '../testkit/processes.js';
import { startLlmDouble } from '../testkit/llm-double.js';
import { startRedisServer } from '../testkit/redis-server.js';
import { percentile } from '../testkit/load.js';
import { baseEnv } from './lib/context.js';
import { hitBodies } from './lib/workload.js';

const { values: v } = parseArgs({
  options: { dist: { type: 'string', multiple: true }, rounds: { type: 'string' }, requests: { type: 'string' }, users: { type: 'string' } },
});
// `label=dir` or `label=dir,KEY=VALUE,…`: the same build can run as two variants (e.g. recording off).
const builds = (v.dist ?? []).map((s) => {
  const [head = '', ...pairs] = s.split(',');
  const [label, dir] = head.split('=');
  if (!label || !dir) throw new Error(`--dist wants label=dir[,KEY=VALUE…], got ${s}`);
  const env = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  return { label, dir, env };
});
if (builds.length === 0) throw new Error('usage: bench/cache-hit-cpu.ts --dist old=<dir> --dist new=<dir> [--rounds 5] [--requests 3000]');
const rounds = Number(v.rounds ?? 5);
const requests = Number(v.requests ?? 3000);
const bodies = hitBodies(Number(v.users ?? 200));

const redis = await startRedisServer();
const llm = await startLlmDouble();
const results: Record<string, number[]> = Object.fromEntries(builds.map((b) => [b.label, []]));

/** One round of one build: start it, warm every user's profile, then measure `requests` sequential hits. */
async function measure(label: string, dir: string, round: number, extraEnv: Record<string, string> = {}): Promise<number> {
  const server = await startServerProcess({
    name: `${label}-${round}`,
    args: [join(dir, 'server.js')],
    baseEnv: baseEnv({}),
    env: {
      LOG_LEVEL: 'info',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `cpu-${label}-${round}`,
      LLM_BASE_URL: llm.url,
      LLM_API_KEY: 'bench-key',
      LLM_MODEL: 'bench-model',
      ...extraEnv,
    },
    stdout: 'ignore',
  });
  const pool = new Pool(server.origin, { connections: 1 });
  const send = async (body: string) => {
    const res = await pool.request({ method: 'POST', path: '/v1/rerank', headers: { 'content-type': 'application/json' }, body });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${label}: status ${res.statusCode}`);
  };
  try {
    // Two passes over the users: the first generates and caches each profile, the second warms the JIT.
    for (let i = 0; i < bodies.length * 2; i++) await send(bodies[i % bodies.length] as string);
    const before = cpuMicros(server.pid);
    for (let i = 0; i < requests; i++) await send(bodies[i % bodies.length] as string);
    return (cpuMicros(server.pid) - before) / requests;
  } finally {
    await pool.close();
    await server.stop();
  }
}

try {
  for (let round = 0; round < rounds; round++) {
    // Alternate the order each round, so neither build always runs on a warmer (or busier) machine.
    const order = round % 2 === 0 ? builds : [...builds].reverse();
    for (const b of order) {
      const us = await measure(b.label, b.dir, round, b.env);
      results[b.label]?.push(us);
      process.stdout.write(`round ${round + 1}/${rounds} ${b.label}: ${us.toFixed(0)} µs CPU per cache-hit rerank\n`);
    }
  }
} finally {
  await stopAll();
  await llm.close();
  await redis.stop();
}

const summary = Object.fromEntries(
  Object.entries(results).map(([label, xs]) => [label, { runs: xs.map((x) => Math.round(x)), median: Math.round(percentile(xs, 50)), min: Math.round(Math.min(...xs)), max: Math.round(Math.max(...xs)) }]),
);
process.stdout.write(`${JSON.stringify({ requests, rounds, summary }, null, 2)}\n`);
const out = join(REPO_ROOT, 'bench', 'results');
await mkdir(out, { recursive: true });
await writeFile(join(out, 'cache-hit-cpu.json'), `${JSON.stringify({ at: new Date().toISOString(), command: process.argv.slice(2).join(' '), requests, rounds, summary }, null, 2)}\n`);
