/**
 * A training worker killed with SIGKILL mid-epoch, with REAL processes: a private redis-server (AOF on),
 * the API (`node --import tsx src/server.ts`, WORKER_ENABLED=false) and `agp worker` processes, all
 * talking to the LLM double in this process through the real openai SDK.
 *
 * The double answers as the synthetic world of the trainer tests (testkit/synthetic-world.ts), so
 * the run is deterministic and its uninterrupted LLM call count is known from a reference run of the
 * same trainer in-process. The job is submitted through the admin API; once its progress shows batch
 * ≥ 1 of epoch 1, the double stops answering (so the worker is provably inside an unfinished batch
 * with LLM calls in flight) and the worker is SIGKILLed. A new worker process takes the job over through
 * BullMQ's stalled-job check (TRAINING_LOCK_DURATION_MS / TRAINING_STALLED_INTERVAL_MS shortened), resumes
 * from the Redis checkpoint and completes it:
 *
 * - ONE new prompt version (GET /admin/v1/prompts?domain=…), the same prompt the reference run trains;
 * - after the restart the double sees exactly the calls an uninterrupted run makes after the checkpoint,
 *   starting with the interrupted batch's users; nothing of a completed batch is repeated; in total the
 *   double saw ≤ uninterrupted calls + the interrupted batch's calls.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingCheckpoint } from '../../src/agp/checkpoint.js';
import type { ChatMessage } from '../../src/agp/ports.js';
import { BUILTIN_ACTIVE_PROMPT } from '../../src/agp/prompts.js';
import { train } from '../../src/agp/trainer.js';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { createRedisCheckpointStore, createTrainingKeys } from '../../src/jobs/redis-checkpoint-store.js';
import type { JobView } from '../../src/jobs/training-jobs.js';
import { createRedis } from '../../src/store/redis-connection.js';
import type { RedisClient } from '../../src/store/redis-connection.js';
import { knownRole, startLlmDouble } from '../../testkit/llm-double.js';
import type { LlmDouble, RecordedCall } from '../../testkit/llm-double.js';
import { sendOne } from '../../testkit/load.js';
import { spawnNode, startServerProcess } from '../../testkit/processes.js';
import type { ManagedChild, ServerProcess } from '../../testkit/processes.js';
import { startRedisServer, uniquePrefix } from '../../testkit/redis-server.js';
import type { RedisServerHandle } from '../../testkit/redis-server.js';
import { createWorldLlm, keywordPolicy, makeUsers, worldAnswer } from '../../testkit/synthetic-world.js';
import { eventually, sleep } from '../../testkit/wait.js';

const TOKEN = 'crash-test-admin-token-0123456789';
const DOMAIN = 'crashworld';
const LATENCY_MS = 30;
/** The whole test, three process starts included, must finish within this. */
const BUDGET_MS = 90_000;

/** 12 users: 9 train (3 batches of 3), 3 validation; 2 epochs; verification on. */
const USERS = makeUsers(12, { decoy: true });
const PARAMS = { epochs: 2, batchSize: 3, verifySteps: 1, trainUsers: 9, valUsers: 3, seed: 7, concurrency: 8 };
const policy = keywordPolicy();
const answer = worldAnswer(policy);

/** The synthetic world answering over HTTP. */
const worldScript = (call: RecordedCall): string => answer({ role: knownRole(call), messages: call.messages as ChatMessage[] });

/** The user a profile request is about (history titles are `H <genre> tale <i>-<j>`). */
function profileUser(call: RecordedCall): string | undefined {
  if (knownRole(call) !== 'profile') return undefined;
  const m = / tale (\d+)-\d+/.exec(call.messages.at(-1)?.content ?? '');
  return m ? `u${m[1]}` : undefined;
}

/** An `agp worker` process. */
function startWorkerProcess(env: Record<string, string>): ManagedChild {
  return spawnNode('agp worker', { nodeFlags: ['--import', 'tsx'], args: ['src/cli/agp.ts', 'worker'], env: { ...process.env, NODE_ENV: 'production', ...env } });
}

let redis: RedisServerHandle;
let double: LlmDouble;
let api: ServerProcess | undefined;
let dataDir: string;
const workers: ManagedChild[] = [];
const conns: RedisClient[] = [];

beforeAll(async () => {
  [redis, double] = await Promise.all([startRedisServer({ persistence: true }), startLlmDouble({ latency: LATENCY_MS })]);
  dataDir = await mkdtemp(join(tmpdir(), 'agp-crash-data-'));
});

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.allSettled(workers.map((w) => w.exited));
  await api?.stop(5_000);
  await Promise.allSettled(conns.map((c) => c.quit()));
  await double?.close();
  await redis?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('training worker killed with SIGKILL mid-epoch (real processes)', () => {
  it('is taken over by a new worker, resumes from its checkpoint, repeats no completed batch and saves ONE version', { timeout: BUDGET_MS }, async () => {
    const t0 = Date.now();

    // Reference: the same run, uninterrupted, in-process against the same (scripted) world.
    const saved: TrainingCheckpoint[] = [];
    const reference = await train(
      { users: USERS, initialPrompt: BUILTIN_ACTIVE_PROMPT.text, params: { ...PARAMS, domain: DOMAIN }, pipeline: pipelineOptions(loadConfig({})) },
      { llm: createWorldLlm(policy), checkpoints: { load: async () => null, save: async (c) => void saved.push(structuredClone(c)) } },
    );
    const uninterrupted = reference.metrics.llmCalls;
    // The world makes epoch 1's first two batches real optimisation batches (summarise, edit, verify).
    expect(reference.state).toBe('completed');
    expect(reference.acceptedEdits.map((e) => [e.epoch, e.batch])).toEqual([[1, 0], [1, 1]]);
    const afterBatch1 = saved.find((c) => c.epoch === 1 && c.batch === 1);
    expect(afterBatch1).toBeDefined();

    const prefix = uniquePrefix('crash').replace(/[^A-Za-z0-9-]/g, '');
    const env: Record<string, string> = {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: prefix,
      ADMIN_TOKEN: TOKEN,
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-crash-test',
      LLM_MODEL: 'double-model',
      BREAKER_FAILURE_THRESHOLD: '1000',
      TRAINING_DATA_DIR: dataDir,
      TRAINING_CONCURRENCY: String(PARAMS.concurrency),
      // A dead worker's job is handed over after ≈ lock + 2 stalled checks instead of 30–60 s.
      TRAINING_LOCK_DURATION_MS: '3000',
      TRAINING_STALLED_INTERVAL_MS: '500',
      MAX_EVENT_LOOP_DELAY_MS: '0',
    };
    // An ephemeral port for each worker's /metrics server: test files run in parallel.
    const workerEnv = { ...env, LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' };

    // Freeze the double once the second batch of epoch 1 has begun: every later request hangs, so the
    // worker is stuck inside that batch with calls in flight when it is killed.
    const freezeAt = (afterBatch1?.counters.llmCalls ?? 0) + 1;
    let frozen = false;
    double.script((call) => {
      if (!frozen && double.calls.length >= freezeAt) {
        frozen = true;
        double.failNext(100_000, 'hang');
      }
      return worldScript(call);
    });

    // The API (no worker inside) and worker 1, started together.
    const w1 = startWorkerProcess(workerEnv);
    workers.push(w1);
    api = await startServerProcess({ env: { ...env, WORKER_ENABLED: 'false', LOG_LEVEL: 'warn' }, readyTimeoutMs: 45_000 });
    const origin = api.origin;
    const auth = { authorization: `Bearer ${TOKEN}` };

    const submit = await sendOne(origin, {
      path: '/admin/v1/training-jobs',
      headers: auth,
      body: { domain: DOMAIN, dataset: { users: USERS.map((u) => ({ ...u })) }, params: PARAMS, activate: 'never' },
    });
    expect(submit.status, JSON.stringify(submit.body)).toBe(202);
    const { jobId } = submit.body as { jobId: string };
    const view = async (): Promise<JobView> => {
      const s = await sendOne(origin, { path: `/admin/v1/training-jobs/${jobId}`, headers: auth });
      if (s.status !== 200) throw new Error(`GET job: ${s.status} ${JSON.stringify(s.body)}`);
      return s.body as JobView;
    };

    // Mid-epoch: progress says batch ≥ 1 of epoch 1, and the worker is waiting on LLM calls that never return.
    const mid = await eventually(view, (v) => v.state === 'running' && v.progress.epoch === 1 && v.progress.batch >= 1, { what: 'progress at batch ≥ 1 of epoch 1', timeoutMs: 45_000 });
    expect(mid.progress).toMatchObject({ epoch: 1, phase: 'batch', totalBatches: 3 });
    await eventually(() => frozen && double.calls.length > freezeAt, (ok) => ok, { what: 'the frozen batch to have calls in flight', timeoutMs: 10_000 });
    await sleep(200);

    const queueConn = createRedis(redis.url, { role: 'queue' });
    conns.push(queueConn);
    const keys = createTrainingKeys(prefix);
    const checkpoints = createRedisCheckpointStore({ redis: queueConn, keys, jobId });
    const atKill = await checkpoints.load();
    expect(atKill).toMatchObject({ epoch: 1, batch: 1 });
    const checkpointCalls = atKill?.counters.llmCalls ?? -1;
    expect(checkpointCalls).toBe(afterBatch1?.counters.llmCalls);

    w1.child.kill('SIGKILL');
    expect(await w1.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const beforeRestart = [...double.calls];
    const interruptedBatchCalls = beforeRestart.length - checkpointCalls;
    // The killed batch had started (calls beyond the checkpoint) and was far from done (a batch of 3 with
    // verification makes up to 3·2 + 2 + 3·2 = 14 calls).
    expect(interruptedBatchCalls).toBeGreaterThanOrEqual(1);
    expect(interruptedBatchCalls).toBeLessThan(14);
    expect(beforeRestart.slice(0, checkpointCalls).every((c) => c.mode === 'ok')).toBe(true);
    // It died with LLM calls in flight (requests the double was still holding).
    expect(beforeRestart.some((c) => c.mode === 'hang')).toBe(true);

    // The double answers again; a new worker process takes the job over.
    double.reset(); // clears the queued hangs and the recorded calls (kept in beforeRestart)
    double.script(worldScript);
    const killedAt = Date.now();
    const w2 = startWorkerProcess(workerEnv);
    workers.push(w2);

    const done = await eventually(view, (v) => ['completed', 'failed', 'cancelled'].includes(v.state), { what: 'the job to finish', timeoutMs: 60_000 });
    const takeoverMs = Date.now() - killedAt;
    expect(done.error, w2.output().slice(-2_000)).toBeUndefined();
    expect(done.state).toBe('completed');

    // Taken over by BullMQ's stalled-job check (not failed and retried).
    const queue = new Queue(keys.queueName, { connection: queueConn, prefix: keys.bullPrefix });
    try {
      const job = await queue.getJob(jobId);
      expect(job?.stalledCounter).toBe(1);
      expect(job?.attemptsMade ?? 0).toBeLessThanOrEqual(1);
      expect(job?.failedReason ?? '').toBe('');
    } finally {
      await queue.close();
    }

    // No completed batch was repeated: after the restart the double saw exactly what an uninterrupted run
    // makes after the checkpoint, starting with the users of the interrupted batch.
    const afterRestart = double.calls;
    expect(afterRestart.length).toBe(uninterrupted - checkpointCalls);
    const interruptedUsers = new Set(atKill?.epochOrder.slice(PARAMS.batchSize, 2 * PARAMS.batchSize));
    const firstProfiles = afterRestart.slice(0, PARAMS.batchSize).map(profileUser);
    expect(new Set(firstProfiles)).toEqual(interruptedUsers);
    const total = beforeRestart.length + afterRestart.length;
    expect(total).toBeLessThanOrEqual(uninterrupted + interruptedBatchCalls);
    // The job's own accounting resumes from the checkpoint's counters: it reports the uninterrupted count
    // (the interrupted batch's calls died with the worker and are not in it).
    expect(done.result?.metrics.llmCalls).toBe(uninterrupted);
    expect(done.progress.llmCalls).toBe(uninterrupted);

    // ONE new version, named after the job, holding the prompt the uninterrupted run selects.
    const listed = await sendOne(origin, { path: `/admin/v1/prompts?domain=${DOMAIN}`, headers: auth });
    expect(listed.status).toBe(200);
    const versions = (listed.body as { prompts: Array<{ version: string }> }).prompts.map((p) => p.version);
    expect(versions).toEqual([done.result?.promptVersion]);
    expect(versions[0]).toContain(jobId.replace(/-/g, '').slice(0, 12));
    const detail = await sendOne(origin, { path: `/admin/v1/prompts/${DOMAIN}/${versions[0] ?? ''}`, headers: auth });
    expect((detail.body as { text: string }).text).toBe(reference.prompt);
    // The checkpoint is gone once the job is final.
    expect(await checkpoints.load()).toBeNull();

    const elapsed = Date.now() - t0;
    console.log(
      `[worker-crash] uninterrupted ${uninterrupted} calls; checkpoint at ${checkpointCalls}; interrupted batch ${interruptedBatchCalls} calls; ` +
        `after restart ${afterRestart.length}; total ${total}; takeover+finish ${takeoverMs} ms; test ${elapsed} ms`,
    );
    expect(elapsed).toBeLessThan(BUDGET_MS);
    w2.child.kill('SIGTERM');
    expect((await w2.exited).code).toBe(0);
  });
});
