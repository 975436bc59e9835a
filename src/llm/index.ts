/** The LLM adapter: the openai SDK over a pooled undici transport, with deadline, retries, breaker and gate. */
export { createOpenAiLlmClient, backoffMs, retryAfterMs, BACKOFF_BASE_MS, BACKOFF_CAP_MS } from './openai-llm-client.js';
export type { OpenAiLlmClient, OpenAiLlmClientOptions, LlmMetrics } from './openai-llm-client.js';
export { createCircuitBreaker, BREAKER_STATE_VALUE } from './circuit-breaker.js';
export type { BreakerPermit, BreakerState, CircuitBreaker, CircuitBreakerOptions } from './circuit-breaker.js';
export { createConcurrencyGate, GateOverloadedError } from './concurrency-gate.js';
export type { ConcurrencyGate, ConcurrencyGateOptions } from './concurrency-gate.js';
export { createUndiciFetch } from './undici-fetch.js';
export type { FetchLike, UndiciFetchOptions, UndiciTransport } from './undici-fetch.js';
