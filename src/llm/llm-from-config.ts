/**
 * The OpenAI-SDK LLM client built from Config: one mapping shared by the service, the worker and the CLI.
 */
import type { Config } from '../config.js';
import type { Logger } from '../agp/ports.js';
import type { Metrics } from '../observability/metrics.js';
import { createOpenAiLlmClient, type OpenAiLlmClient } from './openai-llm-client.js';

/** How long a training LLM call may wait for a concurrency slot (API-embedded worker, `agp worker`, CLI). */
export const TRAINING_LLM_QUEUE_TIMEOUT_MS = 60_000;

/** Per-process differences: serving sheds load fast; batch work (training) waits for a slot. */
export interface LlmFromConfigOptions {
  metrics?: Metrics | undefined;
  logger?: Logger | undefined;
  /** Overrides LLM_QUEUE_TIMEOUT_MS (training waits up to a minute instead of shedding). */
  queueTimeoutMs?: number | undefined;
}

/** Builds the LLM client from config. */
export function createLlmFromConfig(config: Config, opts: LlmFromConfigOptions = {}): OpenAiLlmClient {
  return createOpenAiLlmClient({
    baseUrl: config.llm.baseUrl,
    apiKey: config.llm.apiKey,
    models: config.llm.models,
    defaultModel: config.llm.model,
    temperature: config.llm.temperature,
    maxConcurrency: config.llm.maxConcurrency,
    queueTimeoutMs: opts.queueTimeoutMs ?? config.llm.queueTimeoutMs,
    maxRetries: config.llm.maxRetries,
    structuredOutput: config.llm.structuredOutput,
    breaker: config.llm.breaker,
    maxResponseBytes: config.llm.maxResponseBytes,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
}
