/**
 * Contract cases of the API keys (issue 13, part 3): /admin/v1/api-keys… and /v1 with keys on (401, and the
 * `quota_exceeded` fallback), against an in-process app with an in-memory key store: the real service of
 * contract.test.ts runs with keys off. Registered into contract.test.ts's run (see experiment-cases.ts), so
 * its coverage test sees these responses.
 */
import type { AddressInfo } from 'node:net';
import type { Client } from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { paths } from './api-types.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { createMemoryApiKeyStore } from '../../src/store/memory-api-key-store.js';
import type { LlmDouble } from '../../testkit/llm-double.js';

type Api = Client<paths>;

/** What the cases need from the suite: its contract-checking client factory and the LLM double. */
export interface ApiKeyContractContext {
  client(baseUrl: string, headers?: Record<string, string>): Api;
  double(): LlmDouble;
}

const TOKEN = 'contract-keys-admin-token-0123456789';

/** Registers the API-key contract cases. */
export function describeApiKeyContract(ctx: ApiKeyContractContext): void {
  describe('API keys (in-process app, keys on)', () => {
    let t: TestApp;
    let base = '';
    let admin: Api;
    let anonymous: Api;
    beforeAll(async () => {
      const d = ctx.double();
      t = await buildTestApp({
        env: { ADMIN_TOKEN: TOKEN, LLM_BASE_URL: d.url, LLM_API_KEY: 'sk-test', LLM_MODEL: 'double-model' },
        apiKeyStore: createMemoryApiKeyStore(),
        jobs: false,
      });
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      admin = ctx.client(base, { authorization: `Bearer ${TOKEN}` });
      anonymous = ctx.client(base);
    });
    afterAll(async () => t?.close());

    const body = { userId: 'contract-key-user', method: 'direct' as const, history: [{ id: 'h1', title: 'Space opera' }], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] };

    it('create (201, 400, 409, 401), list, get (200, 404)', async () => {
      expect((await anonymous.POST('/admin/v1/api-keys', { body: { name: 'nope' } })).response.status).toBe(401);
      const created = await admin.POST('/admin/v1/api-keys', { body: { name: 'contract-team', dailyLlmCallQuota: 1 } });
      expect(created.response.status).toBe(201);
      expect(created.data?.key).toMatch(/^agp_/);
      expect((await admin.POST('/admin/v1/api-keys', { body: { name: 'contract-team' } })).response.status).toBe(409);
      expect((await admin.POST('/admin/v1/api-keys', { body: { name: 'Not Valid' } })).response.status).toBe(400);
      const list = await admin.GET('/admin/v1/api-keys');
      expect(list.data?.apiKeys.map((k) => k.name)).toEqual(['contract-team']);
      expect((await admin.GET('/admin/v1/api-keys/{name}', { params: { path: { name: 'contract-team' } } })).response.status).toBe(200);
      expect((await admin.GET('/admin/v1/api-keys/{name}', { params: { path: { name: 'missing' } } })).response.status).toBe(404);
    });

    it('/v1 answers 401 without a key, and quota_exceeded past the daily quota', async () => {
      const noKey = await anonymous.POST('/v1/rerank', { body });
      expect(noKey.response.status).toBe(401);
      expect(noKey.error?.error.code).toBe('UNAUTHORIZED');
      expect((await anonymous.DELETE('/v1/profiles/{userId}', { params: { path: { userId: 'u' } } })).response.status).toBe(401);
      expect((await anonymous.DELETE('/v1/users/{userId}', { params: { path: { userId: 'u' } } })).response.status).toBe(401);
      expect((await anonymous.POST('/v1/events', { body: { events: [{}] } })).response.status).toBe(401);

      const rotated = await admin.POST('/admin/v1/api-keys/{name}/rotate', { params: { path: { name: 'contract-team' } }, body: { graceSeconds: 0 } });
      expect(rotated.response.status).toBe(200);
      const keyed = ctx.client(base, { authorization: `Bearer ${rotated.data?.key ?? ''}` });
      const first = await keyed.POST('/v1/rerank', { body });
      expect(first.data?.fallback).toBeNull();
      const second = await keyed.POST('/v1/rerank', { body });
      expect(second.data?.fallback).toEqual({ reason: 'quota_exceeded' });
      expect(second.data?.usage.llmCalls).toBe(0);
    });

    it('rotate (404, 409 once revoked) and revoke (200, 404)', async () => {
      expect((await admin.POST('/admin/v1/api-keys/{name}/rotate', { params: { path: { name: 'missing' } }, body: {} })).response.status).toBe(404);
      const revoked = await admin.DELETE('/admin/v1/api-keys/{name}', { params: { path: { name: 'contract-team' } } });
      expect(revoked.response.status).toBe(200);
      expect(revoked.data?.revokedAt).toEqual(expect.any(String));
      expect((await admin.DELETE('/admin/v1/api-keys/{name}', { params: { path: { name: 'missing' } } })).response.status).toBe(404);
      expect((await admin.POST('/admin/v1/api-keys/{name}/rotate', { params: { path: { name: 'contract-team' } }, body: {} })).response.status).toBe(409);
    });
  });
}
