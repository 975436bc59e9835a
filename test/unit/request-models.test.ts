/** LLM_MODELS and RERANK_CACHE_* parsing, and the bounded sets of model names (config.ts). */
import { describe, expect, it } from 'vitest';
import { ConfigError, knownModels, loadConfig, requestModels } from '../../src/config.js';

describe('LLM_MODELS', () => {
  it('defaults to LLM_MODEL alone, and the configured rerank model is always allowed by name', () => {
    expect([...requestModels(loadConfig({ LLM_MODEL: 'base' }))]).toEqual(['base']);
    expect([...requestModels(loadConfig({}))]).toEqual([]);
    expect([...requestModels(loadConfig({ LLM_MODEL: 'base', LLM_RERANK_MODEL: 'ranker' }))].sort()).toEqual(['base', 'ranker']);
  });

  it('parses a trimmed, deduplicated comma list that replaces the default', () => {
    const cfg = loadConfig({ LLM_MODEL: 'base', LLM_MODELS: ' small , large,small,, ' });
    expect(cfg.llm.allowedModels).toEqual(['small', 'large']);
    expect([...requestModels(cfg)].sort()).toEqual(['base', 'large', 'small']);
  });

  it('knownModels (the metric label values) adds the per-role models', () => {
    const cfg = loadConfig({ LLM_MODEL: 'base', LLM_MODELS: 'small', LLM_PROFILE_MODEL: 'prof', LLM_OPTIMIZER_MODEL: 'opt' });
    expect([...knownModels(cfg)].sort()).toEqual(['base', 'opt', 'prof', 'small']);
  });

  it('rejects a model name with a control character, naming the variable', () => {
    expect(() => loadConfig({ LLM_MODELS: 'ok,bad\u0007name' })).toThrow(ConfigError);
    expect(() => loadConfig({ LLM_MODELS: 'ok,bad\u0007name' })).toThrow(/LLM_MODELS/);
  });
});

describe('RERANK_CACHE_*', () => {
  it('is off by default with a bounded memory cache', () => {
    expect(loadConfig({}).resultCache).toEqual({ ttlSeconds: 0, maxEntries: 10_000 });
    expect(loadConfig({ RERANK_CACHE_TTL_SECONDS: '300', RERANK_CACHE_MAX_ENTRIES: '5' }).resultCache).toEqual({ ttlSeconds: 300, maxEntries: 5 });
    expect(() => loadConfig({ RERANK_CACHE_TTL_SECONDS: '-1' })).toThrow(/RERANK_CACHE_TTL_SECONDS/);
  });
});
