/**
 * One conformance suite for the TrainingJobs port, run against every engine (in-process and BullMQ):
 * submit/get/list/cancel, the state transitions, one error classification (an invalid dataset is
 * `invalid_input` at submit, a closed engine is `unavailable`), one retry rule (a permanent failure is never
 * retried, a transient one is retried up to the attempts) and one cancel rule (queued or running → true,
 * final or unknown → false; the LLM call in flight counts as `cancelled`, not `timeout`) and one admission
 * rule (at most `maxQueued` jobs queued or running; a submit beyond is `unavailable` with a retry hint).
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LlmClient, PromptRegistry } from '../../src/agp/ports.js';
import { BUILTIN_ACTIVE_PROMPT } from '../../src/agp/prompts.js';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { PermanentError, UnavailableError } from '../../src/errors.js';
import type { TrainingRunDeps } from '../../src/jobs/run-training-job.js';
import type { JobView, TrainingJobs } from '../../src/jobs/training-jobs.js';
import { createLlmFromConfig } from '../../src/runtime/llm.js';
import type { OpenAiLlmClient } from '../../src/llm/openai-llm-client.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { Metrics } from '../../src/observability/metrics.js';
import { createMemoryPromptStorage } from '../../src/store/memory-prompt-storage.js';
import { createPromptRegistry } from '../../src/store/prompt-registry.js';
import { startLlmDouble } from '../../testkit/llm-double.js';
import type { LlmDouble } from '../../testkit/llm-double.js';
import { dragonUsers, trainingScript } from '../support/training-script.js';
import { eventually, sleep } from '../../testkit/wait.js';
import type { PortHarness } from './port-harness.js';

/** What an engine runs its jobs with. */
export interface EngineDeps extends TrainingRunDeps {
  metrics: Metrics;
  /** Attempts per job (first run included). */
  attempts: number;
  /** Base of the exponential backoff between attempts. */
  backoffMs: number;
  /** Jobs queued or running at most (TRAINING_MAX_QUEUED). */
  maxQueued: number;
}

/** Builds one engine under test, running its own jobs; its `close()` stops everything it built and may be called twice. */
export type JobEngineHarness = PortHarness<TrainingJobs, EngineDeps>;

/** 8 training users in 4 batches of 2, 2 validation users, 1 epoch: 26 LLM calls. */
const PARAMS = { epochs: 1, batchSize: 2, valUsers: 2, verifySteps: 0, patience: 0, concurrency: 2 };
const request = (domain: string, over: Record<string, unknown> = {}) => ({
  domain,
  dataset: { users: dragonUsers(10) },
  params: PARAMS,
  activate: 'never' as const,
  ...over,
});
const FINAL = new Set(['completed', 'failed', 'cancelled']);

/** A registry whose `get` (the first thing every attempt of a job does) can be made to fail per domain. */
function countingRegistry(inner: PromptRegistry, failure: (domain: string, call: number) => Error | undefined) {
  const calls = new Map<string, number>();
  const registry: PromptRegistry = {
    resolve: (d) => inner.resolve(d),
    activeVersions: () => inner.activeVersions(),
    async get(domain, version) {
      const n = (calls.get(domain) ?? 0) + 1;
      calls.set(domain, n);
      const err = failure(domain, n);
      if (err) throw err;
      return inner.get(domain, version);
    },
    list: (d) => inner.list(d),
    put: (v) => inner.put(v),
    activate: (d, v) => inner.activate(d, v),
    refresh: () => inner.refresh(),
    get ready() {
      return inner.ready;
    },
  };
  return { registry, attemptsOf: (domain: string) => calls.get(domain) ?? 0 };
}

const counterValue = async (c: Metrics['llmCalls'] | Metrics['trainingJobs'], labels: Record<string, string>) =>
  (await c.get()).values
    .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
    .reduce((sum, v) => sum + v.value, 0);

/** Registers the suite for one engine. */
export function describeTrainingJobsConformance(name: string, harness: JobEngineHarness): void {
  describe(`TrainingJobs conformance: ${name}`, () => {
    let double: LlmDouble;
    let dataDir: string;
    const open: Array<{ close(): Promise<unknown> }> = [];

    interface Engine {
      jobs: TrainingJobs;
      metrics: Metrics;
      attemptsOf(domain: string): number;
      view(id: string, ok: (v: JobView) => boolean, timeoutMs?: number): Promise<JobView>;
    }

    /** An engine over a fresh LLM client (its own metrics) and an in-memory registry. */
    async function engine(failure: (domain: string, call: number) => Error | undefined = () => undefined, backoffMs = 50, maxQueued = 20): Promise<Engine> {
      const config = loadConfig({ LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-test', LLM_MODEL: 'test-model', BREAKER_FAILURE_THRESHOLD: '1000', LOG_LEVEL: 'silent' });
      const metrics = createMetrics({ defaultMetrics: false });
      const llm: OpenAiLlmClient = createLlmFromConfig(config, { metrics, use: 'training' });
      const base = createPromptRegistry({ storage: createMemoryPromptStorage(), builtin: BUILTIN_ACTIVE_PROMPT, refreshMs: 60_000 });
      await base.start();
      const { registry, attemptsOf } = countingRegistry(base, failure);
      const deps: EngineDeps = { llm: llm as LlmClient, registry, pipeline: pipelineOptions(config), dataDir, defaultConcurrency: 2, metrics, attempts: 3, backoffMs, maxQueued };
      const jobs = await harness.create(deps);
      open.push(jobs, base, llm);
      const view = (id: string, ok: (v: JobView) => boolean, timeoutMs?: number) =>
        eventually(async () => (await jobs.get(id)) as JobView, (v) => v !== null && ok(v), { timeoutMs });
      return { jobs, metrics, attemptsOf, view };
    }

    beforeAll(async () => {
      await harness.start();
      double = await startLlmDouble();
      dataDir = await mkdtemp(join(tmpdir(), 'agp-conf-jobs-'));
    });
    afterAll(async () => {
      await double?.close();
      await harness.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });
    beforeEach(() => {
      double.reset();
      double.script(trainingScript);
    });
    afterEach(async () => {
      for (const o of open.splice(0).reverse()) await o.close().catch(() => undefined);
    });

    it('submit → queued/running → completed, listed, counted; cancelling it afterwards is false', async () => {
      const e = await engine();
      double.setLatency(5);
      const { jobId } = await e.jobs.submit(request('fantasy'));
      expect(['queued', 'running']).toContain((await e.jobs.get(jobId))?.state);
      const done = await e.view(jobId, (v) => FINAL.has(v.state));
      expect(done).toMatchObject({ jobId, domain: 'fantasy', state: 'completed', result: { activated: false } });
      expect(done.error).toBeUndefined();
      expect(done.result?.promptVersion).toMatch(/^fantasy-\d{8}-\d{6}-/);
      expect(Date.parse(done.finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(done.startedAt ?? ''));
      expect((await e.jobs.list()).map((j) => [j.jobId, j.state])).toEqual([[jobId, 'completed']]);
      await eventually(() => counterValue(e.metrics.trainingJobs, { state: 'completed' }), (n) => n === 1, { timeoutMs: 20_000 });
      expect(await e.jobs.cancel(jobId)).toBe(false);
      expect((await e.jobs.get(jobId))?.state).toBe('completed');
    });

    it('an unknown job: get is null, cancel is false', async () => {
      const e = await engine();
      expect(await e.jobs.get('00000000-0000-4000-8000-000000000000')).toBeNull();
      expect(await e.jobs.cancel('00000000-0000-4000-8000-000000000000')).toBe(false);
    });

    it.each([
      ['no users', { dataset: { users: [] } }],
      ['a path outside the data directory', { dataset: { path: '../../etc/passwd' } }],
      ['bad parameters', { params: { ...PARAMS, epochs: 0 } }],
    ])('%s: refused at submit as invalid_input (VALIDATION_ERROR), nothing queued', async (_name, over) => {
      const e = await engine();
      const err: unknown = await e.jobs.submit(request('bad', over)).then(() => null, (x: unknown) => x);
      expect(err).toMatchObject({ kind: 'invalid_input', code: 'VALIDATION_ERROR' });
      expect(await e.jobs.list()).toEqual([]);
      expect(double.calls).toHaveLength(0);
    });

    it('a closed engine refuses new jobs as unavailable (with a retry hint)', async () => {
      const e = await engine();
      await e.jobs.close();
      const err: unknown = await e.jobs.submit(request('late')).then(() => null, (x: unknown) => x);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as UnavailableError).retryAfterSeconds).toBeGreaterThan(0);
    });

    it('cancel: a queued job at once, a running one stops; its LLM call counts as cancelled, not timeout', async () => {
      const e = await engine();
      // Slow answers (well inside the 120 s per-user deadline): a call is surely in flight when we cancel.
      double.setLatency(5_000);
      const a = (await e.jobs.submit(request('slow'))).jobId;
      const b = (await e.jobs.submit(request('slow'))).jobId;
      await eventually(() => double.calls.length, (n) => n > 0, { timeoutMs: 20_000 });
      await sleep(100);
      expect((await e.jobs.get(b))?.state).toBe('queued');
      expect(await e.jobs.cancel(b)).toBe(true);
      expect((await e.jobs.get(b))?.state).toBe('cancelled');
      expect(await e.jobs.cancel(b)).toBe(false);

      expect(await e.jobs.cancel(a)).toBe(true);
      const stopped = await e.view(a, (v) => FINAL.has(v.state), 10_000);
      expect(stopped.state).toBe('cancelled');
      expect(stopped.result).toBeUndefined();
      expect(stopped.error).toBeUndefined();
      expect(await e.jobs.cancel(a)).toBe(false);

      expect(await counterValue(e.metrics.llmCalls, { outcome: 'cancelled' })).toBeGreaterThan(0);
      expect(await counterValue(e.metrics.llmCalls, { outcome: 'timeout' })).toBe(0);
      await eventually(() => counterValue(e.metrics.trainingJobs, { state: 'cancelled' }), (n) => n === 2, { timeoutMs: 20_000 });
      expect(await counterValue(e.metrics.trainingJobs, { state: 'failed' })).toBe(0);
      expect((await e.jobs.list()).map((j) => j.state)).toEqual(['cancelled', 'cancelled']);
    });

    it('admission: at most maxQueued jobs queued or running; one more is unavailable (with a retry hint) until one ends', async () => {
      const e = await engine(undefined, 50, 2);
      double.setLatency(5_000);
      const first = (await e.jobs.submit(request('full'))).jobId;
      const second = (await e.jobs.submit(request('full'))).jobId;
      await eventually(() => double.calls.length, (n) => n > 0, { timeoutMs: 20_000 });
      const err: unknown = await e.jobs.submit(request('other')).then(() => null, (x: unknown) => x);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as UnavailableError).retryAfterSeconds).toBeGreaterThan(0);
      expect((await e.jobs.list()).map((j) => j.jobId).sort()).toEqual([first, second].sort());
      // A cancelled job frees its place (BullMQ: once a worker has finalised it).
      expect(await e.jobs.cancel(second)).toBe(true);
      const accepted = await eventually(() => e.jobs.submit(request('other')).then((r) => r.jobId, () => null), (id) => id !== null, { timeoutMs: 10_000 });
      expect((await e.jobs.get(accepted as string))?.domain).toBe('other');
      for (const id of [first, accepted as string]) await e.jobs.cancel(id);
    });

    it('retry: a permanent failure runs once; a transient one is retried, up to the attempts', async () => {
      const e = await engine((domain, call) => {
        if (domain === 'perm') return new PermanentError('checkpoint belongs to another run');
        if (domain === 'down') return new UnavailableError('registry unavailable');
        if (domain === 'flaky' && call === 1) return new UnavailableError('registry blip');
        return undefined;
      });
      double.setLatency(1);
      const perm = (await e.jobs.submit(request('perm'))).jobId;
      const down = (await e.jobs.submit(request('down'))).jobId;
      const flaky = (await e.jobs.submit(request('flaky'))).jobId;
      const [p, d, f] = await Promise.all([perm, down, flaky].map((id) => e.view(id, (v) => FINAL.has(v.state), 30_000)));
      expect(p).toMatchObject({ state: 'failed', error: 'checkpoint belongs to another run' });
      expect(e.attemptsOf('perm')).toBe(1);
      expect(d).toMatchObject({ state: 'failed', error: 'registry unavailable' });
      expect(e.attemptsOf('down')).toBe(3);
      expect(f?.state).toBe('completed');
      expect(e.attemptsOf('flaky')).toBe(2);
      await eventually(() => counterValue(e.metrics.trainingJobs, { state: 'failed' }), (n) => n === 2, { timeoutMs: 20_000 });
    });

    it('a job waiting out its backoff after a transient failure is cancelled at once, not retried', async () => {
      const e = await engine((domain) => (domain === 'waiting' ? new UnavailableError('LLM endpoint down') : undefined), 60_000);
      const { jobId } = await e.jobs.submit(request('waiting'));
      await eventually(() => e.attemptsOf('waiting'), (n) => n === 1, { timeoutMs: 20_000 });
      await sleep(200);
      expect(FINAL.has((await e.jobs.get(jobId))?.state ?? 'completed')).toBe(false);
      expect(await e.jobs.cancel(jobId)).toBe(true);
      expect((await e.view(jobId, (v) => FINAL.has(v.state), 5_000)).state).toBe('cancelled');
      await eventually(() => counterValue(e.metrics.trainingJobs, { state: 'cancelled' }), (n) => n === 1, { timeoutMs: 5_000 });
      expect(e.attemptsOf('waiting')).toBe(1);
    });

    it('a dataset file gone by run time fails the job as invalid input, once, without a retry', async () => {
      const file = join(dataDir, 'vanishing.jsonl');
      await writeFile(file, dragonUsers(10).map((u) => JSON.stringify(u)).join('\n'));
      // The registry read that opens every attempt removes the file first: submit saw it, the run does not.
      const e = await engine((domain) => void (domain === 'vanish' && rmSync(file, { force: true })));
      const { jobId } = await e.jobs.submit(request('vanish', { dataset: { path: 'vanishing.jsonl' } }));
      const done = await e.view(jobId, (v) => FINAL.has(v.state));
      expect(done.state).toBe('failed');
      expect(done.error).toMatch(/vanishing\.jsonl" not found/);
      expect(e.attemptsOf('vanish')).toBe(1);
      expect(double.calls).toHaveLength(0);
    });
  });
}
