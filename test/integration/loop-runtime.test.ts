/**
 * The loop wired in the roles, on a private redis-server: the API (no worker here) stores a schedule in
 * Redis and creates its BullMQ job scheduler; a manual run queued through the admin API is run by
 * `agp worker`'s loop worker, and a window without exposures ends it "no data", visible in the API's runs
 * and audit trail. An API with WORKER_ENABLED runs the loop itself.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loopQueueNames, schedulerIdOf } from '../../src/jobs/bullmq-loop-queue.js';
import type { AuditRecord, LoopRun } from '../../src/loop/ports.js';
import { createRedis } from '../../src/store/redis-connection.js';
import { runWorker } from '../../src/worker.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';
import { eventually } from '../../testkit/wait.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';

const TOKEN = 'loop-admin-token-0123456789abcdef';
const headers = { authorization: `Bearer ${TOKEN}` };
const FAST = { lockDurationMs: 1_000, stalledIntervalMs: 250 };

let server: RedisServerHandle;
let double: LlmDouble;
let dataDir: string;
let llmEnv: Record<string, string>;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  [server, double] = await Promise.all([startRedisServer(), startLlmDouble()]);
  dataDir = await mkdtemp(join(tmpdir(), 'agp-loop-runtime-'));
  llmEnv = { LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-test', LLM_MODEL: 'test-model' };
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(async () => {
  await double?.close();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function api(prefix: string, env: Record<string, string> = {}): Promise<TestApp> {
  const app = await buildTestApp({
    env: { ...llmEnv, ADMIN_TOKEN: TOKEN, REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix, TRAINING_DATA_DIR: dataDir, LOOP_POLL_MS: '100', ...env },
    workerTuning: FAST,
  });
  cleanups.push(() => app.close());
  return app;
}

const runsOf = async (app: TestApp, domain: string) =>
  ((await app.app.inject({ method: 'GET', url: `/admin/v1/schedules/${domain}/runs`, headers })).json() as { runs: LoopRun[] }).runs;

describe('the loop in the roles', () => {
  it('API without a worker: the schedule and its job scheduler; `agp worker` runs the manual run to "no data"', async () => {
    const prefix = uniquePrefix('loopapi');
    const app = await api(prefix, { WORKER_ENABLED: 'false' });
    const put = await app.app.inject({ method: 'PUT', url: '/admin/v1/schedules/books', headers, payload: { every: '1h', window: '1h' } });
    expect(put.statusCode).toBe(201);
    const next = Date.parse((put.json() as { nextRunAt: string }).nextRunAt);
    expect(next).toBeGreaterThan(Date.now() + 3_500_000);
    // The scheduler lives in the queue Redis, where a worker of any replica sees it.
    const names = loopQueueNames(prefix);
    const connection = createRedis(server.url, { role: 'queue' });
    const queue = new Queue(names.queueName, { connection, prefix: names.bullPrefix });
    cleanups.push(async () => {
      await queue.close();
      await connection.quit();
    });
    expect((await queue.getJobScheduler(schedulerIdOf('books')))?.every).toBe(3_600_000);

    const run = await app.app.inject({ method: 'POST', url: '/admin/v1/schedules/books/run', headers });
    expect(run.statusCode).toBe(202);
    const { runId } = run.json() as { runId: string };

    const stop = new AbortController();
    const worker = runWorker({
      env: { ...llmEnv, LOG_LEVEL: 'silent', REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix, TRAINING_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' },
      signal: stop.signal,
      tuning: FAST,
    });
    cleanups.push(async () => {
      stop.abort();
      await worker;
    });
    const runs = await eventually(() => runsOf(app, 'books'), (r) => r[0]?.step === 'done', { what: 'the run to end', timeoutMs: 20_000 });
    expect(runs[0]).toMatchObject({ runId, trigger: 'manual', outcome: 'no_data', reason: 'no exposure with a positive event in the last 1h' });
    const audit = (await app.app.inject({ method: 'GET', url: `/admin/v1/audit?domain=books&runId=${runId}`, headers })).json() as { records: AuditRecord[] };
    expect(audit.records.map((r) => r.kind)).toContain('run_ended');
    expect(audit.records.find((r) => r.kind === 'run_ended')).toMatchObject({ actor: 'loop', data: { outcome: 'no_data', rows: 0 } });
  });

  it('API with WORKER_ENABLED runs the loop itself and counts the run in its metrics', async () => {
    const prefix = uniquePrefix('loopself');
    const app = await api(prefix, { WORKER_ENABLED: 'true' });
    expect((await app.app.inject({ method: 'PUT', url: '/admin/v1/schedules/films', headers, payload: { every: '1h', window: '1h' } })).statusCode).toBe(201);
    expect((await app.app.inject({ method: 'POST', url: '/admin/v1/schedules/films/run', headers })).statusCode).toBe(202);
    const runs = await eventually(() => runsOf(app, 'films'), (r) => r[0]?.step === 'done', { what: 'the run to end', timeoutMs: 20_000 });
    expect(runs[0]?.outcome).toBe('no_data');
    expect(await app.container.metrics.registry.getSingleMetricAsString('agp_loop_runs_total')).toMatch(/outcome="no_data"\} 1/);
  });
});
