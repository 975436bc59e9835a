/**
 * Admin security: the Bearer check in src/http/plugins/admin-auth.ts (constant-time over equal-length
 * digests), 401s in the one error shape on every admin route BEFORE the body is looked at, admin routes off
 * (404, and a log line) without ADMIN_TOKEN, and training dataset paths confined to TRAINING_DATA_DIR.
 */
import type * as NodeCrypto from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { LlmCallError } from '../../src/agp/ports.js';
import { isDomainError } from '../../src/errors.js';
import { adminAuth } from '../../src/http/plugins/admin-auth.js';
import { httpErrorOf } from '../../src/http/plugins/error-handler.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { createScriptedLlm } from '../../testkit/scripted-llm.js';

// Spy on the real timingSafeEqual (and createHash) so the tests can see what admin-auth compares.
const spies = vi.hoisted(() => ({ calls: [] as Array<[number, number]> }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof NodeCrypto>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      spies.calls.push([a.byteLength, b.byteLength]);
      return actual.timingSafeEqual(a, b);
    },
  };
});

const TOKEN = 'security-admin-token-0123456789';

/** Runs the preHandler/onRequest function on a minimal request; resolves to the HTTP status it implies. */
async function check(authorization: string | undefined): Promise<number> {
  const req = { headers: authorization === undefined ? {} : { authorization } } as unknown as FastifyRequest;
  try {
    await adminAuth(TOKEN)(req, {} as FastifyReply);
    return 200;
  } catch (err) {
    // The status comes from the one kind → status mapping of the HTTP error handler.
    return isDomainError(err) ? httpErrorOf(err).status : 500;
  }
}

describe('adminAuth (unit)', () => {
  beforeEach(() => {
    spies.calls.length = 0;
  });

  it.each([
    ['the right token', `Bearer ${TOKEN}`, 200],
    ['lowercase "bearer"', `bearer ${TOKEN}`, 200],
    ['upper-case "BEARER" and extra spaces', `BEARER   ${TOKEN}`, 200],
    ['an equal-length wrong token', `Bearer ${TOKEN.slice(0, -1)}X`, 401],
    ['a shorter token (a prefix of the right one)', `Bearer ${TOKEN.slice(0, 8)}`, 401],
    ['a longer token (the right one plus a suffix)', `Bearer ${TOKEN}0`, 401],
    ['the right token with a trailing space', `Bearer ${TOKEN} `, 401],
    ['a missing header', undefined, 401],
    ['an empty header', '', 401],
    ['the wrong scheme (Basic)', `Basic ${TOKEN}`, 401],
    ['the token without a scheme', TOKEN, 401],
    ['the scheme without a token', 'Bearer', 401],
    ['the scheme and spaces only', 'Bearer    ', 401],
  ])('%s → %i', async (_name, header, status) => {
    expect(await check(header)).toBe(status);
  });

  it('compares with timingSafeEqual over equal-length (32-byte) digests, whatever the given length', async () => {
    for (const given of [TOKEN, `${TOKEN.slice(0, -1)}X`, 'x', 'y'.repeat(5000)]) {
      spies.calls.length = 0;
      await check(`Bearer ${given}`);
      expect(spies.calls).toEqual([[32, 32]]);
    }
  });
});

describe('admin routes over HTTP', () => {
  let t: TestApp;
  let dataDir: string;
  let outside: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'agp-sec-data-'));
    outside = await mkdtemp(join(tmpdir(), 'agp-sec-outside-'));
    const users = Array.from({ length: 6 }, (_, i) => ({
      userId: `u${i}`,
      history: [{ id: `h${i}`, title: 'Film' }],
      candidates: [{ id: 'c1', title: 'A' }, { id: 'c2', title: 'B' }, { id: 'c3', title: 'C' }],
      target: 'c2',
    }));
    const jsonl = users.map((u) => JSON.stringify(u)).join('\n');
    await mkdir(join(dataDir, 'sets'));
    await writeFile(join(dataDir, 'sets', 'ok.jsonl'), jsonl);
    await writeFile(join(outside, 'secret.jsonl'), jsonl);
    await symlink(join(outside, 'secret.jsonl'), join(dataDir, 'escape.jsonl'));
    await symlink(outside, join(dataDir, 'escape-dir'));
    // A configured LLM that fails at once: submissions are validated for real, and an accepted job ends fast.
    const llm = createScriptedLlm(() => {
      throw new LlmCallError('llm_error', 'no LLM in this test');
    });
    t = await buildTestApp({ env: { ADMIN_TOKEN: TOKEN, TRAINING_DATA_DIR: dataDir }, llm });
  });
  afterAll(async () => {
    await t?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  const routes: Array<{ method: 'GET' | 'POST' | 'DELETE'; url: string; payload?: string }> = [
    { method: 'GET', url: '/admin/v1/prompts' },
    { method: 'GET', url: '/admin/v1/prompts/default/v1' },
    { method: 'POST', url: '/admin/v1/prompts', payload: '{"domain":"default","version":"v1","text":"A prompt text."}' },
    { method: 'POST', url: '/admin/v1/prompts/default/v1/activate' },
    { method: 'POST', url: '/admin/v1/training-jobs', payload: '{"domain":"default","dataset":{"path":"sets/ok.jsonl"}}' },
    { method: 'GET', url: '/admin/v1/training-jobs' },
    { method: 'GET', url: '/admin/v1/training-jobs/some-id' },
    { method: 'DELETE', url: '/admin/v1/training-jobs/some-id' },
  ];
  const badAuth: Array<[string, Record<string, string>]> = [
    ['no header', {}],
    ['a wrong token of equal length', { authorization: `Bearer ${TOKEN.slice(0, -1)}X` }],
    ['a wrong token of another length', { authorization: 'Bearer nope' }],
    ['the Basic scheme', { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }],
  ];

  it.each(badAuth)('every admin route answers 401 in the error shape with %s', async (_name, headers) => {
    for (const r of routes) {
      const res = await t.app.inject({ method: r.method, url: r.url, headers: { ...headers, ...(r.payload ? { 'content-type': 'application/json' } : {}) }, ...(r.payload ? { payload: r.payload } : {}) });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String), requestId: res.headers['x-request-id'] } });
      expect(res.headers['www-authenticate'] ?? '').not.toContain(TOKEN);
    }
  });

  it('checks the token before the body: junk, oversized-looking or invalid bodies still get 401, not 400/415', async () => {
    for (const [payload, contentType] of [
      ['{not json', 'application/json'],
      ['{"domain": 5}', 'application/json'],
      ['a=b', 'application/x-www-form-urlencoded'],
      [`{"domain":"d","dataset":{"users":${'['.repeat(500)}${']'.repeat(500)}}}`, 'application/json'],
    ] as const) {
      const res = await t.app.inject({ method: 'POST', url: '/admin/v1/training-jobs', headers: { 'content-type': contentType }, payload });
      expect(res.statusCode, payload.slice(0, 30)).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHORIZED');
    }
  });

  it('accepts the right token, also with a lowercase scheme', async () => {
    for (const scheme of ['Bearer', 'bearer']) {
      const res = await t.app.inject({ method: 'GET', url: '/admin/v1/prompts', headers: { authorization: `${scheme} ${TOKEN}` } });
      expect(res.statusCode).toBe(200);
    }
  });

  describe('training dataset paths stay inside TRAINING_DATA_DIR', () => {
    const submit = (dataset: unknown, validation?: unknown) =>
      t.app.inject({
        method: 'POST',
        url: '/admin/v1/training-jobs',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: { domain: 'default', dataset, ...(validation ? { validation } : {}), params: { epochs: 1, batchSize: 2 } },
      });

    it.each([
      ['a parent-directory escape', '../../etc/passwd'],
      ['a deep parent-directory escape', `sets/${'../'.repeat(20)}etc/passwd`],
      ['an absolute path outside', '/etc/passwd'],
      ['an absolute path with dot segments', '/tmp/../etc/passwd'],
      ['a symlinked file pointing outside', 'escape.jsonl'],
      ['a file under a symlinked directory pointing outside', 'escape-dir/secret.jsonl'],
      ['the data directory itself', '.'],
      ['a NUL byte', 'sets/ok.jsonl\u0000.txt'],
    ])('%s → 400 VALIDATION_ERROR', async (_name, path) => {
      const res = await submit({ path });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: { code: 'VALIDATION_ERROR', message: expect.any(String), requestId: res.headers['x-request-id'] } });
      expect(res.json().error.message).not.toContain('root:'); // never echoes file content
    });

    it('also for the validation set', async () => {
      const res = await submit({ path: 'sets/ok.jsonl' }, { path: '../../etc/passwd' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_ERROR');
    });

    it('while a real file inside the directory is accepted (the 400s are about the path)', async () => {
      const inside = await submit({ path: 'sets/ok.jsonl' });
      expect(inside.statusCode).toBe(202);
      const absolute = await submit({ path: join(dataDir, 'sets', 'ok.jsonl') });
      expect(absolute.statusCode).toBe(202);
    });
  });
});

describe('without ADMIN_TOKEN', () => {
  it('admin routes are not registered (404 in the error shape) and a log line says so', async () => {
    const t = await buildTestApp({ env: { LOG_LEVEL: 'info' }, captureLogs: true, jobs: false });
    try {
      for (const [method, url] of [
        ['GET', '/admin/v1/prompts'],
        ['POST', '/admin/v1/prompts'],
        ['POST', '/admin/v1/training-jobs'],
        ['GET', '/admin/v1/training-jobs/x'],
      ] as const) {
        const res = await t.app.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` } });
        expect(res.statusCode, url).toBe(404);
        expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String), requestId: res.headers['x-request-id'] } });
      }
      const lines = t.logs.map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(lines.some((l) => l.level >= 30 && /admin routes are disabled/i.test(l.msg))).toBe(true);
    } finally {
      await t.close();
    }
  });
});
