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
import type { LlmCallOutcome, Metrics } from '../observability/metrics.js';
import { BREAKER_STATE_VALUE, createCircuitBreaker } from './circuit-breaker.js';
import type { BreakerPermit, CircuitBreaker } from './circuit-breaker.js';
import { createConcurrencyGate } from './concurrency-gate.js';
import type { ConcurrencyGate } from './concurrency-gate.js';
import { readCompletionModel, readCompletionText, readReportedUsage } from './completion-body.js';
import { backoffMs, retryAfterMs, sleep } from './retry-timing.js';
import { createUndiciFetch, responseTooLarge } from './undici-fetch.js';
import { traceHeaders, withLlmSpans } from './llm-span.js';
import type { FetchLike } from './undici-fetch.js';

export type LlmMetrics = Pick<Metrics, 'llmCalls' | 'llmDuration' | 'llmTokens' | 'breakerState' | 'llmInflight' | 'llmAnomalies'>;

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
  /** Most bytes read from one response body; past it the call fails with llm_error (default: the transport's). */
  maxResponseBytes?: number | undefined;
  /**
   * The only values the `model` label of the LLM metrics may take (the runtime passes config.ts knownModels);
   * any other model is labelled `other`. Default: the models of `models` and `defaultModel`.
   */
  modelLabels?: ReadonlySet<string> | undefined;
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

/** The `model` label of a model outside OpenAiLlmClientOptions.modelLabels. */
export const OTHER_MODEL_LABEL = 'other';

/** Node timers overflow above 2^31-1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

export { BACKOFF_BASE_MS, BACKOFF_CAP_MS, backoffMs, retryAfterMs } from './retry-timing.js';

/**
 * The metric outcome of a call its caller aborted: `cancelled`, unless the caller's own signal was a timer
 * (a TimeoutError reason, as from AbortSignal.timeout), which is a deadline like ours.
 */
export function callerAbortOutcome(signal: AbortSignal): 'timeout' | 'cancelled' {
  const reason: unknown = signal.reason;
  return reason instanceof DOMException && reason.name === 'TimeoutError' ? 'timeout' : 'cancelled';
}

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

  const transport =
    configured && !opts.fetch
      ? createUndiciFetch({ connections: opts.maxConcurrency, maxResponseBytes: opts.maxResponseBytes })
      : undefined;
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

  // Bounded label values: a request's model was checked against LLM_MODELS, but the label does not rely on it.
  const modelLabels = opts.modelLabels ?? new Set([...Object.values(opts.models), opts.defaultModel].filter((m): m is string => Boolean(m)));
  const modelLabel = (model: string): string => (modelLabels.has(model) ? model : OTHER_MODEL_LABEL);
  const record = (role: LlmRole, model: string, outcome: LlmCallOutcome, startedAt: number) => {
    if (!metrics) return;
    const labels = { role, outcome, model: modelLabel(model) };
    metrics.llmCalls.inc(labels);
    metrics.llmDuration.observe(labels, Math.max(0, clock.now() - startedAt) / 1000);
  };
  const anomaly = (role: LlmRole, kind: 'prompt_tokens' | 'completion_tokens' | 'malformed_body' | 'too_large') =>
    metrics?.llmAnomalies.inc({ role, kind });

  async function complete(req: LlmRequest): Promise<LlmResponse> {
    const { role, deadline } = req;
    const model = req.model ?? opts.models[role] ?? opts.defaultModel;
    if (!sdk || !model) throw new LlmCallError('llm_unconfigured', `no LLM endpoint or model configured for ${role}`);

    const startedAt = clock.now();
    const usage = emptyUsage();
    let attempts = 0;
    let status: number | undefined;
    // `outcome` differs from `reason` only for caller aborts: the caller sees the public fallback reason
    // `timeout`, while the metric says `cancelled` so that cancelling is not counted as an endpoint timeout.
    const fail = (reason: LlmFailureReason, message: string, outcome: LlmCallOutcome = reason): LlmCallError => {
      record(role, model, outcome, startedAt);
      const level = reason === 'overloaded' || reason === 'circuit_open' || outcome === 'cancelled' ? 'debug' : 'warn';
      log[level]({ role, model, reason, outcome, status, attempts, latencyMs: clock.now() - startedAt }, 'llm call failed');
      return new LlmCallError(reason, message, { ...usage });
    };
    const aborted = (signal: AbortSignal, message: string) => fail('timeout', message, callerAbortOutcome(signal));

    if (req.signal?.aborted) throw aborted(req.signal, 'aborted by caller');
    if (startedAt >= deadline) throw fail('timeout', 'deadline already passed');

    const permit = breaker.tryAcquire();
    if (!permit) throw fail('circuit_open', 'circuit breaker is open');

    if (!gate.tryAcquire()) {
      try {
        await gate.acquire(Math.min(opts.queueTimeoutMs, deadline - clock.now()), req.signal);
      } catch {
        permit.release();
        if (req.signal?.aborted) throw aborted(req.signal, 'aborted by caller while queued');
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

    // W3C trace context for the endpoint (the call's span is active here); undefined with tracing off.
    const headers = traceHeaders();
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
        return aborted(callerSignal, 'aborted by caller');
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
            ...(headers && { headers }),
          });
        } catch (err) {
          // The SDK's own timeout is our remaining budget, so its timeout is our deadline even when its timer
          // fires a millisecond before the clock reads the deadline (libuv caches loop time).
          if (ctl.signal.aborted || clock.now() >= deadline || err instanceof APIConnectionTimeoutError) {
            throw timedOut(permit, 'deadline exceeded');
          }
          const tooLarge = responseTooLarge(err);
          if (tooLarge) {
            // Not retried: the same endpoint would very likely send the same flood again.
            anomaly(role, 'too_large');
            permit.failure();
            throw fail('llm_error', `LLM ${tooLarge.message}`);
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
        // An HTTP answer proves the endpoint is up, whatever its body holds; settled first so nothing below
        // can leave a half-open probe unsettled.
        permit.success();
        // The body is untrusted (typed ChatCompletion only by the SDK's say-so): it may be null, and usage
        // may be negative, a string or 1e308.
        const answer: unknown = completion;
        const { promptTokens, completionTokens, anomalies } = readReportedUsage(answer);
        usage.promptTokens += promptTokens;
        usage.completionTokens += completionTokens;
        if (metrics) {
          metrics.llmTokens.inc({ role, kind: 'prompt', model: modelLabel(model) }, promptTokens);
          metrics.llmTokens.inc({ role, kind: 'completion', model: modelLabel(model) }, completionTokens);
        }
        for (const kind of anomalies) anomaly(role, `${kind}_tokens`);
        if (anomalies.length > 0) log.warn({ role, model, anomalies }, 'llm reported invalid usage; counted as 0 or clamped');
        const text = readCompletionText(answer);
        if (text === undefined) {
          anomaly(role, 'malformed_body');
          throw fail('llm_error', 'completion without message content');
        }
        if (text.trim() === '') throw fail('llm_error', 'empty completion');

        record(role, model, 'ok', startedAt);
        const latencyMs = clock.now() - startedAt;
        log.debug({ role, model, status, attempts, latencyMs }, 'llm call ok');
        return {
          text,
          model: readCompletionModel(answer) ?? model,
          promptTokens,
          completionTokens,
          latencyMs,
          attempts,
        };
      }
    } catch (err) {
      if (err instanceof LlmCallError) throw err;
      // Unreachable by design; if it happens anyway, the probe is still settled and the caller gets llm_error.
      permit.failure();
      throw fail('llm_error', `unexpected error: ${err instanceof Error ? err.name : typeof err}`);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
      gate.release();
    }
  }

  return {
    configured,
    complete: withLlmSpans(complete, (req) => req.model ?? opts.models[req.role] ?? opts.defaultModel),
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
