/**
 * /admin/v1 through app.inject: auth, prompt versions (import, list, get, activate, rollback) and
 * training jobs on the in-process runner (no Redis), with the real SDK talking to the LLM double.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { TRAINED_PROMPT, dragonUsers as makeUsers, trainingScript } from '../support/training-script.js';
import { eventually } from '../../testkit/wait.js';

const TOKEN = 'admin-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

const tinyParams = { epochs: 1, batchSize: 3, verifySteps: 0, patience: 0, concurrency: 2 };

let double: LlmDouble;
let t: TestApp;
let dataDir: string;
let outside: string;

const inject = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = auth) =>
  t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

const getJob = async (id: string) => (await inject('GET', `/admin/v1/training-jobs/${id}`)).json();

beforeAll(async () => {
  double = await startLlmDouble();
  dataDir = await mkdtemp(join(tmpdir(), 'agp-admin-data-'));
  outside = await mkdtemp(join(tmpdir(), 'agp-admin-outside-'));
  await mkdir(join(dataDir, 'sets'));
  await writeFile(join(dataDir, 'sets', 'six.jsonl'), makeUsers(6).map((u) => JSON.stringify(u)).join('\n'));
  await writeFile(join(dataDir, 'bad.jsonl'), `${JSON.stringify(makeUsers(1)[0])}\n{"userId":"x","history":[],"candidates":[]}\n`);
  await writeFile(join(outside, 'secret.jsonl'), makeUsers(6).map((u) => JSON.stringify(u)).join('\n'));
  await symlink(join(outside, 'secret.jsonl'), join(dataDir, 'escape.jsonl'));
  t = await buildTestApp({
    env: {
      ADMIN_TOKEN: TOKEN,
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-test',
      LLM_MODEL: 'test-model',
      TRAINING_DATA_DIR: dataDir,
      PROMPT_REFRESH_MS: '100',
      BREAKER_FAILURE_THRESHOLD: '1000',
    },
  });
});

afterAll(async () => {
  await t?.close();
  await double?.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

beforeEach(() => {
  double.reset();
  double.script(trainingScript);
});

describe('admin auth', () => {
  it('is not registered (404) when ADMIN_TOKEN is unset', async () => {
    const plain = await buildTestApp({ env: { LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-test', LLM_MODEL: 'test-model' }, jobs: false });
    try {
      const res = await plain.app.inject({ method: 'GET', url: '/admin/v1/prompts', headers: auth });
      expect(res.statusCode).toBe(404);
      expect((await plain.app.inject({ method: 'GET', url: '/admin/v1/training-jobs', headers: auth })).statusCode).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it.each([
    ['missing', {}],
    ['wrong', { authorization: 'Bearer not-the-admin-token-at-all' }],
    ['not bearer', { authorization: `Basic ${TOKEN}` }],
  ])('401 with a %s token', async (_name, headers) => {
    const res = await inject('GET', '/admin/v1/prompts', undefined, headers as Record<string, string>);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHORIZED');
    expect((await inject('POST', '/admin/v1/training-jobs', { domain: 'x', dataset: { path: 'a' } }, headers as Record<string, string>)).statusCode).toBe(401);
  });
});

describe('prompt versions', () => {
  const rerank = async (domain: string) =>
    (
      await t.app.inject({
        method: 'POST',
        url: '/v1/rerank',
        payload: { userId: `r-${Math.random()}`, domain, history: [{ id: 'h', title: 'Space opera' }], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] },
      })
    ).json();

  it('imports, lists, gets, activates and rolls back; /v1/rerank follows', async () => {
    const v1 = { domain: 'books', version: 'v1', text: 'Describe the reader in a few sentences, focusing on genres.', historyLength: 7 };
    const v2 = { domain: 'books', version: 'v2', text: 'Describe the reader, focusing on authors and themes.', parentVersion: 'v1' };
    for (const v of [v1, v2]) {
      const res = await inject('POST', '/admin/v1/prompts', v);
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ domain: 'books', version: v.version, active: false, text: v.text });
    }
    const list = (await inject('GET', '/admin/v1/prompts?domain=books')).json().prompts;
    expect(list.map((p: { version: string }) => p.version).sort()).toEqual(['v1', 'v2']);
    expect(list.every((p: { active: boolean }) => !p.active)).toBe(true);

    const got = (await inject('GET', '/admin/v1/prompts/books/v2')).json();
    expect(got).toMatchObject({ version: 'v2', parentVersion: 'v1', historyLength: 10, text: v2.text, active: false });

    expect((await rerank('books')).promptVersion).toBe('builtin-v0');
    expect((await inject('POST', '/admin/v1/prompts/books/v2/activate')).json()).toEqual({ domain: 'books', version: 'v2', active: true });
    expect((await rerank('books')).promptVersion).toBe('v2');
    expect((await inject('GET', '/admin/v1/prompts/books/v2')).json().active).toBe(true);

    // Rollback = activate the older version.
    expect((await inject('POST', '/admin/v1/prompts/books/v1/activate')).statusCode).toBe(200);
    expect((await rerank('books')).promptVersion).toBe('v1');
    const after = (await inject('GET', '/admin/v1/prompts?domain=books')).json().prompts;
    expect(after.find((p: { version: string }) => p.version === 'v1').active).toBe(true);
    expect(after.find((p: { version: string }) => p.version === 'v2').active).toBe(false);
    // Other domains still get the built-in prompt.
    expect((await rerank('movies')).promptVersion).toBe('builtin-v0');
  });

  it('re-importing identical content is a no-op; different content is a 409', async () => {
    const v = { domain: 'music', version: 'm1', text: 'Describe the listener in a few sentences.' };
    expect((await inject('POST', '/admin/v1/prompts', v)).statusCode).toBe(201);
    expect((await inject('POST', '/admin/v1/prompts', v)).statusCode).toBe(201);
    const res = await inject('POST', '/admin/v1/prompts', { ...v, text: 'Something else entirely, longer.' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('CONFLICT');
    expect((await inject('GET', '/admin/v1/prompts/music/m1')).json().text).toBe(v.text);
  });

  it('404 for an unknown version (get and activate)', async () => {
    const get = await inject('GET', '/admin/v1/prompts/books/nope');
    expect(get.statusCode).toBe(404);
    expect(get.json().error.code).toBe('NOT_FOUND');
    expect((await inject('POST', '/admin/v1/prompts/books/nope/activate')).statusCode).toBe(404);
    expect((await inject('GET', '/admin/v1/training-jobs/no-such-job')).statusCode).toBe(404);
    expect((await inject('DELETE', '/admin/v1/training-jobs/no-such-job')).statusCode).toBe(404);
  });

  it('400 for an invalid prompt version', async () => {
    const res = await inject('POST', '/admin/v1/prompts', { domain: 'bad domain', version: 'v', text: 'x' });
    expect(res.statusCode).toBe(400);
  });
});

describe('training jobs (in-process)', () => {
  it('runs a job to completion, saves and (if better) activates the new version', async () => {
    const submit = await inject('POST', '/admin/v1/training-jobs', {
      domain: 'fantasy',
      dataset: { users: makeUsers(6) },
      params: tinyParams,
      activate: 'if-better',
    });
    expect(submit.statusCode).toBe(202);
    const { jobId } = submit.json();
    expect(typeof jobId).toBe('string');

    const done = await eventually(() => getJob(jobId), (j) => j.state === 'completed' || j.state === 'failed', { timeoutMs: 15_000 });
    expect(done.error).toBeUndefined();
    expect(done).toMatchObject({ jobId, domain: 'fantasy', state: 'completed' });
    expect(done.startedAt).toBeDefined();
    expect(done.finishedAt >= done.startedAt).toBe(true);
    expect(done.progress.llmCalls).toBeGreaterThan(0);
    expect(done.progress.tokens).toBeGreaterThan(0);
    expect(done.progress.phase).toBe('done');
    expect(done.progress.epoch).toBeGreaterThanOrEqual(1);
    expect(done.result.activated).toBe(true);
    expect(done.result.metrics.bestValNdcg).toBeGreaterThan(done.result.metrics.initialValNdcg);
    expect(done.metrics.valNdcgPerEpoch).toHaveLength(1);

    const version = (await inject('GET', `/admin/v1/prompts/fantasy/${done.result.promptVersion}`)).json();
    expect(version).toMatchObject({ domain: 'fantasy', parentVersion: 'builtin-v0', historyLength: 5, active: true, text: TRAINED_PROMPT });
    expect(version.params).toMatchObject({ epochs: 1, batchSize: 3, verifySteps: 0 });
    expect(version.metrics.llmCalls).toBe(done.result.metrics.llmCalls);
    expect(double.calls.length).toBe(done.result.metrics.llmCalls);

    const list = (await inject('GET', '/admin/v1/training-jobs')).json().jobs;
    expect(list.find((j: { jobId: string }) => j.jobId === jobId)?.state).toBe('completed');
    // A finished job cannot be cancelled.
    expect((await inject('DELETE', `/admin/v1/training-jobs/${jobId}`)).statusCode).toBe(409);
    const metrics = await t.container.metrics.registry.getSingleMetricAsString('agp_training_jobs_total');
    expect(metrics).toMatch(/agp_training_jobs_total\{state="completed"\} [1-9]/);
  });

  it("with activate 'if-better' on a pinned domain the better version is saved, not activated, and the job says why", async () => {
    const pinned = { domain: 'fantasy3', version: 'held-v1', text: 'A profile prompt a person pinned for this domain.' };
    expect((await inject('POST', '/admin/v1/prompts', pinned)).statusCode).toBe(201);
    expect((await inject('PUT', '/admin/v1/pins/fantasy3', { version: 'held-v1', reason: 'launch freeze' })).statusCode).toBe(200);
    const { jobId } = (await inject('POST', '/admin/v1/training-jobs', { domain: 'fantasy3', dataset: { users: makeUsers(6) }, params: tinyParams, activate: 'if-better' })).json();
    const done = await eventually(() => getJob(jobId), (j) => j.state === 'completed' || j.state === 'failed', { timeoutMs: 15_000 });
    expect(done.state).toBe('completed');
    expect(done.result).toMatchObject({ activated: false, activationSkipped: 'pinned' });
    expect((await inject('GET', `/admin/v1/prompts/fantasy3/${done.result.promptVersion}`)).json().active).toBe(false);
    expect((await inject('GET', '/admin/v1/prompts/fantasy3/held-v1')).json().active).toBe(true);
  });

  it("with activate 'never' the version is saved but not activated", async () => {
    const { jobId } = (
      await inject('POST', '/admin/v1/training-jobs', { domain: 'fantasy2', dataset: { path: 'sets/six.jsonl' }, params: tinyParams })
    ).json();
    const done = await eventually(() => getJob(jobId), (j) => j.state === 'completed' || j.state === 'failed', { timeoutMs: 15_000 });
    expect(done.state).toBe('completed');
    expect(done.result.activated).toBe(false);
    const version = (await inject('GET', `/admin/v1/prompts/fantasy2/${done.result.promptVersion}`)).json();
    expect(version.active).toBe(false);
  });

  it('cancels a running job (ends cancelled, not failed) and a queued one', async () => {
    double.setLatency(40);
    const body = { domain: 'slow', dataset: { users: makeUsers(12) }, params: { ...tinyParams, epochs: 3, batchSize: 2, concurrency: 1 } };
    const a = (await inject('POST', '/admin/v1/training-jobs', body)).json().jobId as string;
    const b = (await inject('POST', '/admin/v1/training-jobs', body)).json().jobId as string;
    const running = await eventually(() => getJob(a), (j) => j.state === 'running' && j.progress.llmCalls > 0, { timeoutMs: 15_000 });
    expect(running.progress.totalBatches).toBeGreaterThan(0);
    // One job per domain: the second waits.
    expect((await getJob(b)).state).toBe('queued');

    const cb = await inject('DELETE', `/admin/v1/training-jobs/${b}`);
    expect(cb.statusCode).toBe(200);
    expect(cb.json()).toEqual({ jobId: b, cancelled: true });
    expect((await getJob(b)).state).toBe('cancelled');

    const ca = await inject('DELETE', `/admin/v1/training-jobs/${a}`);
    expect(ca.json()).toEqual({ jobId: a, cancelled: true });
    const stopped = await eventually(() => getJob(a), (j) => j.state !== 'running', { timeoutMs: 15_000 });
    expect(stopped.state).toBe('cancelled');
    expect(stopped.result).toBeUndefined();
    expect(stopped.finishedAt).toBeDefined();
    expect((await inject('DELETE', `/admin/v1/training-jobs/${a}`)).statusCode).toBe(409);
    // No version was produced for the cancelled jobs.
    expect((await inject('GET', '/admin/v1/prompts?domain=slow')).json().prompts).toEqual([]);
    const metrics = await t.container.metrics.registry.getSingleMetricAsString('agp_training_jobs_total');
    expect(metrics).toMatch(/agp_training_jobs_total\{state="cancelled"\} 2/);
  });

  it.each([
    ['a parent-directory escape', { path: '../../etc/passwd' }],
    ['an absolute path outside the data directory', { path: '/etc/passwd' }],
    ['a symlink pointing outside', { path: 'escape.jsonl' }],
    ['a missing file', { path: 'sets/none.jsonl' }],
    ['the data directory itself', { path: '.' }],
  ])('400 at submit for %s', async (_name, dataset) => {
    const res = await inject('POST', '/admin/v1/training-jobs', { domain: 'x', dataset, params: tinyParams });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_ERROR');
    expect(res.json().error.message).not.toContain(outside);
  });

  it('400 at submit for invalid users (with the line), bad params and an impossible split', async () => {
    const bad = await inject('POST', '/admin/v1/training-jobs', { domain: 'x', dataset: { path: 'bad.jsonl' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/bad\.jsonl:2: candidates/);
    const inline = await inject('POST', '/admin/v1/training-jobs', { domain: 'x', dataset: { users: [...makeUsers(3), { userId: 'y' }] } });
    expect(inline.statusCode).toBe(400);
    expect(inline.json().error.message).toMatch(/dataset\.users:4:/);
    const params = await inject('POST', '/admin/v1/training-jobs', { domain: 'x', dataset: { users: makeUsers(6) }, params: { epochs: 0 } });
    expect(params.statusCode).toBe(400);
    expect(params.json().error.message).toMatch(/epochs/);
    const unknown = await inject('POST', '/admin/v1/training-jobs', { domain: 'x', dataset: { users: makeUsers(6) }, params: { learningRate: 1 } });
    expect(unknown.statusCode).toBe(400);
    const split = await inject('POST', '/admin/v1/training-jobs', { domain: 'x', dataset: { users: makeUsers(1) } });
    expect(split.statusCode).toBe(400);
    expect(double.calls).toHaveLength(0);
  });
});
