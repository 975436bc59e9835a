/**
 * `npx tsx bench/tracing-overhead.ts [--dist dist] [--rounds 5] [--requests 3000] [--users 200]`
 *
 * CPU per cache-hit rerank of one build (`npm run build` first) with tracing off, on at 100 % sampling and on
 * at 1 % (parentbased_traceidratio 0.01), the same way as bench/cache-hit-cpu.ts: one keep-alive connection,
 * sequential requests, the variants alternating round after round against the same Redis and LLM double;
 * CPU is the service process's utime+stime from /proc. "On" exports OTLP/HTTP JSON to a sink in this process
 * that only reads and counts, so the figure includes building, batching, serialising and sending the spans.
 * Requests carry no traceparent, so the sampler decides at the root.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import { cpuMicros, REPO_ROOT, startServerProcess, stopAll } from '../testkit/processes.js';
import { startLlmDouble } from '../testkit/llm-double.js';
import { startRedisServer } from '../testkit/redis-server.js';
import { percentile } from '../testkit/load.js';
import { baseEnv } from './lib/context.js';
import { hitBodies } from './lib/workload.js';

const { values: v } = parseArgs({
  options: { dist: { type: 'string' }, rounds: { type: 'string' }, requests: { type: 'string' }, users: { type: 'string' } },
});
const dist = resolve(REPO_ROOT, v.dist ?? 'dist');
const rounds = Number(v.rounds ?? 5);
const requests = Number(v.requests ?? 3000);
const bodies = hitBodies(Number(v.users ?? 200));

/** The OTLP sink: counts requests and bytes, answers 200. */
const sink = { requests: 0, bytes: 0 };
const sinkServer = createServer((req, res) => {
  req.on('data', (c: Buffer) => (sink.bytes += c.length));
  req.on('end', () => {
    sink.requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((r) => sinkServer.listen(0, '127.0.0.1', r));
const sinkUrl = `http://127.0.0.1:${(sinkServer.address() as AddressInfo).port}`;

const variants: Array<{ label: string; env: Record<string, string> }> = [
  { label: 'off', env: {} },
  { label: 'on-100%', env: { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_TRACES_SAMPLER: 'parentbased_always_on' } },
  { label: 'on-1%', env: { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' } },
];

const redis = await startRedisServer();
const llm = await startLlmDouble();
const results: Record<string, number[]> = Object.fromEntries(variants.map((x) => [x.label, []]));
const exported: Record<string, number> = Object.fromEntries(variants.map((x) => [x.label, 0]));

async function measure(label: string, env: Record<string, string>, round: number): Promise<number> {
  const server = await startServerProcess({
    name: `tracing-${label}-${round}`,
    args: [join(dist, 'server.js')],
    baseEnv: baseEnv({}),
    env: {
      LOG_LEVEL: 'info',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `trace-${round}-${label}`,
      LLM_BASE_URL: llm.url,
      LLM_API_KEY: 'bench-key',
      LLM_MODEL: 'bench-model',
      ...env,
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
    for (let i = 0; i < bodies.length * 2; i++) await send(bodies[i % bodies.length] as string);
    const sinkBefore = sink.requests;
    const before = cpuMicros(server.pid);
    for (let i = 0; i < requests; i++) await send(bodies[i % bodies.length] as string);
    const us = (cpuMicros(server.pid) - before) / requests;
    exported[label] = (exported[label] ?? 0) + sink.requests - sinkBefore;
    return us;
  } finally {
    await pool.close();
    await server.stop();
  }
}

try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const x of order) {
      const us = await measure(x.label, x.env, round);
      results[x.label]?.push(us);
      process.stdout.write(`round ${round + 1}/${rounds} ${x.label}: ${us.toFixed(0)} µs CPU per cache-hit rerank\n`);
    }
  }
} finally {
  await stopAll();
  await llm.close();
  await redis.stop();
  sinkServer.close();
}

const summary = Object.fromEntries(
  Object.entries(results).map(([label, xs]) => [
    label,
    { runs: xs.map((x) => Math.round(x)), median: Math.round(percentile(xs, 50)), min: Math.round(Math.min(...xs)), max: Math.round(Math.max(...xs)), otlpExports: exported[label] },
  ]),
);
process.stdout.write(`${JSON.stringify({ requests, rounds, summary, sinkBytes: sink.bytes }, null, 2)}\n`);
const out = join(REPO_ROOT, 'bench', 'results');
await mkdir(out, { recursive: true });
await writeFile(join(out, 'tracing-overhead.json'), `${JSON.stringify({ at: new Date().toISOString(), command: process.argv.slice(2).join(' '), requests, rounds, summary }, null, 2)}\n`);
