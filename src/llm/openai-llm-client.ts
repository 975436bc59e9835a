/**
 * The LlmClient adapter over the official openai SDK.
 *
 * Per call: breaker permit → concurrency slot → attempts (each bounded by the absolute deadline)
 * → accounting. The SDK's own retries are off (`maxRetries: 0`): ours respect the deadline and
 * never sleep past it. Every failure becomes an LlmCallError whose reason maps onto a fallback reason.
 *
 * Logs carry role, model, status, attempts and latency only: never the API key or message contents.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { Clock, LlmClient, LlmFailureReason, LlmRequest, LlmResponse, Logger } from '../agp/ports.js';
import { LlmCallError, silentLogger, systemClock } from '../agp/ports.js';
import type { LlmRole } from '../agp/types.js';
import { emptyUsage } from '../agp/types.js';
import type { Metrics } from '../observability/metrics.js';
import { BREAKER_STATE_VALUE, createCircuitBreaker } from './circuit-breaker.js';
import type { BreakerPermit, CircuitBreaker } from './circuit-breaker.js';
import { createConcurrencyGate } from './concurrency-gate.js';
import type { ConcurrencyGate } from './concurrency-gate.js';
import { createUndiciFetch } from './undici-fetch.js';
import type { FetchLike } from './undici-fetch.js';

export type LlmMetrics = Pick<Metrics, 'llmCalls' | 'llmDuration' | 'llmTokens' | 'breakerState' | 'llmInflight'>;

export interface OpenAiLlmClientOptions {
  baseUrl?: string | undefined;
  apiKey?: string | undefined;
  models: Record<LlmRole, string | undefined>;
  defaultModel?: string | undefined;
  /**
   * False marks the client unconfigured even with an endpoint and a model: the runtime passes config.ts's
   * one definition (llmConfigured), which also asks for a model for every role the client's use calls.
   */
  configured?: boolean | undefined;
  temperature: number;
  maxConcurrency: number;
  /** Longest wait for a concurrency slot (0 = do not wait); never past the call's deadline. */
  queueTimeoutMs: number;
  /** Retries after the first attempt, on 429, 5xx and connection errors only. */
  maxRetries: number;
  structuredOutput: boolean;
  breaker: { failureThreshold: number; resetMs: number };
  metrics?: LlmMetrics | undefined;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
  /** Transport override (tests); defaults to the pooled undici fetch. */
  fetch?: FetchLike | undefined;
  /** Jitter source in [0, 1) (tests); defaults to Math.random. */
  random?: (() => number) | undefined;
}

export interface OpenAiLlmClient extends LlmClient {
  readonly breaker: Pick<CircuitBreaker, 'state' | 'consecutiveFailures'>;
  readonly gate: Pick<ConcurrencyGate, 'inflight' | 'waiting' | 'maxConcurrency'>;
  /** Closes the pooled connections (waits for in-flight calls). */
  close(): Promise<void>;
}

export const BACKOFF_BASE_MS = 50;
export const BACKOFF_CAP_MS = 1_000;
/** Node timers overflow above 2^31-1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** Full-jitter exponential backoff before retry number `retry` (1-based). */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** Server-requested wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), else undefined. */
export function retryAfterMs(headers: Headers | undefined, nowMs: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

type Outcome = 'ok' | LlmFailureReason;

export function createOpenAiLlmClient(opts: OpenAiLlmClientOptions): OpenAiLlmClient {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger ?? silentLogger;
  const metrics = opts.metrics;
  const random = opts.random ?? Math.random;
  const hasEndpoint = Boolean(opts.baseUrl || opts.apiKey);
  const hasModel = Boolean(opts.defaultModel) || Object.values(opts.models).some(Boolean);
  const configured = (opts.configured ?? true) && hasEndpoint && hasModel;

  const breaker = createCircuitBreaker({
    failureThreshold: opts.breaker.failureThreshold,
    resetMs: opts.breaker.resetMs,
    clock,
    onStateChange: (state, previous) => {
      metrics?.breakerState.set(BREAKER_STATE_VALUE[state]);
      log[state === 'open' ? 'warn' : 'info']({ breaker: state, previous }, 'llm circuit breaker state change');
    },
  });
  const gate = createConcurrencyGate({
    maxConcurrency: opts.maxConcurrency,
    onChange: metrics ? (inflight) => metrics.llmInflight.set(inflight) : undefined,
  });
  metrics?.breakerState.set(BREAKER_STATE_VALUE.closed);

  const transport = configured && !opts.fetch ? createUndiciFetch({ connections: opts.maxConcurrency }) : undefined;
  const sdk = configured
    ? new OpenAI({
        // A placeholder keeps the SDK from reading OPENAI_API_KEY for keyless local endpoints.
        apiKey: opts.apiKey || 'unused',
        baseURL: opts.baseUrl ?? 'https://api.openai.com/v1',
        organization: null,
        project: null,
        maxRetries: 0,
        fetch: opts.fetch ?? transport?.fetch,
        // The SDK's debug logs include request bodies; all logging goes through our logger instead.
        logLevel: 'off',
      })
    : undefined;

  const record = (role: LlmRole, outcome: Outcome, startedAt: number) => {
    if (!metrics) return;
    metrics.llmCalls.inc({ role, outcome });
    metrics.llmDuration.observe({ role, outcome }, Math.max(0, clock.now() - startedAt) / 1000);
  };

  async function complete(req: LlmRequest): Promise<LlmResponse> {
    const { role, deadline } = req;
    const model = req.model ?? opts.models[role] ?? opts.defaultModel;
    if (!sdk || !model) throw new LlmCallError('llm_unconfigured', `no LLM endpoint or model configured for ${role}`);

    const startedAt = clock.now();
    const usage = emptyUsage();
    let attempts = 0;
    let status: number | undefined;
    const fail = (reason: LlmFailureReason, message: string): LlmCallError => {
      record(role, reason, startedAt);
      const level = reason === 'overloaded' || reason === 'circuit_open' ? 'debug' : 'warn';
      log[level]({ role, model, reason, status, attempts, latencyMs: clock.now() - startedAt }, 'llm call failed');
      return new LlmCallError(reason, message, { ...usage });
    };

    if (req.signal?.aborted) throw fail('timeout', 'aborted by caller');
    if (startedAt >= deadline) throw fail('timeout', 'deadline already passed');

    const permit = breaker.tryAcquire();
    if (!permit) throw fail('circuit_open', 'circuit breaker is open');

    if (!gate.tryAcquire()) {
      try {
        await gate.acquire(Math.min(opts.queueTimeoutMs, deadline - clock.now()), req.signal);
      } catch {
        permit.release();
        if (req.signal?.aborted) throw fail('timeout', 'aborted by caller while queued');
        throw fail('overloaded', 'no LLM concurrency slot within the queue timeout');
      }
    }

    // One controller for the whole call: fires at the deadline or when the caller aborts.
    const ctl = new AbortController();
    const untilDeadline = deadline - clock.now();
    const timer =
      untilDeadline <= MAX_TIMER_MS
        ? setTimeout(() => ctl.abort(new DOMException('deadline exceeded', 'TimeoutError')), Math.max(0, untilDeadline))
        : undefined;
    const callerSignal = req.signal;
    const onCallerAbort = () => ctl.abort(callerSignal?.reason);
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });

    const body: ChatCompletionCreateParamsNonStreaming = {
      model,
      messages: req.messages,
      temperature: req.temperature ?? opts.temperature,
      ...(req.maxTokens !== undefined && { max_tokens: req.maxTokens }),
      ...(opts.structuredOutput &&
        req.responseFormat && {
          response_format: {
            type: 'json_schema',
            json_schema: { name: req.responseFormat.name, schema: req.responseFormat.schema, strict: true },
          },
        }),
    };

    /** Deadline or caller abort: caller aborts say nothing about the endpoint, so they don't trip the breaker. */
    const timedOut = (p: BreakerPermit, message: string) => {
      if (callerSignal?.aborted) {
        p.release();
        return fail('timeout', 'aborted by caller');
      }
      p.failure();
      return fail('timeout', message);
    };

    try {
      for (;;) {
        const remaining = deadline - clock.now();
        if (remaining <= 0 || ctl.signal.aborted) throw timedOut(permit, 'deadline exceeded');
        attempts++;
        usage.llmCalls++;
        let completion: ChatCompletion;
        try {
          completion = await sdk.chat.completions.create(body, {
            signal: ctl.signal,
            timeout: Math.max(1, Math.ceil(remaining)),
            maxRetries: 0,
          });
        } catch (err) {
          // The SDK's own timeout is our remaining budget, so its timeout is our deadline even when its timer
          // fires a millisecond before the clock reads the deadline (libuv caches loop time).
          if (ctl.signal.aborted || clock.now() >= deadline || err instanceof APIConnectionTimeoutError) {
            throw timedOut(permit, 'deadline exceeded');
          }
          const httpStatus = err instanceof APIError ? err.status : undefined;
          status = httpStatus;
          const retryable =
            httpStatus === 429 || (httpStatus !== undefined && httpStatus >= 500) || err instanceof APIConnectionError;
          if (!retryable) {
            // An HTTP answer (4xx) proves the endpoint is up; anything else is unexpected.
            if (httpStatus !== undefined) permit.success();
            else permit.failure();
            throw fail('llm_error', `LLM request failed${httpStatus ? ` with status ${httpStatus}` : ''}`);
          }
          if (attempts > opts.maxRetries) {
            permit.failure();
            throw fail('llm_error', `LLM request failed after ${attempts} attempt(s)`);
          }
          const headers = err instanceof APIError ? err.headers : undefined;
          const delay = retryAfterMs(headers) ?? backoffMs(attempts, random);
          const now = clock.now();
          if (now >= deadline) throw timedOut(permit, 'deadline exceeded');
          if (now + delay >= deadline) {
            permit.failure();
            throw fail('llm_error', `retry in ${Math.round(delay)}ms would pass the deadline`);
          }
          try {
            await sleep(delay, ctl.signal);
          } catch {
            throw timedOut(permit, 'deadline exceeded while backing off');
          }
          continue;
        }

        status = 200;
        const promptTokens = completion.usage?.prompt_tokens ?? 0;
        const completionTokens = completion.usage?.completion_tokens ?? 0;
        usage.promptTokens += promptTokens;
        usage.completionTokens += completionTokens;
        if (metrics) {
          metrics.llmTokens.inc({ role, kind: 'prompt' }, promptTokens);
          metrics.llmTokens.inc({ role, kind: 'completion' }, completionTokens);
        }
        permit.success();
        const choices = Array.isArray(completion.choices) ? completion.choices : [];
        const text = choices[0]?.message?.content;
        if (typeof text !== 'string' || text.trim() === '') throw fail('llm_error', 'empty completion');

        record(role, 'ok', startedAt);
        const latencyMs = clock.now() - startedAt;
        log.debug({ role, model, status, attempts, latencyMs }, 'llm call ok');
        return {
          text,
          model: typeof completion.model === 'string' && completion.model ? completion.model : model,
          promptTokens,
          completionTokens,
          latencyMs,
          attempts,
        };
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
      gate.release();
    }
  }

  return {
    configured,
    complete,
    breaker: {
      get state() {
        return breaker.state;
      },
      get consecutiveFailures() {
        return breaker.consecutiveFailures;
      },
    },
    gate,
    close: async () => {
      await transport?.close();
    },
  };
}
