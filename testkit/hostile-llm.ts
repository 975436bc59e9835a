/**
 * A hostile OpenAI-compatible server (plain node:http on 127.0.0.1, ephemeral port): an LLM endpoint that
 * answers 200 but lies about usage, never stops streaming, ignores max_tokens, sends parser bait, or drips
 * its answer a byte at a time. It speaks the same wire protocol as the LLM double (test/support/llm-double.ts)
 * and reuses its request parsing and honest answers, so calls that no hostile mode targets get a useful reply.
 *
 * Large bodies are written from one reused chunk with back-pressure, so the server's own memory stays flat
 * and an RSS measurement in the same process sees the client's memory, not ours.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { answerFor, completionFor, parseChatRequest, readBody } from './llm-double.js';
import type { RecordedCall } from './llm-double.js';

/** Which roles a mode applies to (default: every role); other roles get the double's honest answer. */
type Targeted = { roles?: ReadonlyArray<RecordedCall['role']> };

/** One way to misbehave. */
export type HostileMode = Targeted &
  (
    | { kind: 'honest' }
    /** An HTTP error status with an OpenAI error body. */
    | { kind: 'status'; status: number }
    /** A 200 with the honest content and this value as `usage` (negative, a string, 1e308, …). */
    | { kind: 'usage'; usage: unknown }
    /** A 200 whose JSON body is `null`. */
    | { kind: 'null-body' }
    /** A 200 with a chunked JSON body whose content string never ends. */
    | { kind: 'endless-stream' }
    /** A 200 whose content is `bytes` bytes of words (a huge profile when aimed at the profile role). */
    | { kind: 'huge-body'; bytes: number }
    /**
     * A 200 whose content is exactly this text (super-linear parser bait: see BAIT), or the text a function
     * makes for each call (the answer fuzz builds each answer from the request it answers).
     */
    | { kind: 'content'; content: string | ((call: RecordedCall<string>) => string) }
    /** The honest answer, one byte every `intervalMs`. */
    | { kind: 'slow-drip'; intervalMs: number }
  );

export type HostileKind = HostileMode['kind'];

/** An LLM that ignores max_tokens on profiles: a profile of `bytes` bytes; other roles are answered honestly. */
export function hugeProfile(bytes: number): HostileMode {
  return { kind: 'huge-body', bytes, roles: ['profile'] };
}

/** Answers known to be super-linear for naive regex parsers (issue 9, item 3). */
export const BAIT = {
  /** `"item"` followed by 190,000 spaces. */
  trailingSpaces: `item${' '.repeat(190_000)}`,
  /** 30,000 unclosed `<think` tags. */
  unclosedThink: '<think'.repeat(30_000),
} as const;

export interface HostileLlm {
  /** Base URL ending in /v1. */
  url: string;
  port: number;
  calls: Array<RecordedCall<HostileKind>>;
  /** Total response bytes written (all calls). */
  readonly bytesSent: number;
  /** Responses whose client went away before the body was complete. */
  readonly abandoned: number;
  setMode(mode: HostileMode): void;
  /** The next `n` chat requests are served with `mode`, before the current mode applies. */
  failNext(n: number, mode: HostileMode): void;
  close(): Promise<void>;
}

/** Prose of exactly `bytes` ASCII bytes (a repeated word pattern). */
export function wordsOfLength(bytes: number): string {
  const unit = 'enjoys long quiet films about distant seas and patient craftspeople ';
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

const CHUNK = Buffer.from(wordsOfLength(64 * 1024));
const MODEL = 'hostile-model';

export async function startHostileLlm(initial: HostileMode = { kind: 'honest' }): Promise<HostileLlm> {
  let mode = initial;
  const queued: HostileMode[] = [];
  const calls: Array<RecordedCall<HostileKind>> = [];
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let bytesSent = 0;
  let abandoned = 0;

  const write = (res: ServerResponse, chunk: Buffer | string): boolean => {
    bytesSent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    return res.write(chunk);
  };
  const sendJson = (res: ServerResponse, status: number, text: string) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    bytesSent += Buffer.byteLength(text);
    res.end(text);
  };
  const track = (res: ServerResponse) => res.once('close', () => void (res.writableFinished || abandoned++));

  /** Writes `head`, then `total` bytes of CHUNK (Infinity: forever), then `tail`, honouring back-pressure. */
  const pump = (res: ServerResponse, head: string, total: number, tail: string) => {
    res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no content-length
    write(res, head);
    let left = total;
    const more = () => {
      while (left > 0 && !res.destroyed) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!write(res, n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', more);
      }
      if (!res.destroyed) {
        bytesSent += Buffer.byteLength(tail);
        res.end(tail);
      }
    };
    more();
  };

  const serve = (call: RecordedCall<HostileKind>, m: HostileMode, res: ServerResponse) => {
    const id = `chatcmpl-hostile-${calls.length}`;
    const honest = () => completionFor(call, answerFor(call), { id, model: MODEL });
    const head = `{"id":"${id}","object":"chat.completion","created":0,"model":"${MODEL}","choices":[{"index":0,"message":{"role":"assistant","content":"`;
    const tail = `"},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`;
    switch (m.kind) {
      case 'honest':
        return sendJson(res, 200, JSON.stringify(honest()));
      case 'status':
        return sendJson(res, m.status, JSON.stringify({ error: { message: 'hostile', type: 'server_error', param: null, code: null } }));
      case 'usage':
        return sendJson(res, 200, JSON.stringify({ ...honest(), usage: m.usage }));
      case 'null-body':
        return sendJson(res, 200, 'null');
      case 'endless-stream':
        return pump(res, head, Infinity, tail);
      case 'huge-body':
        return pump(res, head, m.bytes, tail);
      case 'content': {
        const content = typeof m.content === 'string' ? m.content : m.content(call);
        return sendJson(res, 200, JSON.stringify(completionFor(call, content, { id, model: MODEL })));
      }
      case 'slow-drip': {
        const body = Buffer.from(JSON.stringify(honest()));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        let i = 0;
        const drip = () => {
          if (res.destroyed) return;
          write(res, body.subarray(i, i + 1));
          if (++i >= body.length) return void res.end();
          const t = setTimeout(() => {
            timers.delete(t);
            drip();
          }, m.intervalMs);
          timers.add(t);
        };
        return drip();
      }
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || path !== '/v1/chat/completions') return sendJson(res, 404, '{"error":{"message":"not found"}}');
    readBody(req, (raw) => {
      const call = parseChatRequest<HostileKind>(req, raw, 'honest');
      if (!call) return sendJson(res, 400, '{"error":{"message":"invalid json","type":"invalid_request_error"}}');
      const next = queued.shift() ?? mode;
      const m: HostileMode = next.roles && !next.roles.includes(call.role) ? { kind: 'honest' } : next;
      call.mode = m.kind;
      calls.push(call);
      track(res);
      serve(call, m, res);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    calls,
    get bytesSent() {
      return bytesSent;
    },
    get abandoned() {
      return abandoned;
    },
    setMode: (m) => {
      mode = m;
    },
    failNext: (n, m) => {
      for (let i = 0; i < n; i++) queued.push(m);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
