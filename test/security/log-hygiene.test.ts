/**
 * Secrets and user text stay out of the logs. A full flow (rerank with includeProfile, admin import and
 * activate, a rerank with the new prompt, an LLM error, a validation error, a 413, a wrong admin token) runs
 * with the production default LOG_LEVEL=info and again with LOG_LEVEL=debug and LOG_USER_TEXT=false; neither
 * the LLM API key, the admin token, profile text, prompt text nor history/candidate titles may appear in any
 * captured line, while every request id must. The redaction paths themselves are checked directly too.
 */
import type { InjectOptions } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/observability/logger.js';
import { buildTestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';

const API_KEY = 'sk-LOGSECRET-api-key-7c1e2a';
const TOKEN = 'LOGSECRET-admin-token-5f3b9d0e';
const WRONG_TOKEN = 'LOGSECRET-wrong-token-000000';
const HISTORY_TITLE = 'Zyxwvut Histmark Chronicles';
const CANDIDATE_TITLE = 'Qwertyuiop Candmark Odyssey';
const CANDIDATE_TEXT = 'Plotmark description of a secret voyage';
const PROFILE_TEXT = 'Profilemark: the user adores obscure Histmark sagas.';
const PROMPT_TEXT = 'Promptmark instruction: describe the user tastes with unusual vocabulary please.';

/** Everything that must never be logged (checked case-insensitively, also as single distinctive words). */
const SECRETS = [API_KEY, TOKEN, WRONG_TOKEN, HISTORY_TITLE, CANDIDATE_TITLE, CANDIDATE_TEXT, PROFILE_TEXT, PROMPT_TEXT];
const MARKERS = ['LOGSECRET', 'Histmark', 'Candmark', 'Plotmark', 'Profilemark', 'Promptmark', 'Zyxwvut', 'Qwertyuiop'];

let double: LlmDouble;
beforeAll(async () => {
  double = await startLlmDouble();
});
afterAll(async () => {
  await double?.close();
});

/** Runs the whole flow on a fresh app; returns the captured lines and the request ids that were answered. */
async function runFlow(env: Record<string, string>): Promise<{ logs: string[]; requestIds: string[]; statuses: number[] }> {
  double.reset();
  double.script((call) => (call.role === 'profile' ? PROFILE_TEXT : undefined));
  const t = await buildTestApp({
    env: {
      ...env,
      LLM_BASE_URL: double.url,
      LLM_API_KEY: API_KEY,
      LLM_MODEL: 'double-model',
      LLM_MAX_RETRIES: '0',
      ADMIN_TOKEN: TOKEN,
      BODY_LIMIT_BYTES: '8192',
      BREAKER_FAILURE_THRESHOLD: '1000',
    },
    captureLogs: true,
    jobs: false,
  });
  const requestIds: string[] = [];
  const statuses: number[] = [];
  const auth = { authorization: `Bearer ${TOKEN}` };
  const body = (userId: string) => ({
    userId,
    includeProfile: true,
    history: [{ id: 'h1', title: HISTORY_TITLE }, { id: 'h2', title: 'Plain film' }],
    candidates: [{ id: 'c1', title: CANDIDATE_TITLE, text: CANDIDATE_TEXT }, { id: 'c2', title: 'Other film' }],
  });
  const send = async (opts: InjectOptions) => {
    const res = await t.app.inject(opts);
    requestIds.push(String(res.headers['x-request-id']));
    statuses.push(res.statusCode);
    return res;
  };
  try {
    const first = await send({ method: 'POST', url: '/v1/rerank', payload: body('log-user-1') });
    expect(first.json().profile.text).toBe(PROFILE_TEXT); // the profile really flowed through the service
    await send({ method: 'POST', url: '/admin/v1/prompts', headers: auth, payload: { domain: 'default', version: 'log-v1', text: PROMPT_TEXT } });
    await send({ method: 'POST', url: '/admin/v1/prompts/default/log-v1/activate', headers: auth });
    await send({ method: 'GET', url: '/admin/v1/prompts/default/log-v1', headers: auth });
    await send({ method: 'POST', url: '/v1/rerank', payload: body('log-user-2') });
    expect(double.calls.some((c) => c.messages.some((m) => m.content.includes(PROMPT_TEXT)))).toBe(true);
    double.failNext(2, 'error500');
    const failed = await send({ method: 'POST', url: '/v1/rerank', payload: body('log-user-3') });
    expect(failed.json().fallback).toEqual({ reason: 'llm_error' });
    await send({ method: 'POST', url: '/v1/rerank', payload: { ...body('log-user-4'), topN: 'many' } });
    await send({ method: 'POST', url: '/v1/rerank', payload: { ...body('log-user-5'), padding: `${CANDIDATE_TITLE} `.repeat(400) } });
    await send({ method: 'GET', url: '/admin/v1/prompts', headers: { authorization: `Bearer ${WRONG_TOKEN}` } });
  } finally {
    await t.close();
  }
  return { logs: t.logs, requestIds, statuses };
}

describe.each([
  ['LOG_LEVEL=info (production default)', { LOG_LEVEL: 'info' }],
  ['LOG_LEVEL=debug with LOG_USER_TEXT=false', { LOG_LEVEL: 'debug', LOG_USER_TEXT: 'false' }],
])('%s', (_name, env) => {
  let run: Awaited<ReturnType<typeof runFlow>>;
  beforeAll(async () => {
    run = await runFlow(env);
  });

  it('ran the whole flow: 200s, 201, an LLM error, a 400, a 413 and a 401', () => {
    expect(run.statuses).toEqual([200, 201, 200, 200, 200, 200, 400, 413, 401]);
    expect(run.logs.length).toBeGreaterThan(10);
    expect(run.logs.some((l) => l.includes('llm call failed'))).toBe(true);
    if (env.LOG_LEVEL === 'debug') expect(run.logs.some((l) => JSON.parse(l).level === 20)).toBe(true);
  });

  it('no secret and no user text in any log line', () => {
    const text = run.logs.join('\n').toLowerCase();
    for (const secret of [...SECRETS, ...MARKERS]) expect(text, secret).not.toContain(secret.toLowerCase());
  });

  it('every request id appears in the logs', () => {
    const text = run.logs.join('\n');
    for (const id of run.requestIds) expect(text).toContain(`"requestId":"${id}"`);
  });
});

describe('the redaction configuration', () => {
  function capture(logUserText: boolean, obj: object): string {
    const lines: string[] = [];
    const log = pino(loggerOptions({ level: 'info', logUserText }), { write: (l: string) => void lines.push(l) });
    log.info(obj, 'message');
    return lines.join('');
  }
  const sample = {
    req: { headers: { authorization: `Bearer ${TOKEN}`, cookie: 'session=LOGSECRET' } },
    apiKey: API_KEY,
    token: TOKEN,
    llm: { apiKey: API_KEY, prompt: PROMPT_TEXT, messages: [{ role: 'user', content: CANDIDATE_TITLE }] },
    profile: PROFILE_TEXT,
    text: HISTORY_TITLE,
    call: { promptText: PROMPT_TEXT, text: CANDIDATE_TEXT, profile: PROFILE_TEXT },
  };

  it('censors secrets and user text by default', () => {
    const line = capture(false, sample);
    for (const marker of MARKERS) expect(line).not.toContain(marker);
    expect(line).toContain('[redacted]');
  });

  it('still censors secrets with LOG_USER_TEXT=true, and only then shows user text', () => {
    const line = capture(true, sample);
    expect(line).not.toContain(API_KEY);
    expect(line).not.toContain(TOKEN);
    expect(line).toContain(PROFILE_TEXT);
  });
});
