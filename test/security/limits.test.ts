/**
 * Size and shape limits: bodies over BODY_LIMIT_BYTES are 413 PAYLOAD_TOO_LARGE; more than 100 candidates or
 * 200 history items are 400 VALIDATION_ERROR; titles longer than MAX_TITLE_CHARS are accepted and truncated
 * (with "…") in the prompt the LLM receives; JSON nested deeper than 64 levels is a 400 (it was a 500 on the
 * admin routes); path parameters up to their schema maximum reach the handler (erasure of a 256-char user id).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sanitizeText } from '../../src/agp/untrusted-text.js';
import { MAX_JSON_DEPTH, nestingExceeds } from '../../src/http/plugins/json-body.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';

const TOKEN = 'limits-admin-token-0123456789';
const MAX_TITLE = 200;
const items = (n: number, p: string) => Array.from({ length: n }, (_, i) => ({ id: `${p}${i + 1}`, title: `Title ${p}${i + 1}` }));
const body = (over: Record<string, unknown> = {}) => ({ userId: 'limits-user', history: items(5, 'h'), candidates: items(5, 'c'), ...over });

function expectError(res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, code: string): void {
  expect(res.statusCode).toBe(status);
  expect(res.json()).toEqual({ error: { code, message: expect.any(String), requestId: res.headers['x-request-id'] } });
}

let double: LlmDouble;
let t: TestApp;
let small: TestApp;

beforeAll(async () => {
  double = await startLlmDouble();
  t = await buildTestApp({
    env: {
      ADMIN_TOKEN: TOKEN,
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-limits',
      LLM_MODEL: 'double-model',
      MAX_TITLE_CHARS: String(MAX_TITLE),
      BREAKER_FAILURE_THRESHOLD: '1000',
      DEFAULT_DEADLINE_MS: '5000',
    },
    jobs: false,
  });
  small = await buildTestApp({ env: { ADMIN_TOKEN: TOKEN, BODY_LIMIT_BYTES: '4096' }, jobs: false });
});
afterAll(async () => {
  await t?.close();
  await small?.close();
  await double?.close();
});
beforeEach(() => double.reset());

const rerank = (app: TestApp, payload: unknown) =>
  app.app.inject({ method: 'POST', url: '/v1/rerank', headers: { 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

/** A rerank body serialised to exactly `bytes` bytes (unknown keys are ignored by the schema). */
function bodyOfSize(bytes: number): string {
  const base = JSON.stringify({ ...body({ method: 'baseline' }), pad: '' });
  return base.replace('"pad":""', `"pad":"${'p'.repeat(bytes - Buffer.byteLength(base))}"`);
}

describe('body size', () => {
  it('the default limit (1 MiB): one byte over is 413 PAYLOAD_TOO_LARGE', async () => {
    expectError(await rerank(t, bodyOfSize(1_048_577)), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('BODY_LIMIT_BYTES: exactly the limit is accepted, one byte more is 413', async () => {
    const at = bodyOfSize(4096);
    expect(Buffer.byteLength(at)).toBe(4096);
    expect((await rerank(small, at)).statusCode).toBe(200);
    const over = bodyOfSize(4097);
    expectError(await rerank(small, over), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('applies to the admin routes too (with a valid token)', async () => {
    const res = await small.app.inject({
      method: 'POST',
      url: '/admin/v1/prompts',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ domain: 'default', version: 'big', text: 'x'.repeat(5000) }),
    });
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe('list sizes', () => {
  it('100 candidates and 200 history items are accepted', async () => {
    const res = await rerank(t, body({ candidates: items(100, 'c'), history: items(200, 'h') }));
    expect(res.statusCode).toBe(200);
    const ranking = res.json().ranking as Array<{ id: string }>;
    expect(ranking.map((r) => r.id).sort()).toEqual(items(100, 'c').map((c) => c.id).sort());
  });

  it('101 candidates → 400 VALIDATION_ERROR naming the field, without calling the LLM', async () => {
    const res = await rerank(t, body({ candidates: items(101, 'c') }));
    expectError(res, 400, 'VALIDATION_ERROR');
    expect(res.json().error.message).toMatch(/candidates/);
    expect(double.calls).toHaveLength(0);
  });

  it('201 history items → 400 VALIDATION_ERROR naming the field', async () => {
    const res = await rerank(t, body({ history: items(201, 'h') }));
    expectError(res, 400, 'VALIDATION_ERROR');
    expect(res.json().error.message).toMatch(/history/);
    expect(double.calls).toHaveLength(0);
  });

  it('titles beyond the 4096-character memory bound are rejected (the prompt cap is separate)', async () => {
    const res = await rerank(t, body({ candidates: [{ id: 'a', title: 'x'.repeat(4097) }] }));
    expectError(res, 400, 'VALIDATION_ERROR');
  });
});

describe('long titles', () => {
  const head = 'The Extremely Long Director’s Cut Title ';
  const longTitle = `${head}${'lorem ipsum '.repeat(80)}TAIL-MARKER-NEVER-IN-PROMPT`;
  const truncated = sanitizeText(longTitle, MAX_TITLE);

  it('are accepted (200) and truncated to MAX_TITLE_CHARS with "…" in the prompts the LLM receives', async () => {
    expect(longTitle.length).toBeGreaterThan(900);
    expect(Array.from(truncated)).toHaveLength(MAX_TITLE);
    expect(truncated.endsWith('…')).toBe(true);
    expect(truncated.startsWith(head.trim())).toBe(true);

    const candidates = [...items(2, 'c'), { id: 'long', title: longTitle }];
    const history = [...items(3, 'h'), { id: 'hlong', title: longTitle }];
    const res = await rerank(t, body({ userId: 'long-titles', candidates, history, includeProfile: true }));
    expect(res.statusCode).toBe(200);
    expect(res.json().ranking.map((r: { id: string }) => r.id).sort()).toEqual(['c1', 'c2', 'long']);

    const rerankCall = double.calls.find((c) => c.role === 'rerank');
    const profileCall = double.calls.find((c) => c.role === 'profile');
    const rerankPrompt = rerankCall?.messages.map((m) => m.content).join('\n') ?? '';
    const profilePrompt = profileCall?.messages.map((m) => m.content).join('\n') ?? '';
    expect(rerankPrompt.split('\n')).toContain(`[3] ${truncated}`);
    expect(profilePrompt.split('\n')).toContain(`- ${truncated}`);
    for (const prompt of [rerankPrompt, profilePrompt]) {
      expect(prompt).not.toContain('TAIL-MARKER-NEVER-IN-PROMPT');
      expect(prompt).not.toContain(longTitle);
    }
  });
});

describe('JSON nesting depth', () => {
  const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}1${'}'.repeat(depth - 1)}`;
  const importPrompt = (params: string, version: string) =>
    t.app.inject({
      method: 'POST',
      url: '/admin/v1/prompts',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: `{"domain":"default","version":"${version}","text":"A prompt for depth tests.","params":${params}}`,
    });

  it('nestingExceeds counts objects and arrays, and the body itself as level 1', () => {
    expect(nestingExceeds({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(nestingExceeds({ a: [{ b: [] }] }, 3)).toBe(true);
    expect(nestingExceeds('scalar', 0)).toBe(false);
    expect(nestingExceeds(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)), MAX_JSON_DEPTH)).toBe(true);
  });

  it('ordinary nesting in free-form admin fields is fine', async () => {
    expect((await importPrompt(nested(10), 'depth-10')).statusCode).toBe(201);
  });

  it.each([MAX_JSON_DEPTH + 1, 2_000, 4_000])('a body nested %i levels deep is 400 VALIDATION_ERROR, not a 500', async (depth) => {
    // The whole body is one level, so params nested `depth` levels make the body depth + 1 deep.
    expectError(await importPrompt(nested(depth), `depth-${depth}`), 400, 'VALIDATION_ERROR');
  });

  it('on every JSON route (rerank too)', async () => {
    expectError(await rerank(small, `{"userId":"u","history":${'['.repeat(100)}${']'.repeat(100)},"candidates":[]}`), 400, 'VALIDATION_ERROR');
  });
});

describe('CPU bound of prompt sanitisation', () => {
  // Tag removal repeats until stable; without a pass cap, nesting made it quadratic (~0.5 s for one 16 KB text).
  const shapes: Record<string, string> = {
    'nested tags': `${'<a'.repeat(5_400)}${'>'.repeat(5_400)}`,
    'nested chat tokens': `${'<|<|'.repeat(2_000)}${'x|>|>'.repeat(2_000)}`,
    'nested [INST]': `${'[[INST]'.repeat(2_000)}${'INST]'.repeat(2_000)}`,
    'a run of <': `${'<'.repeat(16_000)}a`,
    'encoded nesting': `${'&lt;a'.repeat(3_000)}${'&gt;'.repeat(3_000)}`,
  };

  it.each(Object.entries(shapes))('%s (16 KB) is sanitised in linear time', (_name, text) => {
    const started = performance.now();
    const out = sanitizeText(text, 500);
    expect(performance.now() - started).toBeLessThan(100);
    expect(out).not.toMatch(/<\s*\/?\s*\p{L}|<\||\|>|\[\s*INST/u);
  });

  it('a 1 MB rerank of 16 KB nested-tag texts is answered promptly (it blocked the event loop for seconds)', async () => {
    const text = shapes['nested tags'] as string;
    const candidates = Array.from({ length: 50 }, (_, i) => ({ id: `n${i}`, title: `Film ${i}`, text }));
    const started = performance.now();
    const res = await rerank(t, { ...body({ userId: 'cpu-bound' }), method: 'direct', candidates });
    expect(res.statusCode).toBe(200);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('path parameters', () => {
  it('a 256-character user id (the schema maximum) can be reranked AND erased', async () => {
    const userId = 'u'.repeat(256);
    expect((await rerank(t, body({ userId }))).json().profile).toEqual({ cached: false });
    expect((await rerank(t, body({ userId }))).json().profile).toEqual({ cached: true });
    const res = await t.app.inject({ method: 'DELETE', url: `/v1/profiles/${userId}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId, deleted: expect.any(Number) });
    expect(res.json().deleted).toBeGreaterThan(0);
    expect((await rerank(t, body({ userId }))).json().profile).toEqual({ cached: false });
  });

  it('a 257-character id is 400 VALIDATION_ERROR; a 5,000-character one too (not a bare 414)', async () => {
    for (const n of [257, 5_000]) {
      expectError(await t.app.inject({ method: 'DELETE', url: `/v1/profiles/${'u'.repeat(n)}` }), 400, 'VALIDATION_ERROR');
    }
  });

  it('an undecodable escape is 400 VALIDATION_ERROR in the error shape (was Fastify\'s own body)', async () => {
    for (const url of ['/v1/profiles/%ZZ', '/v1/profiles/%C0%AF', `/admin/v1/training-jobs/%E0%A4%A`]) {
      expectError(await small.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${TOKEN}` } }), 400, 'VALIDATION_ERROR');
    }
  });
});
