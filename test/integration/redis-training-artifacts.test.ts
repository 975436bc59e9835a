/**
 * Training job artifacts in Redis (a private redis-server): the trace's size bound, the TTLs (a failed
 * job's retention while running, a finished job's once the report is written), and a BullMQ job trained
 * against the LLM double whose report and trace the producer side can read back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_ACTIVE_PROMPT } from '../../src/agp/prompts.js';
import { parseTrace } from '../../src/agp/trace.js';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { createBullmqTrainingJobs } from '../../src/jobs/bullmq-training-jobs.js';
import { startTrainingWorker } from '../../src/jobs/bullmq-training-worker.js';
import { TRAINING_JOB_KEEP_SECONDS, createTrainingKeys } from '../../src/jobs/redis-checkpoint-store.js';
import { createRedisTrainingArtifacts } from '../../src/jobs/redis-training-artifacts.js';
import { MAX_TRACE_BYTES } from '../../src/jobs/training-artifacts.js';
import { createLlmFromConfig } from '../../src/runtime/llm.js';
import { createPromptRegistry } from '../../src/store/prompt-registry.js';
import { createRedis, whenReady } from '../../src/store/redis-connection.js';
import type { RedisClient } from '../../src/store/redis-connection.js';
import { createRedisPromptStorage } from '../../src/store/redis-prompt-storage.js';
import { startLlmDouble } from '../../testkit/llm-double.js';
import type { LlmDouble } from '../../testkit/llm-double.js';
import { startRedisServer, uniquePrefix } from '../../testkit/redis-server.js';
import type { RedisServerHandle } from '../../testkit/redis-server.js';
import { tasteWorldUsers } from '../../testkit/taste-world.js';

let server: RedisServerHandle;
let double: LlmDouble;
let redis: RedisClient;

beforeAll(async () => {
  [server, double] = await Promise.all([startRedisServer(), startLlmDouble()]);
  redis = createRedis(server.url, { role: 'queue' });
  expect(await whenReady(redis, 5_000)).toBe(true);
});

afterAll(async () => {
  await redis?.quit();
  await double?.close();
  await server?.stop();
});

describe('Redis training artifacts', () => {
  it('stops the trace at its bound and marks it truncated', async () => {
    const store = createRedisTrainingArtifacts(redis, createTrainingKeys(uniquePrefix('art')));
    const mib = `${'x'.repeat(1024 * 1024 - 1)}\n`;
    for (let i = 0; i < MAX_TRACE_BYTES / mib.length; i++) await store.appendTrace('j1', mib);
    expect(await store.trace('j1')).toMatchObject({ truncated: false });
    await store.appendTrace('j1', '{"seq":1}\n');
    const t = await store.trace('j1');
    expect(t?.truncated).toBe(true);
    expect(t?.jsonl.length).toBe(MAX_TRACE_BYTES);
    await store.delete('j1');
    expect(await store.trace('j1')).toBeNull();
  });

  it('keeps a running trace as long as a failed job, and both artifacts as long as a finished job once reported', async () => {
    const keys = createTrainingKeys(uniquePrefix('art'));
    const store = createRedisTrainingArtifacts(redis, keys);
    await store.appendTrace('j2', '{"seq":0}\n');
    const trace = `${keys.artifacts('j2')}:trace`;
    expect(await redis.ttl(trace)).toBeGreaterThan(3 * TRAINING_JOB_KEEP_SECONDS);
    expect(await store.report('j2')).toBeNull();
    await store.saveReport('j2', { markdown: '# r', svg: '<svg/>' });
    expect(await store.report('j2')).toEqual({ markdown: '# r', svg: '<svg/>' });
    for (const key of [trace, `${keys.artifacts('j2')}:report`]) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(TRAINING_JOB_KEEP_SECONDS - 60);
      expect(ttl).toBeLessThanOrEqual(TRAINING_JOB_KEEP_SECONDS);
    }
  });

  it('a BullMQ job writes its report and trace; the producer reads them back', async () => {
    const prefix = uniquePrefix('artjob');
    const env = { LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-test', LLM_MODEL: 'test-model', LOG_LEVEL: 'silent' };
    const config = loadConfig(env);
    const llm = createLlmFromConfig(config, { use: 'training' });
    const registry = createPromptRegistry({ storage: createRedisPromptStorage({ redis, keyPrefix: prefix }), builtin: BUILTIN_ACTIVE_PROMPT, refreshMs: 100 });
    await registry.start();
    const run = { llm, registry, pipeline: pipelineOptions(config), dataDir: '.', defaultConcurrency: 4 };
    const jobs = createBullmqTrainingJobs({ ...run, connection: redis, keyPrefix: prefix });
    const conn = createRedis(server.url, { role: 'queue' });
    const worker = startTrainingWorker({ ...run, connection: conn, keyPrefix: prefix, pollMs: 50, lockDurationMs: 2_000 });
    try {
      const { jobId } = await jobs.submit({
        domain: 'taste',
        dataset: { users: tasteWorldUsers(10, { seed: 5 }) },
        validation: { users: tasteWorldUsers(6, { seed: 5, offset: 500 }) },
        params: { epochs: 1, batchSize: 5, patience: 0 },
        activate: 'never',
      });
      const until = Date.now() + 30_000;
      let view = await jobs.get(jobId);
      while (view?.state !== 'completed' && view?.state !== 'failed' && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
        view = await jobs.get(jobId);
      }
      expect(view?.state).toBe('completed');
      const report = await jobs.report(jobId);
      expect(report?.markdown).toContain(`\`${view?.result?.promptVersion}\``);
      expect(report?.svg).toMatch(/^<svg /);
      const trace = await jobs.trace(jobId);
      const entries = parseTrace(trace?.jsonl ?? '');
      expect(entries).toHaveLength(view?.result?.metrics.llmCalls as number);
      expect(trace?.truncated).toBe(false);
      expect(await jobs.report('no-such-job')).toBeNull();
      expect(await jobs.trace('no-such-job')).toBeNull();
    } finally {
      await worker.close({ force: true });
      await conn.quit();
      await jobs.close();
      await registry.close();
      await llm.close();
    }
  }, 60_000);
});
