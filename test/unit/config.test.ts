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
