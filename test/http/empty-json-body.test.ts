/**
 * `content-type: application/json` with an empty body, as many client wrappers send on every call: accepted on
 * routes that take no body, still a 400 on routes that need one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';

const TOKEN = 'admin-token-0123456789abcdef';
const json = { 'content-type': 'application/json' };
const admin = { ...json, authorization: `Bearer ${TOKEN}` };

let t: TestApp;

beforeAll(async () => {
  // No LLM: training is unavailable, which the cancel route reports as 503 after reading the (empty) body.
  t = await buildTestApp({ env: { ADMIN_TOKEN: TOKEN }, jobs: false });
});

afterAll(async () => {
  await t?.close();
});

describe('empty JSON body', () => {
  it('DELETE /v1/profiles/{id} accepts it', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/profiles/u-1', headers: json, payload: '' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId: 'u-1', deleted: 0 });
  });

  it('POST /admin/v1/prompts/{d}/{v}/activate accepts it', async () => {
    const imported = await t.app.inject({
      method: 'POST',
      url: '/admin/v1/prompts',
      headers: admin,
      payload: { domain: 'books', version: 'v1', text: 'Describe the reader in a few sentences.' },
    });
    expect(imported.statusCode).toBe(201);
    const res = await t.app.inject({ method: 'POST', url: '/admin/v1/prompts/books/v1/activate', headers: admin, payload: '' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ domain: 'books', version: 'v1', active: true });
  });

  it('DELETE /admin/v1/training-jobs/{id} gets past the body (503: no training here), not INVALID_JSON', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/admin/v1/training-jobs/j-1', headers: admin, payload: '' });
    expect(res.json().error.code).not.toBe('INVALID_JSON');
    expect(res.statusCode).toBe(503);
  });

  it('routes that need a body still reject an empty one with INVALID_JSON', async () => {
    for (const [url, headers] of [
      ['/v1/rerank', json],
      ['/admin/v1/prompts', admin],
      ['/admin/v1/training-jobs', admin],
    ] as const) {
      const res = await t.app.inject({ method: 'POST', url, headers, payload: '' });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code, url).toBe('INVALID_JSON');
      expect(res.json().error.message, url).toMatch(/empty/i);
    }
  });

  it('a non-empty malformed body on a body-less route is still INVALID_JSON', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/profiles/u-1', headers: json, payload: '  x' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_JSON');
  });
});
