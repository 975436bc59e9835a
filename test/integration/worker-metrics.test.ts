/**
 * `agp worker` (runWorker, in-process) serves its own metrics and liveness on PORT: a private redis-server,
 * the LLM double behind the real openai SDK, one training job that completes and one that fails for good.
 *
 * - GET /metrics is Prometheus text (prom-client's content type) with the worker's agp_training_jobs_total
 *   (the series the "training job failed" alert reads) and agp_llm_* series, and passes
 *   `promtool check metrics` (when promtool is on PATH; required in CI);
 * - GET /healthz answers {"status":"ok"}; anything else is a 404 in the service's error shape;
 * - aborting the signal stops the worker and closes the server; a taken PORT fails the start.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_ACTIVE_PROMPT } from '../../src/agp/prompts.js';
import type { BullmqTrainingJobs } from '../../src/jobs/bullmq-training-jobs.js';
import { createBullmqTrainingJobs } from '../../src/jobs/bullmq-training-jobs.js';
import type { TrainingWorkerTuning } from '../../src/jobs/bullmq-training-worker.js';
import type { JobView } from '../../src/jobs/training-jobs.js';
import { runWorker } from '../../src/worker.js';
import { createPromptRegistry } from '../../src/store/prompt-registry.js';
import type { ManagedPromptRegistry } from '../../src/store/prompt-registry.js';
import { createRedis, whenReady } from '../../src/store/redis-connection.js';
import type { RedisClient } from '../../src/store/redis-connection.js';
import { createRedisPromptStorage } from '../../src/store/redis-prompt-storage.js';
import { startLlmDouble } from '../../testkit/llm-double.js';
import type { LlmDouble } from '../../testkit/llm-double.js';
import { freePort, startRedisServer, uniquePrefix } from '../../testkit/redis-server.js';
import type { RedisServerHandle } from '../../testkit/redis-server.js';
import { dragonUsers, trainingScript } from '../support/training-script.js';
import { eventually } from '../../testkit/wait.js';

const HAS_PROMTOOL = spawnSync('promtool', ['--version']).status === 0;
const IN_CI = Boolean(process.env.CI);
/** 8 training users in 4 batches of 2, 2 validation users, 1 epoch: 26 LLM calls (see training-jobs.test.ts). */
const PARAMS = { epochs: 1, batchSize: 2, valUsers: 2, verifySteps: 0, patience: 0, concurrency: 2 };
const FAST: TrainingWorkerTuning = { pollMs: 50, busyDelayMs: 100, lockDurationMs: 1_000, stalledIntervalMs: 250, concurrency: 3 };
const FINAL = new Set(['completed', 'failed', 'cancelled']);

/** Resolves with the connection error code (ECONNREFUSED once nothing listens), or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.setTimeout(2_000, () => {
      sock.destroy();
      resolve('timeout');
    });
    sock.once('connect', () => {
      sock.destroy();
      resolve('connected');
    });
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** The sample value of one series in Prometheus text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

let redis: RedisServerHandle;
let double: LlmDouble;
let dataDir: string;
const conns: RedisClient[] = [];
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  [redis, double] = await Promise.all([startRedisServer(), startLlmDouble()]);
  double.script(trainingScript);
  dataDir = await mkdtemp(join(tmpdir(), 'agp-worker-metrics-'));
});

afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  await Promise.allSettled(conns.map((c) => c.quit()));
  await double?.close();
  await redis?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A producer (what the API does on POST /admin/v1/training-jobs) on its own connections. */
async function producer(prefix: string): Promise<BullmqTrainingJobs> {
  const cache = createRedis(redis.url, { role: 'cache' });
  const queue = createRedis(redis.url, { role: 'queue' });
  conns.push(cache, queue);
  expect(await whenReady(cache, 5_000)).toBe(true);
  const registry: ManagedPromptRegistry = createPromptRegistry({
    storage: createRedisPromptStorage({ redis: cache, keyPrefix: prefix }),
    builtin: BUILTIN_ACTIVE_PROMPT,
    refreshMs: 100,
  });
  await registry.start();
  closers.push(() => registry.close());
  const jobs = createBullmqTrainingJobs({ registry, dataDir, defaultConcurrency: 2, connection: queue, keyPrefix: prefix });
  closers.push(() => jobs.close());
  return jobs;
}

function workerEnv(prefix: string, port: number): Record<string, string> {
  return {
    LOG_LEVEL: 'silent',
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    LLM_BASE_URL: double.url,
    LLM_API_KEY: 'sk-worker-metrics',
    LLM_MODEL: 'double-model',
    BREAKER_FAILURE_THRESHOLD: '1000',
    TRAINING_DATA_DIR: dataDir,
    TRAINING_CONCURRENCY: '2',
  };
}

describe('agp worker HTTP: /metrics, /healthz, 404, shutdown', () => {
  it('serves the worker registry to Prometheus and closes with the worker', { timeout: 60_000 }, async () => {
    const prefix = uniquePrefix('wm');
    const jobs = await producer(prefix);
    // Queued before the worker starts: one job that trains, one whose data file is gone (a permanent failure).
    const users = dragonUsers(10);
    const ok = await jobs.submit({ domain: 'metrics-ok', dataset: { users }, params: PARAMS, activate: 'never' });
    await writeFile(join(dataDir, 'gone.jsonl'), users.map((u) => JSON.stringify(u)).join('\n'));
    const bad = await jobs.submit({ domain: 'metrics-bad', dataset: { path: 'gone.jsonl' }, params: PARAMS, activate: 'never' });
    await unlink(join(dataDir, 'gone.jsonl'));

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const stop = new AbortController();
    let settled = false;
    const running = runWorker({ env: workerEnv(prefix, port), signal: stop.signal, tuning: FAST }).finally(() => {
      settled = true;
    });
    closers.push(async () => {
      stop.abort();
      await running.catch(() => undefined);
    });

    // Liveness.
    const health = await eventually(() => fetch(`${base}/healthz`), (r) => r.status === 200, { what: 'GET /healthz', timeoutMs: 20_000 });
    expect(health.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await health.json()).toEqual({ status: 'ok' });
    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');

    // The jobs reach their final states; the worker counts them (its 'completed'/'failed' events can trail the state).
    const view = async (id: string) => (await jobs.get(id)) as JobView;
    const [done, failed] = await Promise.all([
      eventually(() => view(ok.jobId), (v) => FINAL.has(v?.state), { what: 'the training job to finish', timeoutMs: 20_000 }),
      eventually(() => view(bad.jobId), (v) => FINAL.has(v?.state), { what: 'the bad job to fail', timeoutMs: 20_000 }),
    ]);
    expect(done.error).toBeUndefined();
    expect(done.state).toBe('completed');
    expect(failed.state).toBe('failed');
    const metrics = async () => {
      const r = await fetch(`${base}/metrics?from=test`);
      return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
    };
    const scrape = await eventually(
      metrics,
      (m) => sample(m.text, 'agp_training_jobs_total{state="completed"}') === 1 && sample(m.text, 'agp_training_jobs_total{state="failed"}') === 1,
      { what: 'agp_training_jobs_total to count both jobs', timeoutMs: 20_000 },
    );

    // Prometheus text exposition, as prom-client serves it.
    expect(scrape.status).toBe(200);
    expect(scrape.type).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
    expect(scrape.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = scrape.text;
    expect(text).toContain('# TYPE agp_training_jobs_total counter');
    expect(sample(text, 'agp_training_jobs_total{state="cancelled"}')).toBe(0);
    // The worker's LLM client reports into the same registry: 26 ok calls of the training run.
    const llmOk = [...text.matchAll(/^agp_llm_calls_total\{role="[a-z]+",outcome="ok",model="double-model"\} (\d+)$/gm)]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
    expect(llmOk).toBe(26);
    expect(text).toContain('# TYPE agp_llm_request_duration_seconds histogram');
    // Node process metrics, so the dashboard's process panels work for workers too.
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    // No HTTP route metrics: the worker's server is not the API.
    expect(text).not.toMatch(/^agp_http_request_duration_seconds_count/m);

    if (HAS_PROMTOOL || IN_CI) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(check.error, 'promtool must be on PATH in CI (apt-get install -y prometheus)').toBeUndefined();
      expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
      expect(check.status).toBe(0);
    } else {
      console.warn('[worker-metrics] promtool not on PATH: skipping `promtool check metrics` locally');
    }

    // Anything else: 404 in the service's error shape, with the request id echoed.
    for (const [method, path] of [['GET', '/nope'], ['GET', '/'], ['POST', '/metrics'], ['GET', '/readyz'], ['GET', '/metrics/extra']] as const) {
      const r = await fetch(`${base}${path}`, { method });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await r.json()) as { error: { code: string; message: string; requestId: string } };
      expect(Object.keys(body)).toEqual(['error']);
      expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'requestId']);
      expect(body.error.code).toBe('NOT_FOUND');
      expect(body.error.message).toBe(`route ${method} ${path} not found`);
      expect(body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.error.requestId).toBe(r.headers.get('x-request-id'));
    }
    const tagged = await fetch(`${base}/nope`, { headers: { 'x-request-id': 'req-worker-metrics-1' } });
    expect(((await tagged.json()) as { error: { requestId: string } }).error.requestId).toBe('req-worker-metrics-1');

    // Still alive and serving while it runs.
    expect(settled).toBe(false);
    expect(await tryConnect(port)).toBe('connected');

    // Abort: the worker drains, and the server is gone once runWorker resolves.
    stop.abort();
    await running;
    expect(await tryConnect(port)).toBe('ECONNREFUSED');
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('fails the start when PORT is taken, before touching Redis', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const prefix = uniquePrefix('wm-busy');
      const clientsBefore = await redisClients();
      await expect(runWorker({ env: workerEnv(prefix, port), tuning: FAST })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      // No connection was opened for the doomed worker.
      expect(await redisClients()).toBe(clientsBefore);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

/** connected_clients of the private redis-server (one probe connection of its own, excluded). */
async function redisClients(): Promise<number> {
  const probe = createRedis(redis.url, { role: 'cache' });
  try {
    await whenReady(probe, 5_000);
    const info = await probe.info('clients');
    return Number(/connected_clients:(\d+)/.exec(info)?.[1] ?? NaN) - 1;
  } finally {
    await probe.quit();
  }
}
