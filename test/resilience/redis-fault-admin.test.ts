/**
 * The admin routes under Redis faults, on the real app with a private redis-server holding both the
 * prompt registry and the BullMQ queue. Paused (SIGSTOP), every route answered 500 after 1 s (prompts) or
 * hung for more than 25 s (training jobs); full (maxmemory under noeviction), import and submit answered 500.
 * Now every route that needs Redis answers 503 SERVICE_UNAVAILABLE with Retry-After within 2 s, and reads
 * still work while Redis is only full.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { dragonUsers } from '../support/training-script.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { fillRedis, pauseRedis } from '../../testkit/redis-faults.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';
import { sleep } from '../../testkit/wait.js';

const TOKEN = 'redis-fault-admin-token-0123456789';
const BOUND_MS = 2_000;
/** A request still unanswered after this is recorded as status 0 (the code before hung for more than 25 s). */
const GIVE_UP_MS = 10_000;

let redis: RedisServerHandle;
let double: LlmDouble;
let t: TestApp;
let jobId: string;

type Method = 'GET' | 'POST' | 'DELETE';
interface Call {
  method: Method;
  url: string;
  payload?: object;
}

const version = (v: string) => ({ domain: 'books', version: v, text: `Describe the reader (${v}).`, historyLength: 5 });
const submit = { domain: 'books', dataset: { users: dragonUsers(6) }, params: { epochs: 1, batchSize: 3, verifySteps: 0, patience: 0 } };

async function send(c: Call): Promise<{ status: number; ms: number; retryAfter: string | undefined; code: string | undefined }> {
  const started = performance.now();
  const res = await Promise.race([
    t.app.inject({ method: c.method, url: c.url, headers: { authorization: `Bearer ${TOKEN}` }, ...(c.payload ? { payload: c.payload } : {}) }),
    sleep(GIVE_UP_MS).then(() => undefined),
  ]);
  const ms = performance.now() - started;
  if (!res) return { status: 0, ms, retryAfter: undefined, code: undefined };
  const code = res.statusCode >= 400 ? (res.json() as { error: { code: string } }).error.code : undefined;
  return { status: res.statusCode, ms, retryAfter: res.headers['retry-after'] as string | undefined, code };
}

beforeAll(async () => {
  redis = await startRedisServer();
  double = await startLlmDouble();
  t = await buildTestApp({
    env: {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniquePrefix('admin-fault'),
      ADMIN_TOKEN: TOKEN,
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-test',
      LLM_MODEL: 'double-model',
      WORKER_ENABLED: 'false',
    },
  });
  expect((await send({ method: 'POST', url: '/admin/v1/prompts', payload: version('v1') })).status).toBe(201);
  const accepted = await t.app.inject({ method: 'POST', url: '/admin/v1/training-jobs', headers: { authorization: `Bearer ${TOKEN}` }, payload: submit });
  expect(accepted.statusCode).toBe(202);
  jobId = (accepted.json() as { jobId: string }).jobId;
});
afterAll(async () => {
  redis?.kill('SIGCONT');
  await t?.close();
  await double?.close();
  await redis?.stop();
});

/** Every admin route that needs Redis, as a request that succeeds on a healthy Redis. */
const routes = (tag: string): Record<string, Call> => ({
  'list prompts': { method: 'GET', url: '/admin/v1/prompts' },
  'get prompt': { method: 'GET', url: '/admin/v1/prompts/books/v1' },
  'import prompt': { method: 'POST', url: '/admin/v1/prompts', payload: version(`v-${tag}`) },
  'activate prompt': { method: 'POST', url: '/admin/v1/prompts/books/v1/activate' },
  'submit job': { method: 'POST', url: '/admin/v1/training-jobs', payload: submit },
  'list jobs': { method: 'GET', url: '/admin/v1/training-jobs' },
  'get job': { method: 'GET', url: `/admin/v1/training-jobs/${jobId}` },
  'job report': { method: 'GET', url: `/admin/v1/training-jobs/${jobId}/report` },
  'job trace': { method: 'GET', url: `/admin/v1/training-jobs/${jobId}/trace` },
  'cancel job': { method: 'DELETE', url: `/admin/v1/training-jobs/${jobId}` },
});

/** Sends every call at once; returns name → outcome, and logs the figures. */
async function sendAll(label: string, calls: Record<string, Call>) {
  const names = Object.keys(calls);
  const results = await Promise.all(names.map((n) => send(calls[n] as Call)));
  const out = Object.fromEntries(names.map((n, i) => [n, results[i] as Awaited<ReturnType<typeof send>>]));
  console.log(`[admin ${label}] ${names.map((n) => `${n}: ${out[n]?.status} in ${out[n]?.ms.toFixed(0)} ms`).join('; ')}`);
  return out;
}

function expectUnavailable(outcomes: Record<string, Awaited<ReturnType<typeof send>>>): void {
  for (const [name, r] of Object.entries(outcomes)) {
    expect({ name, status: r.status, code: r.code, retryAfter: Number(r.retryAfter) >= 1 }).toEqual({ name, status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: true });
    expect(r.ms, name).toBeLessThanOrEqual(BOUND_MS);
  }
}

describe('admin routes under Redis faults', () => {
  it('paused (SIGSTOP): every route answers 503 with Retry-After within 2 s', { timeout: 30_000 }, async () => {
    const resume = pauseRedis(redis);
    try {
      expectUnavailable(await sendAll('paused', routes('paused')));
    } finally {
      resume();
    }
  });

  it('full (noeviction): writes answer 503 with Retry-After within 2 s; reads still answer', { timeout: 30_000 }, async () => {
    const all = routes('full');
    const unfill = await fillRedis(redis);
    try {
      const out = await sendAll('full', all);
      const writes = ['import prompt', 'activate prompt', 'submit job', 'cancel job'];
      expectUnavailable(Object.fromEntries(writes.map((w) => [w, out[w] as Awaited<ReturnType<typeof send>>])));
      const reads = Object.keys(all).filter((n) => !writes.includes(n));
      expect(Object.fromEntries(reads.map((n) => [n, out[n]?.status]))).toEqual(Object.fromEntries(reads.map((n) => [n, n.startsWith('job ') ? 404 : 200])));
    } finally {
      await unfill();
    }
  });
});
