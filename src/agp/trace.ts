/**
 * LLM call tracing and replay. `createTracingLlm` records every call (successes AND LlmCallErrors) to a
 * sink; `createReplayLlm` answers from such a trace by request hash, so a training run can be re-run
 * with no LLM at all and must reproduce the same prompts.
 */
import { createHash } from 'node:crypto';
import type { ChatMessage, LlmClient, LlmFailureReason, LlmRequest, LlmResponse } from './ports.js';
import { LlmCallError } from './ports.js';
import type { LlmRole, Usage } from './types.js';

/** One recorded LLM call. */
export interface TraceEntry {
  /** 0-based call sequence number within the run (continues across resumes). */
  seq: number;
  role: LlmRole;
  /**
   * The model that answered (as the endpoint reported it). For a failed call, the requested model, or ''
   * when the client's per-role default was asked for.
   */
  model: string;
  /** sha256 over role, requested model and messages. */
  requestHash: string;
  /** Answer text ('' for failures). */
  response: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  /** Present when the call failed with an LlmCallError. */
  error?: { reason: LlmFailureReason; message: string; usage?: Usage | undefined } | undefined;
}

/** Where trace entries go (a JSONL file in the CLI, an array in tests). */
export type TraceSink = (entry: TraceEntry) => void;

/** The stable hash of one request: sha256(role, model, messages). */
export function requestHash(role: LlmRole, model: string | undefined, messages: ChatMessage[]): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([role, model ?? '', messages.map((m) => [m.role, m.content])]));
  return h.digest('hex');
}

/** A tracing client plus its call counter. */
export interface TracingLlm extends LlmClient {
  /** Sequence number the next call will get. */
  readonly seq: number;
}

/**
 * Wraps a client so every call is recorded. Sequence numbers start at `startSeq` (a resumed run
 * continues its trace). Only LlmCallErrors are recorded as failures; other errors (aborts, crashes,
 * budget stops) are not part of the run's history and are passed through unrecorded.
 */
export function createTracingLlm(inner: LlmClient, sink: TraceSink, startSeq = 0): TracingLlm {
  let seq = startSeq;
  return {
    get configured() {
      return inner.configured;
    },
    get seq() {
      return seq;
    },
    async complete(req: LlmRequest): Promise<LlmResponse> {
      const hash = requestHash(req.role, req.model, req.messages);
      const base = { role: req.role, model: req.model ?? '', requestHash: hash };
      try {
        const res = await inner.complete(req);
        sink({
          seq: seq++,
          ...base,
          model: res.model || base.model,
          response: res.text,
          promptTokens: res.promptTokens,
          completionTokens: res.completionTokens,
          latencyMs: res.latencyMs,
        });
        return res;
      } catch (err) {
        if (err instanceof LlmCallError) {
          sink({
            seq: seq++,
            ...base,
            response: '',
            promptTokens: err.usage?.promptTokens ?? 0,
            completionTokens: err.usage?.completionTokens ?? 0,
            latencyMs: 0,
            error: { reason: err.reason, message: err.message, usage: err.usage },
          });
        }
        throw err;
      }
    },
  };
}

/** Raised by the replay client when a request is not in the trace (the run diverged). */
export class TraceMissError extends Error {
  override readonly name = 'TraceMissError';
}

/** A replay client that also reports how much of the trace it used. */
export interface ReplayLlm extends LlmClient {
  /** Calls answered so far. */
  readonly served: number;
  /** Entries never used. */
  remaining(): number;
}

/**
 * Answers requests from a trace by request hash; repeated hashes are served in `seq` order. When the
 * same `seq` appears more than once (a crashed run's tail re-done after resume), the LAST written entry
 * wins. Recorded failures are re-thrown as LlmCallError. Unknown or exhausted requests throw
 * TraceMissError.
 */
export function createReplayLlm(entries: readonly TraceEntry[]): ReplayLlm {
  const bySeq = new Map<number, TraceEntry>();
  for (const e of entries) bySeq.set(e.seq, e);
  const queues = new Map<string, TraceEntry[]>();
  for (const e of [...bySeq.values()].sort((a, b) => a.seq - b.seq)) {
    const q = queues.get(e.requestHash);
    if (q) q.push(e);
    else queues.set(e.requestHash, [e]);
  }
  let served = 0;
  return {
    configured: true,
    get served() {
      return served;
    },
    remaining: () => [...queues.values()].reduce((n, q) => n + q.length, 0),
    complete(req: LlmRequest): Promise<LlmResponse> {
      const hash = requestHash(req.role, req.model, req.messages);
      const e = queues.get(hash)?.shift();
      if (!e) {
        return Promise.reject(
          new TraceMissError(`replay: no recorded ${req.role} call with request hash ${hash.slice(0, 12)} (the run diverged from the trace)`),
        );
      }
      served += 1;
      if (e.error) return Promise.reject(new LlmCallError(e.error.reason, e.error.message, e.error.usage));
      return Promise.resolve({
        text: e.response,
        model: e.model,
        promptTokens: e.promptTokens,
        completionTokens: e.completionTokens,
        latencyMs: e.latencyMs,
        attempts: 1,
      });
    },
  };
}

/** Parses a JSONL trace; a bad line throws naming its line number. */
export function parseTrace(text: string, source = '<trace>'): TraceEntry[] {
  const out: TraceEntry[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as TraceEntry;
      if (typeof e.seq !== 'number' || typeof e.requestHash !== 'string' || typeof e.response !== 'string') {
        throw new Error('missing seq, requestHash or response');
      }
      out.push(e);
    } catch (err) {
      throw new Error(`${source}:${i + 1}: invalid trace entry (${(err as Error).message})`);
    }
  }
  return out;
}
