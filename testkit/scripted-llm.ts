/**
 * An in-process LlmClient whose answers come from a function, for exact, fast trainer and evaluation
 * tests. It records every request, counts tokens deterministically (chars / 4) and can simulate a crash
 * (a plain Error, not an LlmCallError) after N calls.
 */
import type { LlmClient, LlmRequest, LlmResponse } from '../src/agp/ports.js';
import type { LlmRole } from '../src/agp/types.js';

/** Produces the answer text for one request (throw an LlmCallError to simulate an LLM fault). */
export type Script = (req: LlmRequest, index: number) => string | Promise<string>;

/** Options of the scripted client. */
export interface ScriptedOptions {
  /** After this many successful calls, every further call throws `new Error('simulated crash')`. */
  crashAfter?: number;
  /** Abort this controller once this many calls have been made (cancellation tests). */
  abortAfter?: { calls: number; controller: AbortController };
}

/** The scripted client plus what it saw. */
export interface ScriptedLlm extends LlmClient {
  readonly calls: LlmRequest[];
  count(role?: LlmRole): number;
}

const tokens = (s: string) => Math.ceil(s.length / 4);

/** Creates a scripted LLM. */
export function createScriptedLlm(script: Script, opts: ScriptedOptions = {}): ScriptedLlm {
  const calls: LlmRequest[] = [];
  return {
    configured: true,
    calls,
    count: (role) => (role ? calls.filter((c) => c.role === role).length : calls.length),
    async complete(req: LlmRequest): Promise<LlmResponse> {
      if (opts.crashAfter !== undefined && calls.length >= opts.crashAfter) throw new Error('simulated crash');
      const index = calls.length;
      calls.push(req);
      if (opts.abortAfter && calls.length >= opts.abortAfter.calls) opts.abortAfter.controller.abort();
      // Yield so concurrent users interleave as they would against a real endpoint.
      await Promise.resolve();
      const text = await script(req, index);
      return {
        text,
        model: req.model ?? 'scripted',
        promptTokens: tokens(req.messages.map((m) => m.content).join('\n')),
        completionTokens: tokens(text),
        latencyMs: 1,
        attempts: 1,
      };
    },
  };
}
