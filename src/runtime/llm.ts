/**
 * The OpenAI-SDK LLM client built from Config: the one mapping shared by every role (the API, the worker,
 * the CLI) and by the bench, and the one rule for how long batch work waits for an LLM slot.
 */
import type { Config, LlmUse } from '../config.js';
import { knownModels, llmConfigured } from '../config.js';
import type { LlmClient, Logger } from '../agp/ports.js';
import type { Metrics } from '../observability/metrics.js';
import { createOpenAiLlmClient, type OpenAiLlmClient } from '../llm/openai-llm-client.js';
import type { Closers } from './closers.js';

/** The shortest wait of a training LLM call for a concurrency slot. */
export const TRAINING_LLM_QUEUE_TIMEOUT_MS = 60_000;

/**
 * How long a call may wait for a concurrency slot. Serving sheds load fast (LLM_QUEUE_TIMEOUT_MS, 50 ms by
 * default); training is batch work and waits instead, at least a minute, longer when LLM_QUEUE_TIMEOUT_MS
 * asks for more. Every role (API-embedded worker, `agp worker`, CLI) uses this one rule.
 */
export function queueTimeoutMs(config: Config, use: LlmUse): number {
  return use === 'training' ? Math.max(config.llm.queueTimeoutMs, TRAINING_LLM_QUEUE_TIMEOUT_MS) : config.llm.queueTimeoutMs;
}

/** Per-client differences. */
export interface LlmFromConfigOptions {
  /** What the client is for: its queue timeout and what "configured" means (default serving). */
  use?: LlmUse | undefined;
  /** Overrides the use's queue timeout (the CLI waits like training for every use). */
  queueTimeoutMs?: number | undefined;
  metrics?: Metrics | undefined;
  logger?: Logger | undefined;
}

/** Builds the LLM client from config. */
export function createLlmFromConfig(config: Config, opts: LlmFromConfigOptions = {}): OpenAiLlmClient {
  const use = opts.use ?? 'serving';
  return createOpenAiLlmClient({
    baseUrl: config.llm.baseUrl,
    apiKey: config.llm.apiKey,
    models: config.llm.models,
    defaultModel: config.llm.model,
    configured: llmConfigured(config, use),
    temperature: config.llm.temperature,
    maxConcurrency: config.llm.maxConcurrency,
    queueTimeoutMs: opts.queueTimeoutMs ?? queueTimeoutMs(config, use),
    maxRetries: config.llm.maxRetries,
    structuredOutput: config.llm.structuredOutput,
    breaker: config.llm.breaker,
    maxResponseBytes: config.llm.maxResponseBytes,
    modelLabels: knownModels(config),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
}

/** An LLM client a role owns: built from config, closed with the role. */
export function ownLlm(config: Config, use: LlmUse, deps: Omit<LlmFromConfigOptions, 'use'>, closers: Closers): LlmClient {
  const client = createLlmFromConfig(config, { use, ...deps });
  closers.push(() => client.close());
  return client;
}
