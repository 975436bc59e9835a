/**
 * API_KEYS_FILE end to end: the app reads the mounted JSON of hashed keys, /v1 needs one of them, the admin
 * API lists them (with usage) but refuses changes, and the configuration rules of API_KEYS hold.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys/api-keys.js';
import { loadConfig } from '../../src/config.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';

const ADMIN = 'admin-token-0123456789';
const key = generateApiKey();
const payload = { userId: 'u', method: 'baseline', history: [], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] };
let dir: string;
let t: TestApp;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agp-keyfile-'));
  const file = join(dir, 'api-keys.json');
  await writeFile(file, JSON.stringify([{ name: 'mounted', hash: key.hash, rateLimit: 10 }]));
  t = await buildTestApp({ env: { API_KEYS_FILE: file, ADMIN_TOKEN: ADMIN }, jobs: false });
});
afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('API_KEYS_FILE', () => {
  it('a listed key is accepted and counted; others are 401', async () => {
    const ok = await t.app.inject({ method: 'POST', url: '/v1/rerank', payload, headers: { authorization: `Bearer ${key.key}` } });
    expect(ok.statusCode).toBe(200);
    const bad = await t.app.inject({ method: 'POST', url: '/v1/rerank', payload, headers: { authorization: `Bearer ${generateApiKey().key}` } });
    expect(bad.statusCode).toBe(401);
    // The hash itself is not a key.
    const hash = await t.app.inject({ method: 'POST', url: '/v1/rerank', payload, headers: { authorization: `Bearer ${key.hash}` } });
    expect(hash.statusCode).toBe(401);
    const list = await t.app.inject({ method: 'GET', url: '/admin/v1/api-keys', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(list.json().apiKeys).toEqual([expect.objectContaining({ name: 'mounted', rateLimit: 10, usage: expect.objectContaining({ reranks: 1 }) })]);
    expect(list.body).not.toContain(key.hash);
  });

  it('the admin API cannot change file keys (409)', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/admin/v1/api-keys', payload: { name: 'new' }, headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.statusCode).toBe(409);
    const revoke = await t.app.inject({ method: 'DELETE', url: '/admin/v1/api-keys/mounted', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(revoke.statusCode).toBe(409);
  });
});

describe('configuration', () => {
  it('keys are off by default; API_KEYS=redis needs Redis; file and redis are exclusive', () => {
    expect(loadConfig({}).apiKeys.mode).toBe('off');
    expect(loadConfig({ API_KEYS_FILE: '/k.json' }).apiKeys).toMatchObject({ mode: 'file', file: '/k.json', pollMs: 1000 });
    expect(loadConfig({ API_KEYS: 'redis', REDIS_URL: 'redis://127.0.0.1:1' }).apiKeys.mode).toBe('redis');
    expect(() => loadConfig({ API_KEYS: 'redis' })).toThrow(/API_KEYS: redis needs REDIS_URL/);
    expect(() => loadConfig({ API_KEYS: 'redis', REDIS_URL: 'redis://127.0.0.1:1', API_KEYS_FILE: '/k.json' })).toThrow(/API_KEYS_FILE/);
    expect(() => loadConfig({ API_KEYS: 'yes' })).toThrow(/API_KEYS/);
  });
});
