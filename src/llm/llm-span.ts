/**
 * One client span per LLM call (`llm.<role>`), around the whole call: breaker, queueing, retries. Attributes
 * follow the OTel GenAI conventions where they exist (gen_ai.*) plus the service's role and outcome; never a
 * message, a prompt or a completion. With tracing off the call is passed through untouched.
 */
import type { LlmRequest, LlmResponse } from '../agp/ports.js';
import { LlmCallError } from '../agp/ports.js';
import { tracing } from '../agp/tracing.js';

/** Wraps `complete` so each call is a span; `modelOf` names the model the call will use. */
export function withLlmSpans(
  complete: (req: LlmRequest) => Promise<LlmResponse>,
  modelOf: (req: LlmRequest) => string | undefined,
): (req: LlmRequest) => Promise<LlmResponse> {
  return (req) => {
    const t = tracing();
    if (!t.enabled) return complete(req);
    const span = t.start(`llm.${req.role}`, {
      kind: 'client',
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': modelOf(req), 'agp.llm.role': req.role },
    });
    return t.activate(span, async () => {
      try {
        const res = await complete(req);
        span.setAttribute('agp.llm.outcome', 'ok');
        span.setAttribute('gen_ai.response.model', res.model);
        span.setAttribute('gen_ai.usage.input_tokens', res.promptTokens);
        span.setAttribute('gen_ai.usage.output_tokens', res.completionTokens);
        span.setAttribute('agp.llm.attempts', res.attempts);
        return res;
      } catch (err) {
        const reason = err instanceof LlmCallError ? err.reason : 'llm_error';
        span.setAttribute('agp.llm.outcome', reason);
        if (err instanceof LlmCallError && err.usage) {
          span.setAttribute('gen_ai.usage.input_tokens', err.usage.promptTokens);
          span.setAttribute('gen_ai.usage.output_tokens', err.usage.completionTokens);
          span.setAttribute('agp.llm.attempts', err.usage.llmCalls);
        }
        span.fail(err, reason);
        throw err;
      } finally {
        span.end();
      }
    });
  };
}

/** Headers for the outgoing LLM request: the active span's `traceparent` (none with tracing off). */
export function traceHeaders(): Record<string, string> | undefined {
  const traceparent = tracing().traceparent();
  return traceparent === undefined ? undefined : { traceparent };
}
