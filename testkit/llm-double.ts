/**
 * An OpenAI-compatible test server (plain node:http on 127.0.0.1, ephemeral port).
 *
 * Speaks the real wire protocol for `POST /v1/chat/completions` (non-streaming) and `GET /v1/models`,
 * so adapters are exercised through the real openai SDK. Failure modes, latency, chaos and scripted
 * replies make timeouts, retries and the circuit breaker testable; the default answer is a
 * deterministic, useful reranking (word overlap with the profile/history), good enough for demos.
 * Profiles, summarise, edit and reason answers model the taste world (taste-world.ts), in which a profile
 * prompt that asks about more of what users care about ranks better, so training has something to learn.
 *
 * Prompt conventions understood: `<candidates>` with lines `[n] Title — text`, answer
 * `<ranking>3, 1, 2</ranking>` (or `{"ranking":[3,1,2]}` with a json_schema response_format);
 * `<profile>` / `<history>` blocks supply the words candidates are scored against.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { editedPrompt, sabotagedEdit, worldInstruction, worldProfile, worldReason } from './taste-world.js';
import type { ContrarianHandling } from './taste-world.js';
import { biasedRanking, type PositionBias } from './position-bias.js';

export type LlmDoubleMode =
  | 'ok'
  | 'error500'
  | 'error429'
  | 'error400'
  | 'hang'
  | 'drop'
  | 'junk'
  | 'empty'
  | 'partial'
  | 'repairable';

/** Probabilities per request (the rest is 'ok'), drawn from a seeded RNG. */
export interface ChaosOptions {
  error500?: number;
  error429?: number;
  hang?: number;
  junk?: number;
  partial?: number;
  repairable?: number;
}

/** A fixed delay, a jittered one, or one chosen per call (e.g. slow only for calls whose prompt says so). */
export type Latency = number | { meanMs: number; jitterMs: number } | ((call: RecordedCall) => number);

export interface DoubleMessage {
  role: string;
  content: string;
}

/** What the double received (and what it chose to serve). */
export interface RecordedCall<M extends string = LlmDoubleMode> {
  role: 'profile' | 'rerank' | 'summarise' | 'edit' | 'reason' | 'unknown';
  model: string;
  messages: DoubleMessage[];
  response_format: unknown;
  max_tokens: number | undefined;
  temperature: number | undefined;
  /** The W3C `traceparent` is kept so tracing tests can check propagation to the endpoint. */
  headers: { authorization: string | undefined; traceparent?: string | undefined };
  mode: M;
  at: number;
}

/** A scripted reply: return content, or undefined to fall through to the default answer. */
export type ScriptFn = (req: RecordedCall) => string | undefined;

export interface LlmDoubleOptions {
  mode?: LlmDoubleMode;
  latency?: Latency;
  chaos?: ChaosOptions;
  /** Seed for chaos and latency jitter (default 42). */
  seed?: number;
  /** `Retry-After` header on 429 (default '1'; null omits it). */
  retryAfter?: string | null;
  /** `retry-after-ms` header on 429 (default none). */
  retryAfterMs?: number | null;
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** Model ids listed by GET /v1/models (default ['double-model']). */
  models?: string[];
  /** Port to listen on (default 0: an ephemeral port). */
  port?: number;
  /** A position-biased reranker (position-bias.ts): with probability p, prompt-early items first. */
  positionBias?: PositionBias;
  /**
   * How the optimiser's edit requests are answered: 'improve' (default) appends the instruction; 'sabotage'
   * also appends the taste world's contrarian line (taste-world.ts SABOTAGE_LINE): a trainer forced to
   * produce a bad prompt.
   */
  editPolicy?: EditPolicy;
  /**
   * Whether profiles follow a contrarian line ('follow', default: the profile names everything the user does
   * not choose) or ignore it. 'ignore' while training and 'follow' while serving make a sabotaged prompt that
   * looks like an improvement offline and is worse online: what a canary is for.
   */
  contrarian?: ContrarianHandling;
}

/** How the double answers edit requests (see LlmDoubleOptions.editPolicy). */
export type EditPolicy = 'improve' | 'sabotage';

/** World knobs of answerFor beyond the failure mode. */
export interface WorldSettings {
  bias?: PositionBias | undefined;
  editPolicy?: EditPolicy | undefined;
  contrarian?: ContrarianHandling | undefined;
}

export interface LlmDouble {
  /** Base URL ending in /v1. */
  url: string;
  port: number;
  calls: RecordedCall[];
  setMode(mode: LlmDoubleMode): void;
  setLatency(latency: Latency): void;
  setChaos(chaos: ChaosOptions | undefined): void;
  setRetryAfter(headers: { retryAfter?: string | null; retryAfterMs?: number | null }): void;
  /** Turns the position-biased reranker on (or off with undefined). */
  setPositionBias(bias: PositionBias | undefined): void;
  /** Switches how edit requests are answered (see LlmDoubleOptions.editPolicy). */
  setEditPolicy(policy: EditPolicy): void;
  /** Switches whether profiles follow a contrarian line (see LlmDoubleOptions.contrarian). */
  setContrarian(handling: ContrarianHandling): void;
  script(fn: ScriptFn | undefined): void;
  /** The next `n` chat requests are served with `mode`, before chaos or the current mode apply. */
  failNext(n: number, mode: LlmDoubleMode): void;
  /** Clears calls, script and queued failures; back to the construction options. */
  reset(): void;
  close(): Promise<void>;
}

const STOPWORDS = new Set(
  'the and for with from that this into your you are was were has have not but all any its our out about over'.split(' '),
);

/** Lower-case words of 3+ characters, minus a few stopwords. */
export function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length >= 3 && !STOPWORDS.has(w));
}

function block(text: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'i').exec(text);
  return m?.[1];
}

/** Candidate lines `[n] Title — text` of a `<candidates>` block. */
export function parseCandidates(text: string): Array<{ n: number; text: string }> {
  const body = block(text, 'candidates');
  if (body === undefined) return [];
  const out: Array<{ n: number; text: string }> = [];
  for (const line of body.split('\n')) {
    const m = /^\s*\[(\d+)\]\s+(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) out.push({ n: Number(m[1]), text: m[2] });
  }
  return out;
}

/** Candidate numbers ordered by word overlap with the profile/history words; ties keep the original order. */
export function rankByOverlap(candidates: Array<{ n: number; text: string }>, contextText: string): number[] {
  const vocab = new Set(words(contextText));
  return candidates
    .map((c, i) => ({ n: c.n, i, score: [...new Set(words(c.text))].filter((w) => vocab.has(w)).length }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map((c) => c.n);
}

/** "Enjoys: a, b, c." from the most frequent words of the history titles. */
export function profileFromHistory(history: string): string {
  const counts = new Map<string, number>();
  for (const line of history.split('\n')) {
    const title = line.replace(/^\s*(?:\[\d+\]|[-*•]|\d+[.)])\s*/, '').split(' — ')[0] ?? '';
    for (const w of words(title)) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const top = [...counts.entries()]
    .sort((a, b) => b[1] - a[1]) // stable: first appearance breaks ties
    .slice(0, 5)
    .map(([w]) => w);
  return top.length > 0 ? `Enjoys: ${top.join(', ')}.` : 'Enjoys: a bit of everything.';
}

/**
 * The role of a request, from the prompt builders' fixed wording (src/agp/prompts.ts): the optimiser's
 * summarise and edit requests name their reply format, reason requests carry one <feedback> block.
 */
export function roleOf(messages: readonly DoubleMessage[]): RecordedCall['role'] {
  const system = messages.find((m) => m.role === 'system')?.content ?? '';
  const user = messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  if (user.includes('Reply with the instruction only')) return 'summarise';
  if (user.includes('Return the complete revised prompt between <prompt>')) return 'edit';
  if (user.includes('<feedback>')) return 'reason';
  if (user.includes('<candidates>')) return 'rerank';
  if (user.includes('<history>') || system.includes('user-preference profiles')) return 'profile';
  return 'unknown';
}

/** The role of a recorded call, or an error for a request no prompt builder makes. */
export function knownRole(call: RecordedCall): Exclude<RecordedCall['role'], 'unknown'> {
  if (call.role === 'unknown') throw new Error(`unrecognised LLM request: ${call.messages.at(-1)?.content.slice(0, 200) ?? ''}`);
  return call.role;
}

/** mulberry32: small, seeded, good enough for test chaos. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const tokens = (chars: number) => Math.ceil(chars / 4);

/** The double's answer to `call` under `mode` ('ok' is the honest, useful answer) in a world set up by `settings`. */
export function answerFor(call: RecordedCall<string>, mode: LlmDoubleMode = 'ok', settings: WorldSettings = {}): string {
  const bias = settings.bias;
  const structured =
    typeof call.response_format === 'object' &&
    call.response_format !== null &&
    (call.response_format as { type?: unknown }).type === 'json_schema';
  const lastUser = [...call.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const all = call.messages.map((m) => m.content).join('\n');
  if (mode === 'junk') return 'These all look like wonderful choices; the user will surely enjoy several of them.';
  if (mode === 'empty') return '';
  const candidates = parseCandidates(lastUser);
  if (candidates.length > 0) {
    let ranking = rankByOverlap(candidates, `${block(all, 'profile') ?? ''}\n${block(all, 'history') ?? ''}`);
    if (bias) ranking = biasedRanking(candidates.map((c) => c.n), ranking, bias, lastUser);
    if (mode === 'partial') ranking = ranking.slice(0, Math.max(1, Math.floor((ranking.length - 1) / 2)));
    if (mode === 'repairable' && ranking.length >= 2) ranking = [...ranking.slice(0, -1), ranking[0] as number];
    return structured ? JSON.stringify({ ranking }) : `<ranking>${ranking.join(', ')}</ranking>`;
  }
  if (call.role === 'summarise') return worldInstruction(call.messages[1]?.content ?? '', call.messages.slice(2).map((m) => m.content).join('\n'));
  if (call.role === 'edit') return settings.editPolicy === 'sabotage' ? sabotagedEdit(lastUser) : editedPrompt(lastUser);
  if (call.role === 'reason') return worldReason(lastUser);
  const history = block(all, 'history');
  if (history === undefined) return 'Noted. Prefer recent, specific interests over generic ones.';
  const prompt = lastUser.split('<history>')[0] ?? '';
  const lines = history.split('\n').map((l) => l.replace(/^\s*-\s*/, '').trim()).filter(Boolean);
  return worldProfile(prompt, lines, settings.contrarian ?? 'follow') ?? profileFromHistory(history);
}

/** Calls `onBody` with the request body as UTF-8 once it has all arrived. */
export function readBody(req: IncomingMessage, onBody: (raw: string) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => onBody(Buffer.concat(chunks).toString('utf8')));
}

/** A chat-completions request body as the double records it, or undefined when the body is not JSON. */
export function parseChatRequest<M extends string>(req: IncomingMessage, raw: string, mode: M): RecordedCall<M> | undefined {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const messages = (Array.isArray(parsed.messages) ? parsed.messages : []).map((m: { role?: unknown; content?: unknown }) => ({
    role: String(m.role),
    content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? ''),
  }));
  return {
    role: roleOf(messages),
    model: String(parsed.model ?? ''),
    messages,
    response_format: parsed.response_format,
    max_tokens: typeof parsed.max_tokens === 'number' ? parsed.max_tokens : undefined,
    temperature: typeof parsed.temperature === 'number' ? parsed.temperature : undefined,
    headers: { authorization: req.headers.authorization, traceparent: typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined },
    mode,
    at: Date.now(),
  };
}

/** A `chat.completion` object answering `call` with `content`; usage is estimated at 4 characters a token. */
export function completionFor(call: RecordedCall<string>, content: string, opts: { id: string; model: string }) {
  const promptTokens = tokens(call.messages.reduce((n, m) => n + m.content.length, 0));
  const completionTokens = tokens(content.length);
  return {
    id: opts.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: call.model || opts.model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

export async function startLlmDouble(opts: LlmDoubleOptions = {}): Promise<LlmDouble> {
  let mode: LlmDoubleMode = opts.mode ?? 'ok';
  let latency: Latency = opts.latency ?? 0;
  let chaos = opts.chaos;
  let retryAfter = opts.retryAfter === undefined ? '1' : opts.retryAfter;
  let retryAfterMsHeader = opts.retryAfterMs ?? null;
  let scriptFn: ScriptFn | undefined;
  let positionBias = opts.positionBias;
  let editPolicy: EditPolicy = opts.editPolicy ?? 'improve';
  let contrarian: ContrarianHandling = opts.contrarian ?? 'follow';
  let random = rng(opts.seed ?? 42);
  const queued: LlmDoubleMode[] = [];
  const calls: RecordedCall[] = [];
  const sockets = new Set<Socket>();
  const models = opts.models ?? ['double-model'];

  const pickMode = (): LlmDoubleMode => {
    const next = queued.shift();
    if (next) return next;
    if (chaos) {
      let r = random();
      for (const m of ['error500', 'error429', 'hang', 'junk', 'partial', 'repairable'] as const) {
        const p = chaos[m] ?? 0;
        if (r < p) return m;
        r -= p;
      }
      return 'ok';
    }
    return mode;
  };

  const delayMs = (call: RecordedCall): number => {
    if (typeof latency === 'number') return latency;
    if (typeof latency === 'function') return latency(call);
    return Math.max(0, latency.meanMs + (random() * 2 - 1) * latency.jitterMs);
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const sendError = (res: ServerResponse, status: number, type: string, headers: Record<string, string> = {}) =>
    sendJson(res, status, { error: { message: `${type} (llm double)`, type, param: null, code: null } }, headers);

  const handleChat = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const call = parseChatRequest<LlmDoubleMode>(req, raw, 'ok');
    if (!call) return sendError(res, 400, 'invalid_request_error');
    const served = pickMode();
    call.mode = served;
    calls.push(call);

    if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return sendError(res, 401, 'invalid_api_key');
    }
    if (served === 'hang') return; // answered never; close() or the client's abort ends it
    if (served === 'drop') {
      req.socket.destroy();
      return;
    }

    const respond = () => {
      if (served === 'error500') return sendError(res, 500, 'server_error');
      if (served === 'error400') return sendError(res, 400, 'invalid_request_error');
      if (served === 'error429') {
        const headers: Record<string, string> = {};
        if (retryAfter !== null) headers['retry-after'] = retryAfter;
        if (retryAfterMsHeader !== null) headers['retry-after-ms'] = String(retryAfterMsHeader);
        return sendError(res, 429, 'rate_limit_exceeded', headers);
      }
      const scripted = served === 'ok' ? scriptFn?.(call) : undefined;
      const content = scripted ?? answerFor(call, served, { bias: positionBias, editPolicy, contrarian });
      sendJson(res, 200, completionFor(call, content, { id: `chatcmpl-double-${calls.length}`, model: models[0] ?? 'double-model' }));
    };

    const wait = delayMs(call);
    if (wait <= 0) return respond();
    const timer = setTimeout(respond, wait);
    res.once('close', () => clearTimeout(timer));
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'llm-double' })),
      });
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') return readBody(req, (raw) => handleChat(req, res, raw));
    sendError(res, 404, 'not_found');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    calls,
    setMode: (m) => {
      mode = m;
    },
    setLatency: (l) => {
      latency = l;
    },
    setChaos: (c) => {
      chaos = c;
    },
    setRetryAfter: (h) => {
      if (h.retryAfter !== undefined) retryAfter = h.retryAfter;
      if (h.retryAfterMs !== undefined) retryAfterMsHeader = h.retryAfterMs;
    },
    setPositionBias: (b) => {
      positionBias = b;
    },
    setEditPolicy: (p) => {
      editPolicy = p;
    },
    setContrarian: (c) => {
      contrarian = c;
    },
    script: (fn) => {
      scriptFn = fn;
    },
    failNext: (n, m) => {
      for (let i = 0; i < n; i++) queued.push(m);
    },
    reset: () => {
      calls.length = 0;
      queued.length = 0;
      scriptFn = undefined;
      positionBias = opts.positionBias;
      editPolicy = opts.editPolicy ?? 'improve';
      contrarian = opts.contrarian ?? 'follow';
      mode = opts.mode ?? 'ok';
      latency = opts.latency ?? 0;
      chaos = opts.chaos;
      retryAfter = opts.retryAfter === undefined ? '1' : opts.retryAfter;
      retryAfterMsHeader = opts.retryAfterMs ?? null;
      random = rng(opts.seed ?? 42);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
