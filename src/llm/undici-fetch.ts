/**
 * A lean `fetch` for the openai SDK: one keep-alive undici Agent and `undici.request` underneath,
 * returning a small Response-compatible object instead of a WHATWG `Response`.
 *
 * Why not `undici.fetch`: the WHATWG fetch machinery costs noticeably more per call than
 * `undici.request`. Why not `new Response(bytes, { headers: new Headers(...) })`: building the
 * Headers, the Response and its body stream, and then having the SDK read them back through the
 * stream machinery, was most of this adapter's CPU per call.
 *
 * What the openai SDK (v6) does with a fetch response, and therefore what LeanResponse provides:
 *   client.makeRequest   `ok`, `status`, `url` (debug-log details, evaluated even when logging is off),
 *                        `headers.entries()` (every call, looking for x-request-id), `headers` handed to
 *                        `formatRequestDetails` (`instanceof Headers ? [...h] : Object.entries(h)`),
 *                        `headers.get('x-should-retry')` (shouldRetry), `headers.get('retry-after-ms' |
 *                        'retry-after')` (retryRequest), `body` (Shims.CancelReadableStream before a
 *                        retry), `text()` (error bodies, with `.catch`), and `headers` into
 *                        `APIError.generate`, which calls `headers.get('x-request-id')` and exposes them
 *                        as `err.headers`.
 *   internal/parse.js    `status` (204), `headers.get('content-type' | 'content-length' | 'x-request-id')`,
 *                        `json()` or `text()`; with `stream: true`, `body` (async-iterated for SSE).
 *   APIPromise / pages   `asResponse()` / `withResponse()` / `__binaryResponse` hand the object to the
 *                        caller, who may use `arrayBuffer()`, `bytes()`, `blob()`, `body`, `clone()`, …
 * LeanResponse implements those plus the rest of the cheap read-only surface (`statusText`, `type`,
 * `redirected`, `bodyUsed`, `formData()`); LeanHeaders is read-only (`get`, `has`, `getSetCookie`,
 * iteration), with WHATWG `get` semantics: case-insensitive, repeated fields joined with ', '.
 *
 * Deliberate differences from WHATWG objects: `instanceof Response/Headers` is false; header iteration
 * follows the wire order rather than sorted order; SDK debug logs (`logLevel: 'debug'`, never enabled by
 * this service) show response headers as `{}`; mutating header methods (`set`, `append`, `delete`) are
 * absent. Header values are decoded as UTF-8 (undici's decoding), so non-Latin-1 values no longer fail.
 *
 * Scope (deliberate): the response body is buffered before the response is returned, so the caller's
 * signal and the SDK's timeout cover the whole exchange; `stream: true` works but is delivered at once,
 * not incrementally. Redirects are not followed.
 * The buffered body is capped (`maxResponseBytes`, see response-body-cap.ts): past it the fetch rejects with
 * `TypeError('fetch failed', { cause: ResponseTooLargeError })`.
 * Errors mirror fetch: an abort rejects with the signal's reason (an AbortError), everything else
 * with `TypeError('fetch failed', { cause })`, which the SDK turns into APIConnectionError.
 */
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { DEFAULT_MAX_RESPONSE_BYTES, readCapped } from './response-body-cap.js';

export { DEFAULT_MAX_RESPONSE_BYTES, ResponseTooLargeError, responseTooLarge } from './response-body-cap.js';

/** The `fetch` shape the openai SDK accepts (ClientOptions.fetch). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface UndiciFetchOptions {
  /** Max sockets per origin (default 128). The concurrency gate bounds real use. */
  connections?: number | undefined;
  /** Idle keep-alive before a socket is closed, unless the server's keep-alive hint is shorter (default 30 s). */
  keepAliveTimeoutMs?: number | undefined;
  /** TCP + TLS connect timeout (default 10 s); call deadlines abort earlier anyway. */
  connectTimeoutMs?: number | undefined;
  /** Most body bytes read per response (default DEFAULT_MAX_RESPONSE_BYTES); larger bodies fail the call. */
  maxResponseBytes?: number | undefined;
}

export interface UndiciTransport {
  fetch: FetchLike;
  dispatcher: Dispatcher;
  /** Closes idle sockets and waits for in-flight requests. */
  close(): Promise<void>;
}

/** undici's parsed response headers: lower-case names, repeated fields as arrays. */
type RawHeaders = Record<string, string | string[] | undefined>;

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const EMPTY = Buffer.alloc(0);
const hasOwn = Object.prototype.hasOwnProperty;

/** Read-only WHATWG-style view over undici's header record. */
export class LeanHeaders {
  readonly #raw: RawHeaders;

  constructor(raw: RawHeaders) {
    this.#raw = raw;
  }

  get(name: string): string | null {
    const raw = this.#raw;
    let v = raw[name];
    if (v === undefined) {
      const lower = name.toLowerCase();
      if (lower === name) return null;
      v = raw[lower];
      name = lower;
    }
    if (typeof v === 'string') return hasOwn.call(raw, name) ? v : null;
    return Array.isArray(v) && hasOwn.call(raw, name) ? v.join(', ') : null;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  getSetCookie(): string[] {
    const v = this.#raw['set-cookie'];
    return typeof v === 'string' ? [v] : Array.isArray(v) ? [...v] : [];
  }

  forEach(callback: (value: string, name: string, headers: LeanHeaders) => void, thisArg?: unknown): void {
    for (const [name, value] of this.entries()) callback.call(thisArg, value, name, this);
  }

  entries(): IterableIterator<[string, string]> {
    const out: Array<[string, string]> = [];
    const raw = this.#raw;
    for (const name in raw) {
      if (!hasOwn.call(raw, name)) continue;
      const v = raw[name];
      if (typeof v === 'string') out.push([name, v]);
      else if (Array.isArray(v)) out.push([name, v.join(', ')]);
    }
    return out[Symbol.iterator]();
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/**
 * A fully-buffered response: status, headers and the body bytes, decoded only when read. The body can be
 * consumed once (`json`, `text`, `arrayBuffer`, `bytes`, `blob`, `formData`, or through `body`), like fetch.
 */
export class LeanResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly url: string;
  readonly headers: LeanHeaders;
  /** null for a null-body status or a HEAD request. */
  readonly #bytes: Buffer | null;
  #used = false;
  #stream: ReadableStream<Uint8Array> | undefined;

  constructor(status: number, statusText: string, url: string, headers: LeanHeaders, bytes: Buffer | null) {
    this.status = status;
    this.statusText = statusText;
    this.ok = status >= 200 && status <= 299;
    this.url = url;
    this.headers = headers;
    this.#bytes = bytes;
  }

  get type(): 'basic' {
    return 'basic';
  }

  get redirected(): boolean {
    return false;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  /** Created on first access only (the SDK reads it for `stream: true` and to cancel bodies it skips). */
  get body(): ReadableStream<Uint8Array> | null {
    const bytes = this.#bytes;
    if (bytes === null) return null;
    if (this.#stream === undefined) {
      this.#stream = new ReadableStream<Uint8Array>({
        pull: (controller) => {
          // A body already consumed by text()/json()/… reads as empty, like a disturbed fetch body.
          if (!this.#used && bytes.length > 0) controller.enqueue(new Uint8Array(bytes));
          this.#used = true;
          controller.close();
        },
        cancel: () => {
          this.#used = true;
        },
      });
    }
    return this.#stream;
  }

  /** The body bytes, marking the body used; throws like fetch when it was already consumed. */
  #take(): Buffer {
    if (this.#used || this.#stream?.locked) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    return this.#bytes ?? EMPTY;
  }

  #string(): string {
    const b = this.#take();
    // UTF-8 decode without the BOM, like Body.text().
    const start = b.length > 2 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
    return b.toString('utf8', start);
  }

  async text(): Promise<string> {
    return this.#string();
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.#string());
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(this.#take());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return new Uint8Array(this.#take()).buffer;
  }

  async blob(): Promise<Blob> {
    return new Blob([this.#take()], { type: this.headers.get('content-type') ?? '' });
  }

  async formData(): Promise<FormData> {
    const bytes = this.#take();
    const contentType = this.headers.get('content-type');
    return new Response(bytes, contentType === null ? {} : { headers: { 'content-type': contentType } }).formData();
  }

  clone(): LeanResponse {
    if (this.#used || this.#stream?.locked) throw new TypeError('Response.clone: Body has already been consumed.');
    return new LeanResponse(this.status, this.statusText, this.url, this.headers, this.#bytes);
  }
}

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

/** Request headers as undici's flat [name, value, …] array (its cheapest form). */
function toRequestHeaders(init: RequestInit['headers']): string[] {
  const out: string[] = [];
  if (!init) return out;
  const headers = init instanceof Headers ? init : new Headers(init);
  headers.forEach((value, name) => {
    out.push(name, value);
  });
  return out;
}

function hasHeader(flat: string[], lowerName: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === lowerName) return true;
  return false;
}

export function createUndiciFetch(opts: UndiciFetchOptions = {}): UndiciTransport {
  const agent = new Agent({
    connections: opts.connections ?? 128,
    pipelining: 1,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: 10 * 60_000,
    connect: { timeout: opts.connectTimeoutMs ?? 10_000 },
  });
  const maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;

  const leanFetch = async (input: string | URL | Request, init?: RequestInit): Promise<LeanResponse> => {
    let url: string;
    let method: string;
    let headers: string[];
    let body: string | Uint8Array | undefined;
    let signal: AbortSignal | undefined;

    if (typeof input !== 'object' || input instanceof URL) {
      if (!isPlainBody(init?.body)) return leanFetch(new Request(input, init));
      url = String(input);
      method = init?.method === undefined ? 'GET' : init.method.toUpperCase();
      headers = toRequestHeaders(init?.headers);
      const b = init?.body;
      body = b instanceof ArrayBuffer ? new Uint8Array(b) : (b ?? undefined);
      if (typeof body === 'string' && !hasHeader(headers, 'content-type')) {
        headers.push('content-type', 'text/plain;charset=UTF-8');
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
      const status = res.statusCode;
      let bytes: Buffer | null = null;
      if (NULL_BODY_STATUS.has(status) || method === 'HEAD') {
        await res.body.dump();
      } else {
        bytes = await readCapped(res.body, res.headers['content-length'], maxResponseBytes);
      }
      return new LeanResponse(status, res.statusText ?? '', url, new LeanHeaders(res.headers), bytes);
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      throw new TypeError('fetch failed', { cause: err });
    }
  };

  return {
    // The SDK reads only the members LeanResponse implements (see the header comment).
    fetch: leanFetch as unknown as FetchLike,
    dispatcher: agent,
    close: () => agent.close(),
  };
}
