/**
 * A lean `fetch` for the openai SDK: one keep-alive undici Agent and `undici.request` underneath,
 * returning a standard (global) `Response`.
 *
 * Why not `undici.fetch`: the WHATWG fetch machinery costs noticeably more per call than
 * `undici.request`, and the SDK only needs status, headers and a body it can `.json()`/`.text()`.
 *
 * Scope (deliberate): the response body is buffered before the Response is built, so this is for
 * non-streaming calls (chat completions without `stream: true`); redirects are not followed.
 * Errors mirror fetch: an abort rejects with the signal's reason (an AbortError), everything else
 * with `TypeError('fetch failed', { cause })`, which the SDK turns into APIConnectionError.
 */
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';

/** The `fetch` shape the openai SDK accepts (ClientOptions.fetch). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface UndiciFetchOptions {
  /** Max sockets per origin (default 128). The concurrency gate bounds real use. */
  connections?: number | undefined;
  /** Idle keep-alive before a socket is closed, unless the server's keep-alive hint is shorter (default 30 s). */
  keepAliveTimeoutMs?: number | undefined;
  /** TCP + TLS connect timeout (default 10 s); call deadlines abort earlier anyway. */
  connectTimeoutMs?: number | undefined;
}

export interface UndiciTransport {
  fetch: FetchLike;
  dispatcher: Dispatcher;
  /** Closes idle sockets and waits for in-flight requests. */
  close(): Promise<void>;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

type PlainBody = string | Uint8Array | ArrayBuffer | null | undefined;

function isPlainBody(body: unknown): body is PlainBody {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer
  );
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function toResponseHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const name in raw) {
    const v = raw[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) headers.append(name, item);
    else headers.append(name, v);
  }
  return headers;
}

function toRequestHeaders(init: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!init) return out;
  const headers = init instanceof Headers ? init : new Headers(init);
  headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

export function createUndiciFetch(opts: UndiciFetchOptions = {}): UndiciTransport {
  const agent = new Agent({
    connections: opts.connections ?? 128,
    pipelining: 1,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: 10 * 60_000,
    connect: { timeout: opts.connectTimeoutMs ?? 10_000 },
  });

  const fetchImpl: FetchLike = async (input, init) => {
    let url: string;
    let method: string;
    let headers: Record<string, string>;
    let body: string | Uint8Array | undefined;
    let signal: AbortSignal | undefined;

    if (typeof input !== 'object' || input instanceof URL) {
      if (!isPlainBody(init?.body)) return fetchImpl(new Request(input, init));
      url = String(input);
      method = (init?.method ?? 'GET').toUpperCase();
      headers = toRequestHeaders(init?.headers);
      const b = init?.body;
      body = b instanceof ArrayBuffer ? new Uint8Array(b) : (b ?? undefined);
      if (typeof body === 'string' && headers['content-type'] === undefined) {
        headers['content-type'] = 'text/plain;charset=UTF-8';
      }
      signal = init?.signal ?? undefined;
    } else {
      // Rare path (a Request object, FormData, streams): let the platform serialise it, then send the bytes.
      const req = init ? new Request(input, init) : input;
      url = req.url;
      method = req.method;
      headers = toRequestHeaders(req.headers);
      body = req.body ? new Uint8Array(await req.arrayBuffer()) : undefined;
      signal = req.signal;
    }

    if (signal?.aborted) throw abortReason(signal);
    try {
      const res = await request(url, {
        dispatcher: agent,
        method: method as Dispatcher.HttpMethod,
        headers,
        body: body ?? null,
        signal: signal ?? null,
      });
      const responseHeaders = toResponseHeaders(res.headers);
      if (NULL_BODY_STATUS.has(res.statusCode) || method === 'HEAD') {
        await res.body.dump();
        return new Response(null, { status: res.statusCode, statusText: res.statusText, headers: responseHeaders });
      }
      return new Response(await res.body.arrayBuffer(), { status: res.statusCode, statusText: res.statusText, headers: responseHeaders });
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      throw new TypeError('fetch failed', { cause: err });
    }
  };

  return {
    fetch: fetchImpl,
    dispatcher: agent,
    close: () => agent.close(),
  };
}
