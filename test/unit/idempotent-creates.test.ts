/**
 * The creates the loop repeats after a crash are idempotent by a caller-chosen name: an in-process training
 * job by `jobId` (the BullMQ engine: test/integration/training-jobs.test.ts), an experiment by `id`.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_ACTIVE_PROMPT } from '../../src/agp/prompts.js';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { ConflictError } from '../../src/errors.js';
import { createExperimentAdmin } from '../../src/experiments/experiment-admin.js';
import { createInProcessTrainingJobs } from '../../src/jobs/in-process-training-jobs.js';
import { checkJobId } from '../../src/jobs/training-jobs.js';
import { createMemoryExperimentStore } from '../../src/store/memory-experiment-store.js';
import { createMemoryExposureStore } from '../../src/store/memory-exposure-store.js';
import { createMemoryPromptStorage } from '../../src/store/memory-prompt-storage.js';
import { createPromptRegistry } from '../../src/store/prompt-registry.js';
import { createWorldLlm, keywordPolicy, makeUsers } from '../../testkit/synthetic-world.js';

const PARAMS = { epochs: 1, batchSize: 2, valUsers: 2, verifySteps: 0, patience: 0, concurrency: 2 };

describe('in-process training jobs: a given jobId', () => {
  it('queues one job; submitting the id again returns it', async () => {
    const registry = createPromptRegistry({ storage: createMemoryPromptStorage(), builtin: BUILTIN_ACTIVE_PROMPT, refreshMs: 60_000 });
    await registry.start();
    const jobs = createInProcessTrainingJobs({ llm: createWorldLlm(keywordPolicy()), registry, pipeline: pipelineOptions(loadConfig({ LOG_LEVEL: 'silent' })), dataDir: '.', defaultConcurrency: 2 });
    try {
      const req = { domain: 'books', dataset: { users: makeUsers(10) }, params: PARAMS, activate: 'never' as const, jobId: 'loop-r1' };
      const [a, b] = await Promise.all([jobs.submit(req), jobs.submit(req)]);
      expect(a).toEqual({ jobId: 'loop-r1' });
      expect(b).toEqual({ jobId: 'loop-r1' });
      expect(await jobs.submit(req)).toEqual({ jobId: 'loop-r1' });
      expect((await jobs.list()).map((j) => j.jobId)).toEqual(['loop-r1']);
      // Without an id, a fresh random one.
      const { jobId } = await jobs.submit({ ...req, jobId: undefined });
      expect(jobId).not.toBe('loop-r1');
    } finally {
      await jobs.close();
      await registry.close();
    }
  });

  it('checkJobId refuses what BullMQ refuses (":", all digits) and odd characters', () => {
    expect(checkJobId('loop-20261204T173000-3fa85f64')).toBe('loop-20261204T173000-3fa85f64');
    for (const bad of ['a:b', '123', '', 'a b', 'x'.repeat(201)]) expect(() => checkJobId(bad)).toThrow(TypeError);
  });
});

describe('experiments: a given id', () => {
  const clock = { now: () => 1_000 };
  const versions = new Set(['v1', 'v2']);
  const admin = createExperimentAdmin({
    store: createMemoryExperimentStore({ clock }),
    exposures: createMemoryExposureStore({ maxEntries: 10, maxBytes: 100_000, clock }),
    registry: { get: (d, v) => Promise.resolve(versions.has(v) ? { domain: d, version: v, text: '', parentVersion: null, createdAt: '', historyLength: 5 } : null), activate: () => Promise.resolve() },
    clock,
    newId: () => `exp_${Math.random()}`,
    maxRunning: 5,
    defaultGuardrails: {},
  });
  const draft = { id: 'canary-r1', domain: 'books', mode: 'ab' as const, arms: [{ name: 'control', method: 'agp' as const, promptVersion: 'v1' }, { name: 'candidate', method: 'agp' as const, promptVersion: 'v2' }], trafficShare: 0.1 };

  it('creates one experiment; creating the id again returns it, running or stopped', async () => {
    const first = await admin.create(draft);
    expect(first).toMatchObject({ id: 'canary-r1', state: 'running', trafficShare: 0.1 });
    expect(await admin.create(draft)).toEqual(first);
    const stopped = await admin.stop('canary-r1', { message: 'loop run r1: no decision after 7d' });
    expect(stopped.stopReason).toEqual({ kind: 'manual', message: 'loop run r1: no decision after 7d' });
    expect(await admin.create(draft)).toMatchObject({ id: 'canary-r1', state: 'stopped' });
    expect(await admin.list('books')).toHaveLength(1);
  });

  it('an id taken in another domain is a conflict, not that experiment', async () => {
    await expect(admin.create({ ...draft, domain: 'films' })).rejects.toBeInstanceOf(ConflictError);
  });
});
