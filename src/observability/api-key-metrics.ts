/**
 * Per-API-key usage counters. The `key` label is the name of a key that passed verification, never raw
 * input, so the series are bounded by the number of keys an operator created.
 */
import { Counter, type Registry } from 'prom-client';
import type { UsageDelta } from '../api-keys/api-keys.js';

/** Metric names, for docs, dashboards and tests. */
export const API_KEY_METRIC = {
  reranks: 'agp_api_key_reranks_total',
  llmCalls: 'agp_api_key_llm_calls_total',
  tokens: 'agp_api_key_tokens_total',
} as const;

/** Registers the counters on `registry` and returns the usage sink of the key service. */
export function createApiKeyMetrics(registry: Registry): (name: string, delta: UsageDelta) => void {
  const registers = [registry];
  const reranks = new Counter({ name: API_KEY_METRIC.reranks, help: 'Reranks served per API key.', labelNames: ['key'] as const, registers });
  const llmCalls = new Counter({ name: API_KEY_METRIC.llmCalls, help: 'LLM calls made for reranks per API key.', labelNames: ['key'] as const, registers });
  const tokens = new Counter({
    name: API_KEY_METRIC.tokens,
    help: 'LLM tokens used for reranks per API key, by kind (prompt, completion).',
    labelNames: ['key', 'kind'] as const,
    registers,
  });
  return (name, d) => {
    reranks.inc({ key: name }, d.reranks);
    llmCalls.inc({ key: name }, d.llmCalls);
    tokens.inc({ key: name, kind: 'prompt' }, d.promptTokens);
    tokens.inc({ key: name, kind: 'completion' }, d.completionTokens);
  };
}
