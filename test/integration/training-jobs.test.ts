/**
 * Training jobs on BullMQ against a private redis-server, with the real openai SDK talking to the LLM
 * double: lifecycle and progress, cancellation, one job per domain, a worker crash resumed from the
 * Redis checkpoint, graceful hand-back, and the `agp worker` entry point.
 */
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LlmClient } from '../../src/agp/ports.js';
import { BUILTIN_ACTIVE_PROMPT } from '../../src/agp/prompts.js';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { createLlmFromConfig } from '../../src/runtime/llm.js';
import type { OpenAiLlmClient } from '../../src/llm/openai-llm-client.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { Metrics } from '../../src/observability/metrics.js';
import { createPromptRegistry } from '../../src/store/prompt-registry.js';
import type { ManagedPromptRegistry } from '../../src/store/prompt-registry.js';
import { createRedis, whenReady } from '../../src/store/redis-connection.js';
import type { RedisClient } from '../../src/store/redis-connection.js';
import { createRedisPromptStorage } from '../../src/store/redis-prompt-storage.js';
import type { BullmqTrainingJobs } from '../../src/jobs/bullmq-training-jobs.js';
import { createBullmqTrainingJobs } from '../../src/jobs/bullmq-training-jobs.js';
import type { TrainingWorker, TrainingWorkerTuning } from '../../src/jobs/bullmq-training-worker.js';
import { startTrainingWorker } from '../../src/jobs/bullmq-training-worker.js';
import { createRedisCheckpointStore, createTrainingKeys } from '../../src/jobs/redis-checkpoint-store.js';
import type { TrainingRunDeps } from '../../src/jobs/run-training-job.js';
import { runWorker } from '../../src/worker.js';
import type { JobView } from '../../src/jobs/training-jobs.js';
import { buildTestApp } from '../support/build-test-app.js';
import { startLlmDouble } from '../../testkit/llm-double.js';
import type { LlmDouble } from '../../testkit/llm-double.js';
import { TRAINED_PROMPT, dragonUsers as makeUsers, trainingScript } from '../support/training-script.js';
import { startRedisServer, uniquePrefix } from '../../testkit/redis-server.js';
import type { RedisServerHandle } from '../../testkit/redis-server.js';
import { eventually, sleep } from '../../testkit/wait.js';

/**
 * 8 training users in 4 batches of 2, 2 validation users, 1 epoch, no verification. LLM calls:
 * initial validation 4; batch 1: 4 + summarise + edit = 6; batches 2–4 (already first): 4 each;
 * final validation 4. Total 26; the checkpoint after batch 2 holds 14.
 */
const PARAMS = { epochs: 1, batchSize: 2, valUsers: 2, verifySteps: 0, patience: 0, concurrency: 2 };
const TOTAL_CALLS = 26;
const request = (domain: string, over: Record<string, unknown> = {}) => ({
  domain,
  dataset: { users: makeUsers(10) },
  params: PARAMS,
  activate: 'if-better' as const,
  ...over,
});

const FAST: TrainingWorkerTuning = { pollMs: 50, busyDelayMs: 100, lockDurationMs: 1_000, stalledIntervalMs: 250, concurrency: 3 };

let server: RedisServerHandle;
let double: LlmDouble;
let dataDir: string;
let llm: OpenAiLlmClient;
let llmEnv: Record<string, string>;

/** Everything one test needs, on its own key prefix. */
interface Env {
  prefix: string;
  jobs: BullmqTrainingJobs;
  registry: ManagedPromptRegistry;
  metrics: Metrics;
  run: TrainingRunDeps;
  redis: RedisClient;
  startWorker(over?: Partial<TrainingWorkerTuning> & { llm?: LlmClient }): TrainingWorker;
}
const cleanups: Array<() => Promise<unknown>> = [];

async function setup(): Promise<Env> {
  const prefix = uniquePrefix('tj');
  const cache = createRedis(server.url, { role: 'cache' });
  const redis = createRedis(server.url, { role: 'queue' });
  cleanups.push(() => Promise.allSettled([cache.quit(), redis.quit()]));
  expect(await whenReady(cache, 5_000)).toBe(true);
  const registry = createPromptRegistry({
    storage: createRedisPromptStorage({ redis: cache, keyPrefix: prefix }),
    builtin: BUILTIN_ACTIVE_PROMPT,
    refreshMs: 100,
  });
  await registry.start();
  cleanups.push(() => registry.close());
  const config = loadConfig({ ...llmEnv, LOG_LEVEL: 'silent' });
  const run: TrainingRunDeps = { llm, registry, pipeline: pipelineOptions(config), dataDir, defaultConcurrency: 2 };
  const jobs = createBullmqTrainingJobs({ ...run, connection: redis, keyPrefix: prefix, jobOptions: { backoff: { type: 'fixed', delay: 100 } } });
  cleanups.push(() => jobs.close());
  const metrics = createMetrics({ defaultMetrics: false });
  return {
    prefix,
    jobs,
    registry,
    metrics,
    run,
    redis,
    startWorker(over = {}) {
      const conn = createRedis(server.url, { role: 'queue' });
      const w = startTrainingWorker({ ...run, ...FAST, ...over, llm: over.llm ?? llm, connection: conn, keyPrefix: prefix, metrics });
      cleanups.push(async () => {
        await w.close({ force: true });
        await conn.quit();
      });
      return w;
    },
  };
}

const finalStates = new Set(['completed', 'failed', 'cancelled']);
const waitState = (env: Env, id: string, ok: (v: JobView) => boolean, timeoutMs?: number) =>
  eventually(async () => (await env.jobs.get(id)) as JobView, (v) => v !== null && ok(v), { timeoutMs: timeoutMs ?? 15_000 });
const counter = async (m: Metrics, state: string) =>
  (await m.trainingJobs.get()).values.find((v) => v.labels.state === state)?.value ?? 0;

beforeAll(async () => {
  [server, double] = await Promise.all([startRedisServer(), startLlmDouble()]);
  dataDir = await mkdtemp(join(tmpdir(), 'agp-jobs-data-'));
  llmEnv = { LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-test', LLM_MODEL: 'test-model', BREAKER_FAILURE_THRESHOLD: '1000' };
  llm = createLlmFromConfig(loadConfig({ ...llmEnv, LOG_LEVEL: 'silent' }));
});

afterAll(async () => {
  await llm?.close();
  await double?.close();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  double.reset();
  double.script(trainingScript);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe('BullMQ training jobs', () => {
  it('queued → running (with progress) → completed; the version is saved and activated', async () => {
    const env = await setup();
    const { jobId } = await env.jobs.submit(request('fantasy'));
    const queued = await env.jobs.get(jobId);
    expect(queued).toMatchObject({ jobId, domain: 'fantasy', state: 'queued', progress: { llmCalls: 0 } });
    expect(queued?.startedAt).toBeUndefined();

    double.setLatency(15);
    env.startWorker();
    const running = await waitState(env, jobId, (v) => v.state === 'running' && v.progress.llmCalls > 0);
    expect(running.startedAt).toBeDefined();
    expect(running.progress).toMatchObject({ totalBatches: 4 });
    expect(running.progress.tokens).toBeGreaterThan(0);
    expect(running.progress).toHaveProperty('etaSeconds');

    const done = await waitState(env, jobId, (v) => finalStates.has(v.state));
    expect(done.error).toBeUndefined();
    expect(done.state).toBe('completed');
    expect(done.result?.activated).toBe(true);
    const name = done.result?.promptVersion ?? '';
    expect(name).toMatch(new RegExp(`^fantasy-\\d{8}-\\d{6}-${jobId.replace(/-/g, '').slice(0, 12)}$`));
    expect(done.result?.metrics.llmCalls).toBe(TOTAL_CALLS);
    expect(double.calls).toHaveLength(TOTAL_CALLS);
    expect(done.progress.llmCalls).toBe(TOTAL_CALLS);
    expect(Date.parse(done.finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(done.startedAt ?? ''));

    const version = await env.registry.get('fantasy', name);
    expect(version).toMatchObject({ text: TRAINED_PROMPT, parentVersion: 'builtin-v0', historyLength: 5 });
    expect(version?.metrics?.bestValNdcg).toBeGreaterThan(version?.metrics?.initialValNdcg as number);
    await eventually(() => env.registry.resolve('fantasy').version, (v) => v === name, { timeoutMs: 15_000 });

    expect((await env.jobs.list()).map((j) => [j.jobId, j.state])).toEqual([[jobId, 'completed']]);
    expect(await counter(env.metrics, 'completed')).toBe(1);
    expect(await env.jobs.cancel(jobId)).toBe(false);
    // The checkpoint is gone once the job is final.
    const keys = createTrainingKeys(env.prefix);
    expect(await env.redis.exists(keys.checkpoint(jobId))).toBe(0);
  });

  it('cancels a queued job at once and a running one between batches (cancelled, not failed)', async () => {
    const env = await setup();
    double.setLatency(30);
    env.startWorker();
    const a = (await env.jobs.submit(request('slow', { activate: 'never' }))).jobId;
    const b = (await env.jobs.submit(request('slow', { activate: 'never' }))).jobId;
    await waitState(env, a, (v) => v.state === 'running' && v.progress.llmCalls > 0);
    await sleep(200);
    expect((await env.jobs.get(b))?.state).toBe('queued');

    expect(await env.jobs.cancel(b)).toBe(true);
    expect((await env.jobs.get(b))?.state).toBe('cancelled');
    expect(await env.jobs.cancel(b)).toBe(false);

    expect(await env.jobs.cancel(a)).toBe(true);
    const stopped = await waitState(env, a, (v) => v.state !== 'running');
    expect(stopped.state).toBe('cancelled');
    expect(stopped.result).toBeUndefined();
    expect(stopped.finishedAt).toBeDefined();
    expect(stopped.progress.llmCalls).toBeLessThan(TOTAL_CALLS);
    expect(await env.jobs.cancel(a)).toBe(false);

    // Both reach a final BullMQ state and are counted; neither produced a version.
    await eventually(() => counter(env.metrics, 'cancelled'), (n) => n === 2, { timeoutMs: 15_000 });
    expect(await counter(env.metrics, 'failed')).toBe(0);
    const states = await Promise.all([a, b].map(async (id) => (await env.jobs.queue.getJob(id))?.getState()));
    expect(states).toEqual(['completed', 'completed']);
    expect((await env.jobs.list()).map((j) => j.state)).toEqual(['cancelled', 'cancelled']);
    expect((await env.registry.list('slow')).length).toBe(0);
  });

  it('runs one job per domain at a time (other domains run alongside)', async () => {
    const env = await setup();
    double.setLatency(5);
    env.startWorker({ concurrency: 3 });
    const ids = [
      (await env.jobs.submit(request('d1', { activate: 'never' }))).jobId,
      (await env.jobs.submit(request('d1', { activate: 'never' }))).jobId,
      (await env.jobs.submit(request('d2', { activate: 'never' }))).jobId,
    ];
    const views = await Promise.all(ids.map((id) => waitState(env, id, (v) => finalStates.has(v.state), 30_000)));
    expect(views.map((v) => v.state)).toEqual(['completed', 'completed', 'completed']);
    const span = (v: JobView) => [Date.parse(v.startedAt ?? ''), Date.parse(v.finishedAt ?? '')] as const;
    const [a, b, c] = views.map(span) as Array<readonly [number, number]>;
    if (!a || !b || !c) throw new Error('missing views');
    // The two d1 jobs never overlap: one finished before the other started.
    expect(a[1] <= b[0] || b[1] <= a[0]).toBe(true);
    // The d2 job overlapped with a d1 job.
    const overlaps = (x: readonly [number, number], y: readonly [number, number]) => x[0] < y[1] && y[0] < x[1];
    expect(overlaps(c, a) || overlaps(c, b)).toBe(true);
    // Two versions for d1 (one per job), one for d2.
    expect((await env.registry.list('d1')).length).toBe(2);
    expect((await env.registry.list('d2')).length).toBe(1);
  });

  it('a worker killed mid-epoch is resumed from its checkpoint without repeating completed batches', async () => {
    const env = await setup();
    // Worker 1 "dies" on its 16th call: the 2nd user of batch 3. Calls from then on never return.
    let passed = 0;
    let onFrozen: () => void = () => undefined;
    const frozen = new Promise<void>((r) => (onFrozen = r));
    const dying: LlmClient = {
      configured: true,
      complete(req) {
        if (passed >= 15) {
          onFrozen();
          return new Promise(() => undefined);
        }
        passed += 1;
        return llm.complete(req);
      },
    };
    const w1 = env.startWorker({ llm: dying, concurrency: 1 });
    const { jobId } = await env.jobs.submit(request('crash'));
    await frozen;
    await eventually(() => double.calls.length, (n) => n === 15, { timeoutMs: 15_000 });
    const checkpoint = await createRedisCheckpointStore({ redis: env.redis, keys: createTrainingKeys(env.prefix), jobId }).load();
    expect(checkpoint).toMatchObject({ epoch: 1, batch: 2 });
    const atCheckpoint = checkpoint?.counters.llmCalls ?? -1;
    expect(atCheckpoint).toBe(14);
    expect((await env.jobs.get(jobId))?.state).toBe('running');

    await w1.close({ force: true }); // the process is gone: no more lock renewals
    const before = double.calls.length;
    env.startWorker();
    const done = await waitState(env, jobId, (v) => finalStates.has(v.state), 20_000);
    expect(done.error).toBeUndefined();
    expect(done.state).toBe('completed');
    // BullMQ's stalled-job check handed it over (not a failure + retry).
    const job = await env.jobs.queue.getJob(jobId);
    expect(job?.stalledCounter).toBe(1);
    expect(job?.failedReason ?? "").toBe("");

    // The resumed run counts exactly what an uninterrupted run makes; the new worker made only the
    // calls after the checkpoint; the one call of the interrupted batch is the only one wasted.
    expect(done.result?.metrics.llmCalls).toBe(TOTAL_CALLS);
    expect(double.calls.length - before).toBe(TOTAL_CALLS - atCheckpoint);
    expect(before - atCheckpoint).toBe(1);

    // Exactly one new version, named after the job, and it carries the trained prompt.
    const versions = (await env.registry.list('crash')).map((v) => v.version);
    expect(versions).toEqual([done.result?.promptVersion]);
    expect((await env.registry.get('crash', versions[0] ?? ''))?.text).toBe(TRAINED_PROMPT);
    expect(await counter(env.metrics, 'completed')).toBe(1);
  });

  it('a graceful worker shutdown hands the running job back; another worker resumes it', async () => {
    const env = await setup();
    double.setLatency(20);
    const w1 = env.startWorker();
    const { jobId } = await env.jobs.submit(request('handback', { activate: 'never' }));
    await waitState(env, jobId, (v) => v.state === 'running' && v.progress.batch >= 1);
    await w1.close();
    const parked = await env.jobs.get(jobId);
    expect(parked?.state).toBe('queued');
    const calls = double.calls.length;
    expect(calls).toBeLessThan(TOTAL_CALLS);

    const checkpoint = await createRedisCheckpointStore({ redis: env.redis, keys: createTrainingKeys(env.prefix), jobId }).load();
    expect(checkpoint?.batch).toBeGreaterThanOrEqual(1);
    const counted = checkpoint?.counters.llmCalls ?? -1;

    double.setLatency(0);
    env.startWorker();
    const done = await waitState(env, jobId, (v) => finalStates.has(v.state));
    expect(done.state).toBe('completed');
    // Every call is counted once; the new worker continued from the checkpoint (only the batch that was
    // interrupted is redone, so at most one batch's calls are spent twice).
    const llmCalls = done.result?.metrics.llmCalls as number;
    expect(llmCalls).toBe(counted + (double.calls.length - calls));
    expect(double.calls.length).toBeLessThanOrEqual(llmCalls);
    expect(llmCalls).toBeGreaterThanOrEqual(TOTAL_CALLS);
    expect(llmCalls - TOTAL_CALLS).toBeLessThanOrEqual(6);
    expect((await env.registry.get('handback', done.result?.promptVersion ?? ''))?.text).toBe(TRAINED_PROMPT);
    expect((await env.registry.list('handback')).length).toBe(1);
  });

  it('fails a job for good on a permanent error (the data file vanished) and counts it', async () => {
    const env = await setup();
    await writeFile(join(dataDir, 'gone.jsonl'), makeUsers(10).map((u) => JSON.stringify(u)).join('\n'));
    const { jobId } = await env.jobs.submit(request('gone', { dataset: { path: 'gone.jsonl' } }));
    await unlink(join(dataDir, 'gone.jsonl'));
    env.startWorker();
    const done = await waitState(env, jobId, (v) => finalStates.has(v.state));
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(/not found/);
    await eventually(() => counter(env.metrics, 'failed'), (n) => n === 1, { timeoutMs: 15_000 });
    expect((await env.jobs.queue.getJob(jobId))?.attemptsMade).toBe(1);
  });

  it('a caller-chosen jobId queues one job: submitting it again returns it, even once its dataset is gone', async () => {
    const env = await setup();
    await writeFile(join(dataDir, 'once.jsonl'), makeUsers(10).map((u) => JSON.stringify(u)).join('\n'));
    const first = await env.jobs.submit(request('once', { dataset: { path: 'once.jsonl' }, jobId: 'loop-run-1' }));
    expect(first).toEqual({ jobId: 'loop-run-1' });
    await unlink(join(dataDir, 'once.jsonl'));
    expect(await env.jobs.submit(request('once', { dataset: { path: 'once.jsonl' }, jobId: 'loop-run-1' }))).toEqual({ jobId: 'loop-run-1' });
    expect((await env.jobs.list()).map((j) => j.jobId)).toEqual(['loop-run-1']);
    await expect(env.jobs.submit(request('once', { jobId: 'a:b' }))).rejects.toThrow(/invalid training job id/);
  });
});

describe('inline training users after the run', () => {
  it('are in the queued payload while needed and gone from the stored job once it finishes', async () => {
    const env = await setup();
    const users = makeUsers(10);
    const { jobId } = await env.jobs.submit(request('forget', { activate: 'never', dataset: { users: users.slice(0, 8) }, validation: { users: users.slice(8) } }));
    const stored = async () => (await env.jobs.queue.getJob(jobId))?.data;
    expect((await stored())?.dataset).toEqual({ users: users.slice(0, 8) });
    env.startWorker();
    expect((await waitState(env, jobId, (v) => finalStates.has(v.state))).state).toBe('completed');
    const after = await eventually(stored, (d) => d !== undefined && 'users' in d.dataset && d.dataset.users.length === 0);
    expect(after).toMatchObject({ domain: 'forget', dataset: { users: [] }, validation: { users: [] } });
    // Nothing else in the job's Redis hash still carries a user id.
    const keys = createTrainingKeys(env.prefix);
    const hash = await env.redis.hgetall(`${keys.bullPrefix}:${keys.queueName}:${jobId}`);
    expect(JSON.stringify(hash)).not.toContain((users[0] as { userId: string }).userId);
  });
});

describe('through the container (QUEUE_REDIS_URL, worker in the API process)', () => {
  it('admin API → BullMQ → in-process worker → completed', async () => {
    const prefix = uniquePrefix('tjapp');
    const token = 'admin-token-0123456789abcdef';
    const app = await buildTestApp({
      env: { ...llmEnv, ADMIN_TOKEN: token, QUEUE_REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix, TRAINING_DATA_DIR: dataDir },
    });
    cleanups.push(() => app.close());
    const headers = { authorization: `Bearer ${token}` };
    const submit = await app.app.inject({ method: 'POST', url: '/admin/v1/training-jobs', headers, payload: request('app') });
    expect(submit.statusCode).toBe(202);
    const { jobId } = submit.json() as { jobId: string };
    const get = async () => (await app.app.inject({ method: 'GET', url: `/admin/v1/training-jobs/${jobId}`, headers })).json() as JobView;
    const done = await eventually(get, (v) => finalStates.has(v.state), { timeoutMs: 15_000 });
    expect(done.state).toBe('completed');
    expect(done.result?.activated).toBe(true);
    const version = await app.app.inject({ method: 'GET', url: `/admin/v1/prompts/app/${done.result?.promptVersion ?? ''}`, headers });
    expect(version.json()).toMatchObject({ active: true, text: TRAINED_PROMPT });
    const listed = (await app.app.inject({ method: 'GET', url: '/admin/v1/training-jobs', headers })).json() as { jobs: JobView[] };
    expect(listed.jobs.map((j) => j.jobId)).toEqual([jobId]);
    const traversal = await app.app.inject({ method: 'POST', url: '/admin/v1/training-jobs', headers, payload: request('app', { dataset: { path: '../../etc/passwd' } }) });
    expect(traversal.statusCode).toBe(400);
    expect(await app.container.metrics.registry.getSingleMetricAsString('agp_training_jobs_total')).toMatch(/state="completed"\} 1/);
  });
});

describe('agp worker (runWorker)', () => {
  it('processes queued jobs and stops on its signal', async () => {
    const env = await setup();
    const { jobId } = await env.jobs.submit(request('cli', { activate: 'never' }));
    const stop = new AbortController();
    const running = runWorker({
      env: {
        ...llmEnv,
        LOG_LEVEL: 'silent',
        REDIS_URL: server.url,
        REDIS_KEY_PREFIX: env.prefix,
        TRAINING_DATA_DIR: dataDir,
        TRAINING_CONCURRENCY: '2',
        // An ephemeral port for the worker's /metrics server: test files run in parallel.
        PORT: '0',
        HOST: '127.0.0.1',
      },
      signal: stop.signal,
      tuning: FAST,
    });
    const done = await waitState(env, jobId, (v) => finalStates.has(v.state));
    expect(done.state).toBe('completed');
    expect(await env.registry.get('cli', done.result?.promptVersion ?? '')).not.toBeNull();
    stop.abort();
    await running;
  });

  it('refuses to start without a queue Redis', async () => {
    await expect(runWorker({ env: { ...llmEnv, LOG_LEVEL: 'silent' } })).rejects.toThrow(/QUEUE_REDIS_URL/);
  });
});

