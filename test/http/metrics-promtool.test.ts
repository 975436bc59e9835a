/** /metrics must pass `promtool check metrics` (Debian's prometheus package; CI installs it). */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
let t: TestApp;
let double: LlmDouble;

beforeAll(async () => {
  double = await startLlmDouble();
  t = await buildTestApp({ env: { LLM_BASE_URL: double.url, LLM_API_KEY: 'k', LLM_MODEL: 'm' }, metrics: undefined });
});
afterAll(async () => {
  await t?.close();
  await double?.close();
});

describe('GET /metrics', () => {
  it.runIf(hasPromtool || process.env.CI)('passes promtool check metrics after real traffic', async () => {
    const payload = { userId: 'u', history: [{ id: 'h', title: 'H' }], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] };
    await t.app.inject({ method: 'POST', url: '/v1/rerank', payload });
    double.setMode('error500');
    await t.app.inject({ method: 'POST', url: '/v1/rerank', payload: { ...payload, method: 'direct', deadlineMs: 200 } });
    const res = await t.app.inject('/metrics');
    expect(res.headers['content-type']).toContain('text/plain');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: res.body, encoding: 'utf8' });
    expect(check.error).toBeUndefined();
    expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
    expect(check.status).toBe(0);
  });
});
