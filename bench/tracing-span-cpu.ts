/**
 * `npx tsx bench/tracing-span-cpu.ts [--iterations 200000]`
 *
 * The tracing instrumentation of one cache-hit rerank in isolation, in-process: the spans the service opens for
 * it (server span, profile.lookup, redis.profile_store.lookup, llm.rerank with its outgoing traceparent), with
 * the awaits between them, and nothing else. Tracing off (the no-op port), on at 100 % and on at 1 %
 * (parentbased_traceidratio), each in a fresh process (the OTel context manager changes the whole process),
 * exporting OTLP/HTTP JSON to a sink in the parent. Reports CPU µs per emulated rerank: a floor under
 * bench/tracing-overhead.ts, whose end-to-end figure is noisier than the difference it looks for.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { traced, tracing } from '../src/agp/tracing.js';
import { loadConfig } from '../src/config.js';
import { createClosers } from '../src/runtime/closers.js';
import { setUpTracing } from '../src/runtime/tracing.js';
import { silentLogger } from '../src/agp/ports.js';

const { values: v } = parseArgs({ options: { iterations: { type: 'string' }, child: { type: 'string' }, endpoint: { type: 'string' } } });
const iterations = Number(v.iterations ?? 200_000);

/** The span work of one cache-hit rerank. */
async function oneRerank(): Promise<void> {
  const t = tracing();
  const server = t.enabled ? t.start('POST /v1/rerank', { kind: 'server', attributes: { 'http.route': '/v1/rerank' } }) : undefined;
  const body = async () => {
    await traced('profile.lookup', { 'agp.domain': 'default' }, async (span) => {
      await traced('redis.profile_store.lookup', { 'db.system': 'redis' }, async () => await Promise.resolve(1), 'client');
      span.setAttribute('agp.profile.cache', 'hit');
    });
    await traced('llm.rerank', { 'agp.llm.role': 'rerank' }, async (span) => {
      const tp = tracing().traceparent();
      await Promise.resolve(tp);
      span.setAttribute('gen_ai.usage.input_tokens', 100);
    }, 'client');
  };
  if (server) {
    await t.activate(server, body);
    server.setAttribute('http.response.status_code', 200);
    server.end();
  } else await body();
}

if (v.child) {
  const env: Record<string, string> = v.child === 'off' ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: v.endpoint ?? '' };
  if (v.child === 'on-1%') Object.assign(env, { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' });
  const closers = createClosers(silentLogger);
  setUpTracing(loadConfig(env).tracing, closers);
  for (let i = 0; i < 20_000; i++) await oneRerank(); // JIT warm-up
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await oneRerank();
  const used = process.cpuUsage(before);
  await closers.closeAll();
  process.stdout.write(`${((used.user + used.system) / iterations).toFixed(2)}\n`);
} else {
  let spans = 0;
  const sink = createServer((req, res) => {
    req.on('data', (c: Buffer) => (spans += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const self = fileURLToPath(import.meta.url);
  const out: Record<string, number[]> = { off: [], 'on-100%': [], 'on-1%': [] };
  for (let round = 0; round < 3; round++) {
    for (const label of Object.keys(out)) {
      // Async so the sink in this process keeps answering while the child exports.
      const r = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, ['--import', 'tsx', self, '--child', label, '--endpoint', endpoint, '--iterations', String(iterations)], (err, stdout) =>
          err ? reject(err) : resolve(stdout),
        );
      });
      out[label]?.push(Number(r.trim()));
    }
  }
  sink.close();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  process.stdout.write(`${JSON.stringify({ iterations, usPerRerank: Object.fromEntries(Object.entries(out).map(([k, xs]) => [k, { runs: xs, median: median(xs) }])), exportedBytes: spans }, null, 2)}\n`);
}
