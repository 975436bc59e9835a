import { describe, expect, it } from 'vitest';
import { ConfigError, llmConfigured, llmUnconfiguredReason, loadConfig, pipelineOptions } from '../../src/config.js';

describe('loadConfig', () => {
  it('has embedded defaults: no Redis, no LLM, port 8080', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('0.0.0.0');
    expect(c.redis.url).toBeUndefined();
    expect(llmConfigured(c)).toBe(false);
    expect(c.profiles.freshness).toBe('stale-while-revalidate');
    expect(Object.isFrozen(c) && Object.isFrozen(c.llm)).toBe(true);
  });

  it('parses booleans explicitly: "false" is false', () => {
    expect(loadConfig({ LLM_STRUCTURED_OUTPUT: 'false' }).llm.structuredOutput).toBe(false);
    expect(loadConfig({ LLM_STRUCTURED_OUTPUT: 'true' }).llm.structuredOutput).toBe(true);
    expect(loadConfig({ WORKER_ENABLED: '0' }).training.workerEnabled).toBe(false);
    expect(() => loadConfig({ WORKER_ENABLED: 'maybe' })).toThrow(/WORKER_ENABLED/);
  });

  it('names the offending variable in one line', () => {
    for (const [k, v] of [['PORT', 'http'], ['REDIS_URL', 'not a url'], ['PROFILE_FRESHNESS', 'sometimes'], ['ADMIN_TOKEN', 'short']] as const) {
      try {
        loadConfig({ [k]: v });
        expect.fail(`${k}=${v} should be rejected`);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as Error).message).toContain(k);
        expect((err as Error).message).not.toContain('\n');
      }
    }
  });

  it('derives per-role models from LLM_MODEL unless overridden', () => {
    const c = loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:1/v1', LLM_MODEL: 'm', LLM_RERANK_MODEL: 'r', LLM_OPTIMIZER_MODEL: 'o' });
    expect(c.llm.models).toMatchObject({ profile: 'm', rerank: 'r', summarise: 'o', edit: 'o' });
    expect(llmConfigured(c)).toBe(true);
  });

  it('rejects a window step that would not advance', () => {
    expect(() => loadConfig({ RERANK_WINDOW_SIZE: '10', RERANK_WINDOW_STEP: '10' })).toThrow(/RERANK_WINDOW_STEP/);
  });

  it('caps LLM responses at 16 × 4 bytes × the largest completion cap unless LLM_MAX_RESPONSE_BYTES is set', () => {
    expect(loadConfig({}).llm.maxResponseBytes).toBe(16 * 4 * 3 * 400); // cot asks for 3 × LLM_RERANK_MAX_TOKENS
    expect(loadConfig({ LLM_PROFILE_MAX_TOKENS: '4000' }).llm.maxResponseBytes).toBe(16 * 4 * 4000);
    expect(loadConfig({ LLM_RERANK_MAX_TOKENS: '100' }).llm.maxResponseBytes).toBe(16 * 4 * 1024); // training's default
    expect(loadConfig({ LLM_MAX_RESPONSE_BYTES: '2048' }).llm.maxResponseBytes).toBe(2048);
    expect(() => loadConfig({ LLM_MAX_RESPONSE_BYTES: '10' })).toThrow(/LLM_MAX_RESPONSE_BYTES/);
  });

  it('caps profiles at PROFILE_MAX_CHARS (default 4000), handed to the pipeline', () => {
    expect(pipelineOptions(loadConfig({})).profileMaxChars).toBe(4000);
    expect(pipelineOptions(loadConfig({ PROFILE_MAX_CHARS: '800' })).profileMaxChars).toBe(800);
    expect(() => loadConfig({ PROFILE_MAX_CHARS: 'lots' })).toThrow(/PROFILE_MAX_CHARS/);
  });

  it('has one definition of "the LLM is configured": an endpoint and a model for every role of the use', () => {
    const endpoint = { LLM_BASE_URL: 'http://127.0.0.1:1/v1' };
    const perRole = { ...endpoint, LLM_PROFILE_MODEL: 'p', LLM_RERANK_MODEL: 'r', LLM_OPTIMIZER_MODEL: 'o' };
    // Per-role models without LLM_MODEL: configured for serving AND training.
    expect(llmConfigured(loadConfig(perRole), 'serving')).toBe(true);
    expect(llmConfigured(loadConfig(perRole), 'training')).toBe(true);
    // An API key alone selects the OpenAI default endpoint.
    expect(llmConfigured(loadConfig({ LLM_API_KEY: 'sk', LLM_MODEL: 'm' }), 'training')).toBe(true);
    // Serving models only: serving yes, training no, and the reason names the missing variable.
    const { LLM_OPTIMIZER_MODEL: _o, ...serving } = perRole;
    expect(llmConfigured(loadConfig(serving), 'serving')).toBe(true);
    expect(llmUnconfiguredReason(loadConfig(serving), 'training')).toBe('no LLM is configured for training: set LLM_MODEL (or LLM_OPTIMIZER_MODEL)');
    // A rerank model alone serves nothing (profile calls would fail).
    expect(llmUnconfiguredReason(loadConfig({ ...endpoint, LLM_RERANK_MODEL: 'r' }), 'serving')).toBe('no LLM is configured for serving: set LLM_MODEL (or LLM_PROFILE_MODEL)');
    expect(llmUnconfiguredReason(loadConfig({ LLM_MODEL: 'm' }))).toBe('no LLM is configured for serving: set LLM_BASE_URL (or LLM_API_KEY)');
  });
});

describe('socket timeouts and the training queue bound', () => {
  it('default to seconds, not Node/Fastify’s “no limit”, and parse from the environment', () => {
    expect(loadConfig({}).http.timeouts).toEqual({ requestMs: 5_000, headersMs: 3_000, keepAliveMs: 72_000 });
    expect(loadConfig({}).training.maxQueued).toBe(20);
    const c = loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '9000', HTTP_HEADERS_TIMEOUT_MS: '9000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000', TRAINING_MAX_QUEUED: '3' });
    expect(c.http.timeouts).toEqual({ requestMs: 9_000, headersMs: 9_000, keepAliveMs: 1_000 });
    expect(c.training.maxQueued).toBe(3);
  });

  it('refuses a headers timeout above the request timeout (Node would refuse it too) and a zero “no limit”', () => {
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '2000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS/);
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '0' })).toThrow(/HTTP_REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ TRAINING_MAX_QUEUED: '0' })).toThrow(/TRAINING_MAX_QUEUED/);
  });
});

describe('the loop (LOOP_*)', () => {
  it('defaults: no schedules, decisions every minute, training polled every 10 s, the loop worker on', () => {
    expect(loadConfig({}).loop).toEqual({ schedules: [], decisionIntervalMs: 60_000, pollMs: 10_000, minEveryMs: 60_000, enabled: true });
    const c = loadConfig({ LOOP_DECISION_INTERVAL_MS: '5000', LOOP_POLL_MS: '250', LOOP_ENABLED: 'false', LOOP_SCHEDULES: ' ' });
    expect(c.loop).toEqual({ schedules: [], decisionIntervalMs: 5_000, pollMs: 250, minEveryMs: 60_000, enabled: false });
  });

  it('LOOP_SCHEDULES is a JSON array of {domain, …PUT body}, kept as written', () => {
    const schedules = [
      { domain: 'movies', every: '1d', window: '7d', gate: { minDelta: 0.01 } },
      { domain: 'books', cron: '0 3 * * 1', tz: 'Europe/Paris', window: 86_400_000, params: { epochs: 2 }, rollout: { share: 0.05, maxDuration: '3d' } },
    ];
    const c = loadConfig({ LOOP_SCHEDULES: JSON.stringify(schedules) });
    expect(c.loop.schedules).toEqual(schedules);
    expect(Object.isFrozen(c.loop.schedules[1]?.rollout)).toBe(true);
  });

  it('a bad LOOP_SCHEDULES is a one-line ConfigError naming the variable, the entry and the problem', () => {
    const ok = { domain: 'movies', every: '1d', window: '1d' };
    const cases: Array<[string, RegExp]> = [
      ['{not json', /not valid JSON/],
      ['{"domain":"movies"}', /expected a JSON array/],
      [JSON.stringify([{ every: '1d', window: '1d' }]), /\[0\] domain/],
      [JSON.stringify([{ ...ok, domain: 'no spaces' }]), /\[0\] domain/],
      [JSON.stringify([ok, { ...ok, windw: '1d' }]), /\[1\].*windw/],
      [JSON.stringify([ok, ok]), /\[1\]: domain "movies" is scheduled twice/],
      [JSON.stringify([{ ...ok, cron: '0 3 * * *' }]), /\[0\] \(movies\): give either every or cron, not both/],
      [JSON.stringify([{ ...ok, cron: undefined, every: undefined }]), /\(movies\): give every/],
      [JSON.stringify([{ ...ok, every: undefined, cron: '0 25 * * *' }]), /\(movies\): cron "0 25 \* \* \*" is invalid/],
      [JSON.stringify([{ ...ok, window: '8d' }]), /\(movies\): window \(8d\) is longer than the exposure TTL/],
      [JSON.stringify([{ ...ok, params: { epochz: 1 } }]), /\[0\] params.*epochz/],
      [JSON.stringify([{ ...ok, params: { domain: 'books' } }]), /params.domain must be the schedule's domain "movies"/],
      [JSON.stringify([{ ...ok, rollout: { maxDuration: '30s' } }]), /LOOP_DECISION_INTERVAL_MS/],
    ];
    for (const [value, message] of cases) {
      try {
        loadConfig({ LOOP_SCHEDULES: value });
        expect.fail(`LOOP_SCHEDULES=${value} should be rejected`);
      } catch (err) {
        expect(err, value).toBeInstanceOf(ConfigError);
        expect((err as Error).message, value).toMatch(/^invalid configuration: LOOP_SCHEDULES: /);
        expect((err as Error).message, value).toMatch(message);
        expect((err as Error).message).not.toContain('\n');
      }
    }
    // The window rule follows EXPOSURE_TTL_SECONDS.
    expect(loadConfig({ EXPOSURE_TTL_SECONDS: String(9 * 86_400), LOOP_SCHEDULES: JSON.stringify([{ ...ok, window: '8d' }]) }).loop.schedules).toHaveLength(1);
  });

  it('LOOP_DECISION_INTERVAL_MS and LOOP_POLL_MS are bounded', () => {
    expect(() => loadConfig({ LOOP_DECISION_INTERVAL_MS: '10' })).toThrow(/LOOP_DECISION_INTERVAL_MS/);
    expect(() => loadConfig({ LOOP_POLL_MS: '0' })).toThrow(/LOOP_POLL_MS/);
    expect(() => loadConfig({ LOOP_ENABLED: 'sometimes' })).toThrow(/LOOP_ENABLED/);
  });
});
