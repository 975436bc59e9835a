/**
 * API keys for /v1 (issue 13, part 3), on the real app with an in-memory key store: missing, wrong,
 * revoked and rotated keys get 401 in the error envelope; probes, /metrics and /admin (ADMIN_TOKEN) keep
 * their own rules; the rate limit buckets by key (never x-client-id) with each key's own limit; the daily
 * LLM-call quota turns the third rerank into a baseline answer with `quota_exceeded` and no LLM call; usage
 * is in the admin API and in Prometheus by key name; and no key or hash ever reaches the logs.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/observability/logger.js';
import { hashApiKey } from '../../src/api-keys/api-keys.js';
import { createMemoryApiKeyStore } from '../../src/store/memory-api-key-store.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';

const ADMIN = 'admin-token-0123456789';
const items = (n: number, p = 'c') => Array.from({ length: n }, (_, i) => ({ id: `${p}${i + 1}`, title: `Title ${p}${i + 1}` }));
const body = (over: Record<string, unknown> = {}) => ({ userId: 'key-user', history: items(4, 'h'), candidates: items(5), method: 'baseline', ...over });

let double: LlmDouble;
let t: TestApp;
/** Every key material the tests saw: none of it may appear in a log line. */
const secrets: string[] = [];

beforeAll(async () => {
  double = await startLlmDouble();
  t = await buildTestApp({
    env: { ADMIN_TOKEN: ADMIN, LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-test', LLM_MODEL: 'double-model', RATE_LIMIT_WINDOW_MS: '60000', LOG_LEVEL: 'info' },
    apiKeyStore: createMemoryApiKeyStore(),
    captureLogs: true,
    jobs: false,
  });
});
afterAll(async () => {
  await t?.close();
  await double?.close();
});

const admin = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN}` }, ...(payload ? { payload } : {}) });
const rerank = (key: string | undefined, payload: object = body(), headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: '/v1/rerank', payload, headers: { ...headers, ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}) } });

async function createKey(name: string, limits: Record<string, number> = {}): Promise<string> {
  const res = await admin('POST', '/admin/v1/api-keys', { name, ...limits });
  expect(res.statusCode).toBe(201);
  const { key } = res.json() as { key: string };
  secrets.push(key, hashApiKey(key));
  return key;
}

function expectUnauthorized(res: Awaited<ReturnType<typeof rerank>>): void {
  expect(res.statusCode).toBe(401);
  expect(res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String), requestId: res.headers['x-request-id'] } });
}

describe('authentication of /v1', () => {
  it('creates a key shown once, and lists it without key material', async () => {
    const res = await admin('POST', '/admin/v1/api-keys', { name: 'team-a', rateLimit: 100 });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const { key, apiKey } = res.json() as { key: string; apiKey: Record<string, unknown> };
    secrets.push(key, hashApiKey(key));
    expect(key).toMatch(/^agp_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({ name: 'team-a', prefix: key.slice(0, 8), last4: key.slice(-4), revokedAt: null, rateLimit: 100, dailyLlmCallQuota: null });
    const list = await admin('GET', '/admin/v1/api-keys');
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(key);
    expect(list.body).not.toContain(hashApiKey(key));
    expect(list.json().apiKeys.map((k: { name: string }) => k.name)).toContain('team-a');
    expect((await admin('POST', '/admin/v1/api-keys', { name: 'team-a' })).statusCode).toBe(409);
    expect((await admin('POST', '/admin/v1/api-keys', { name: 'Bad Name!' })).statusCode).toBe(400);
    expect((await rerank(key)).statusCode).toBe(200);
  });

  it('missing, wrong, malformed and non-Bearer keys get 401 UNAUTHORIZED; so does every /v1 route', async () => {
    const key = await createKey('team-b');
    expectUnauthorized(await rerank(undefined));
    expectUnauthorized(await rerank(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`));
    expectUnauthorized(await rerank('agp_short'));
    expectUnauthorized(await rerank(''));
    expectUnauthorized(await t.app.inject({ method: 'POST', url: '/v1/rerank', payload: body(), headers: { authorization: `Basic ${key}` } }));
    const wrong = await rerank('nope');
    expect(wrong.headers['www-authenticate']).toBe('Bearer');
    expectUnauthorized(await t.app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{}] } }));
    expectUnauthorized(await t.app.inject({ method: 'DELETE', url: '/v1/users/u1' }));
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/users/u1', headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(200);
  });

  it('probes and /metrics stay open; /admin keeps ADMIN_TOKEN (an API key is not an admin token)', async () => {
    const key = await createKey('team-c');
    for (const url of ['/healthz', '/readyz', '/metrics']) expect((await t.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/admin/v1/api-keys' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/admin/v1/api-keys', headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(401);
  });

  it('a revoked key stops working at once; revoking is idempotent and the name stays taken', async () => {
    const key = await createKey('team-revoked');
    expect((await rerank(key)).statusCode).toBe(200);
    const res = await admin('DELETE', '/admin/v1/api-keys/team-revoked');
    expect(res.statusCode).toBe(200);
    expect(res.json().revokedAt).toEqual(expect.any(String));
    expectUnauthorized(await rerank(key));
    expect((await admin('DELETE', '/admin/v1/api-keys/team-revoked')).statusCode).toBe(200);
    expect((await admin('DELETE', '/admin/v1/api-keys/nobody')).statusCode).toBe(404);
    expect((await admin('POST', '/admin/v1/api-keys/team-revoked/rotate', {})).statusCode).toBe(409);
  });

  it('rotation without grace: the old key is refused, the new one works, name, limits and usage are kept', async () => {
    const old = await createKey('team-rot', { rateLimit: 50 });
    expect((await rerank(old)).statusCode).toBe(200);
    const res = await admin('POST', '/admin/v1/api-keys/team-rot/rotate', {});
    expect(res.statusCode).toBe(200);
    const { key: fresh, apiKey } = res.json() as { key: string; apiKey: { rateLimit: number; usage: { reranks: number }; previousKeyExpiresAt: string | null } };
    secrets.push(fresh, hashApiKey(fresh));
    expect(fresh).not.toBe(old);
    expect(apiKey).toMatchObject({ rateLimit: 50, usage: { reranks: 1 }, previousKeyExpiresAt: null });
    expectUnauthorized(await rerank(old));
    expect((await rerank(fresh)).statusCode).toBe(200);
  });

  it('rotation with a grace period: both keys work until it ends or the key is revoked', async () => {
    const old = await createKey('team-grace');
    const res = await admin('POST', '/admin/v1/api-keys/team-grace/rotate', { graceSeconds: 600 });
    const { key: fresh, apiKey } = res.json() as { key: string; apiKey: { previousKeyExpiresAt: string | null } };
    secrets.push(fresh, hashApiKey(fresh));
    expect(apiKey.previousKeyExpiresAt).toEqual(expect.any(String));
    expect((await rerank(old)).statusCode).toBe(200);
    expect((await rerank(fresh)).statusCode).toBe(200);
    await admin('DELETE', '/admin/v1/api-keys/team-grace');
    expectUnauthorized(await rerank(old));
    expectUnauthorized(await rerank(fresh));
  });
});

describe('limits and usage by key', () => {
  it('the rate limit buckets by key with its own limit; x-client-id cannot dodge it', async () => {
    const limited = await createKey('team-limited', { rateLimit: 2 });
    const other = await createKey('team-other', { rateLimit: 2 });
    const statuses: number[] = [];
    for (const client of ['x1', 'x2', 'x3']) statuses.push((await rerank(limited, body(), { 'x-client-id': client })).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
    expect((await rerank(other)).statusCode).toBe(200);
  });

  it('past the daily LLM-call quota the rerank is the baseline order with quota_exceeded and no LLM call', async () => {
    const key = await createKey('team-quota', { dailyLlmCallQuota: 2 });
    const direct = body({ method: 'direct', userId: 'quota-user' });
    const first = (await rerank(key, direct)).json();
    const second = (await rerank(key, direct)).json();
    for (const r of [first, second]) {
      expect(r.fallback).toBeNull();
      expect(r.usage.llmCalls).toBe(1);
    }
    const callsBefore = double.calls.length;
    const third = await rerank(key, direct);
    expect(third.statusCode).toBe(200);
    const json = third.json();
    expect(json.fallback).toEqual({ reason: 'quota_exceeded' });
    expect(json.method).toBe('direct');
    expect(json.usage).toEqual({ llmCalls: 0, promptTokens: 0, completionTokens: 0 });
    expect(json.ranking.map((r: { id: string }) => r.id)).toEqual(items(5).map((c) => c.id));
    expect(double.calls.length).toBe(callsBefore);

    const view = (await admin('GET', '/admin/v1/api-keys/team-quota')).json();
    expect(view.usage).toMatchObject({ reranks: 3, llmCalls: 2, llmCallsToday: 2 });
    expect(view.usage.promptTokens).toBeGreaterThan(0);
    expect(view.usage.completionTokens).toBeGreaterThan(0);
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('agp_api_key_reranks_total{key="team-quota"} 3');
    expect(metrics).toContain('agp_api_key_llm_calls_total{key="team-quota"} 2');
    expect(metrics).toMatch(/agp_api_key_tokens_total\{key="team-quota",kind="prompt"\} [1-9]/);
    expect(metrics).toContain('agp_rerank_fallbacks_total{reason="quota_exceeded"} 1');
    // Labels only ever name existing keys: a wrong key adds no series.
    await rerank('agp_not-a-key');
    expect((await t.app.inject({ method: 'GET', url: '/metrics' })).body).not.toContain('agp_not-a-key');
  });
});

describe('log hygiene', () => {
  it('no key and no key hash appears in any log line; the access log still records the 401s', async () => {
    expect(secrets.length).toBeGreaterThan(10);
    const logs = t.logs.join('\n');
    expect(logs).toContain('"statusCode":401');
    for (const s of secrets) expect(logs).not.toContain(s);
    expect(logs).not.toContain('agp_not-a-key');
  });

  it('the logger redacts an Authorization header wherever a log call puts one', () => {
    const lines: string[] = [];
    const log = pino(loggerOptions({ level: 'info', logUserText: true }), { write: (l: string) => void lines.push(l) });
    const header = `Bearer ${secrets[0] ?? 'agp_x'}`;
    log.info({ req: { headers: { authorization: header } } }, 'a');
    log.info({ headers: { authorization: header } }, 'b');
    expect(lines).toHaveLength(2);
    // `req` goes through the serializer (method, url, id: no headers at all); a bare `headers` is redacted.
    for (const l of lines) expect(l).not.toContain(header);
    expect(lines[1]).toContain('"authorization":"[redacted]"');
  });
});
