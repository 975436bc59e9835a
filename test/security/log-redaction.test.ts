/**
 * Two ways secrets and LLM text reached the logs:
 * - an admin token sent as a query parameter was logged verbatim in the access line's `req.url`: every
 *   query string is now logged as `?[redacted]` (the path is kept);
 * - an unexpected error's message ("Value is not a valid number: …", from prom-client, once quoted a field
 *   of the LLM's answer) was logged as it was: it is now logged as `errorText`, redacted unless
 *   LOG_USER_TEXT is on, next to its name and where it was thrown.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LlmClient } from '../../src/agp/ports.js';
import { withoutQuery } from '../../src/observability/logger.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';

const TOKEN = 'QUERYSECRET-admin-token-51f0c2a9';
const LLM_TEXT = 'LLMSECRET the answer text of the model';
const open: TestApp[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

const lines = (t: TestApp) => t.logs.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('query strings are not logged', () => {
  it('withoutQuery keeps the path and drops everything after "?"', () => {
    expect(withoutQuery('/admin/v1/prompts?token=abc&x=1')).toBe('/admin/v1/prompts?[redacted]');
    expect(withoutQuery('/v1/rerank')).toBe('/v1/rerank');
    expect(withoutQuery('/?')).toBe('/?[redacted]');
    expect(withoutQuery(undefined)).toBeUndefined();
  });

  it('an admin token in the query string is not in any log line; the access line keeps the route path', async () => {
    const t = await buildTestApp({ env: { ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'debug' }, captureLogs: true, jobs: false });
    open.push(t);
    const res = await t.app.inject({ method: 'GET', url: `/admin/v1/prompts?token=${TOKEN}&access_token=${TOKEN}` });
    expect(res.statusCode).toBe(401);
    await t.app.inject({ method: 'GET', url: `/v1/nowhere?token=${TOKEN}` });
    expect(t.logs.join('\n')).not.toContain('QUERYSECRET');
    const access = lines(t).filter((l) => l.msg === 'request completed').map((l) => (l.req as { url: string }).url);
    expect(access).toEqual(['/admin/v1/prompts?[redacted]', '/v1/nowhere?[redacted]']);
  });
});

describe('unexpected errors do not log LLM text', () => {
  /** An LLM client that fails the way prom-client did on an LLM-reported value: a plain Error quoting it. */
  const throwingLlm: LlmClient = {
    configured: true,
    complete: () => Promise.reject(new Error(`Value is not a valid number: ${LLM_TEXT}`)),
  };
  const rerank = (t: TestApp) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/rerank',
      payload: { userId: 'u', method: 'direct', history: [], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] },
    });

  it('by default: the reason (name, place) is logged, the message is redacted; the caller gets the baseline', async () => {
    const t = await buildTestApp({ env: { LOG_LEVEL: 'info' }, captureLogs: true, jobs: false, llm: throwingLlm });
    open.push(t);
    const res = await rerank(t);
    expect(res.statusCode).toBe(200);
    expect(res.json().fallback).toEqual({ reason: 'llm_error' });
    expect(t.logs.join('\n')).not.toContain('LLMSECRET');
    const line = lines(t).find((l) => l.msg === 'unexpected rerank failure');
    expect(line).toMatchObject({ errorName: 'Error', errorText: '[redacted]', where: expect.any(String) });
  });

  it('with LOG_USER_TEXT=true the message is logged, for debugging', async () => {
    const t = await buildTestApp({ env: { LOG_LEVEL: 'info', LOG_USER_TEXT: 'true' }, captureLogs: true, jobs: false, llm: throwingLlm });
    open.push(t);
    await rerank(t);
    expect(lines(t).find((l) => l.msg === 'unexpected rerank failure')?.errorText).toBe(`Value is not a valid number: ${LLM_TEXT}`);
  });
});
