/**
 * The undici transport's lean response (src/llm/undici-fetch.ts), directly and through the real openai
 * SDK: every member the SDK reads (status/ok, headers.get/entries, json/text, body for cancel and SSE),
 * error bodies parsed into APIError with status and headers, retry-after handling, aborts and timeouts.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIUserAbortError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
} from 'openai';
import type { APIError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUndiciFetch, LeanHeaders, LeanResponse, ResponseTooLargeError, responseTooLarge } from '../../src/llm/undici-fetch.js';
import type { UndiciTransport } from '../../src/llm/undici-fetch.js';
import { retryAfterMs } from '../../src/llm/openai-llm-client.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const completion = (content: string) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 0,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
});

const send = (res: ServerResponse, status: number, body: string | Buffer, headers: OutgoingHttpHeaders = {}) => {
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
};
const sendJson = (res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}) =>
  send(res, status, JSON.stringify(body), { 'content-type': 'application/json', ...headers });

let server: Server;
let base: string;
let transport: UndiciTransport;
let seen: Seen[] = [];
let handlers: Handler[] = [];
let fallback: Handler;

const defaultHandler: Handler = (_req, res) => sendJson(res, 200, completion('hello'), { 'x-request-id': 'req_ok' });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, at: Date.now() });
      (handlers.shift() ?? fallback)(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  transport = createUndiciFetch();
});

afterAll(async () => {
  await transport.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  handlers = [];
  fallback = defaultHandler;
});

const sdk = (opts: { maxRetries?: number; timeout?: number } = {}) =>
  new OpenAI({
    apiKey: 'sk-test',
    baseURL: `${base}/v1`,
    organization: null,
    project: null,
    maxRetries: opts.maxRetries ?? 0,
    ...(opts.timeout !== undefined && { timeout: opts.timeout }),
    fetch: transport.fetch,
    logLevel: 'off',
  });

const chat = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('lean response (direct)', () => {
  it('exposes status, ok, statusText, url and case-insensitive headers with multi-value joining', async () => {
    fallback = (_req, res) => {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('X-Multi', ['a', 'b']);
      res.setHeader('Set-Cookie', ['s=1; Path=/', 't=2']);
      res.setHeader('X-Request-Id', 'req_123');
      sendJson(res, 201, { hello: 'wörld' });
    };
    const res = await transport.fetch(`${base}/v1/thing`);
    expect(res).toBeInstanceOf(LeanResponse);
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.statusText).toBe('Created');
    expect(res.url).toBe(`${base}/v1/thing`);
    expect(res.redirected).toBe(false);
    expect(res.headers).toBeInstanceOf(LeanHeaders);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('X-MULTI')).toBe('a, b');
    expect(res.headers.get('set-cookie')).toBe('s=1; Path=/, t=2');
    expect(res.headers.getSetCookie()).toEqual(['s=1; Path=/', 't=2']);
    expect(res.headers.has('x-request-id')).toBe(true);
    expect(res.headers.get('x-absent')).toBeNull();
    // Names that exist on Object.prototype are not headers.
    expect(res.headers.get('constructor')).toBeNull();
    expect(res.headers.get('__proto__')).toBeNull();
    expect(res.headers.has('toString')).toBe(false);
    const entries = Object.fromEntries(res.headers.entries());
    expect(entries).toMatchObject({ 'x-multi': 'a, b', 'x-request-id': 'req_123', 'content-length': expect.any(String) });
    expect(Object.fromEntries(res.headers)).toEqual(entries);
    expect([...res.headers.keys()]).toEqual(Object.keys(entries));
    expect([...res.headers.values()]).toEqual(Object.values(entries));
    const viaForEach: Record<string, string> = {};
    res.headers.forEach((v, k) => (viaForEach[k] = v));
    expect(viaForEach).toEqual(entries);
    expect(await res.json()).toEqual({ hello: 'wörld' });
  });

  it('reports non-2xx as not ok and reads text once, like fetch', async () => {
    fallback = (_req, res) => send(res, 503, 'busy', { 'content-type': 'text/plain' });
    const res = await transport.fetch(`${base}/x`, { method: 'post', body: 'ping' });
    expect(res.ok).toBe(false);
    expect(res.status).toBe(503);
    expect(res.bodyUsed).toBe(false);
    expect(await res.text()).toBe('busy');
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toBeInstanceOf(TypeError);
    await expect(res.json()).rejects.toBeInstanceOf(TypeError);
    expect(seen[0]).toMatchObject({ method: 'POST', body: 'ping' });
    expect(seen[0]?.headers['content-type']).toBe('text/plain;charset=UTF-8');
  });

  it('strips a UTF-8 BOM in text/json and keeps bytes exact for arrayBuffer/bytes/blob/clone/body', async () => {
    const binary = Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d, 0xff, 0x00, 0x80]);
    fallback = (_req, res) => send(res, 200, binary, { 'content-type': 'application/octet-stream' });
    const a = (await transport.fetch(`${base}/bin`)) as unknown as LeanResponse;
    const b = a.clone();
    const c = a.clone();
    const d = a.clone();
    expect(Buffer.from(await a.arrayBuffer())).toEqual(binary);
    expect(Buffer.from(await b.bytes())).toEqual(binary);
    const blob = await c.blob();
    expect(blob.type).toBe('application/octet-stream');
    expect(Buffer.from(await blob.arrayBuffer())).toEqual(binary);
    const chunks: Uint8Array[] = [];
    for await (const chunk of d.body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    expect(Buffer.concat(chunks)).toEqual(binary);
    expect(d.bodyUsed).toBe(true);
    await expect(d.arrayBuffer()).rejects.toBeInstanceOf(TypeError);
    expect(() => a.clone()).toThrow(TypeError);

    fallback = (_req, res) => send(res, 200, Buffer.from('\ufeff{"x":1}'), { 'content-type': 'application/json' });
    expect(await (await transport.fetch(`${base}/bom`)).json()).toEqual({ x: 1 });
    expect(await (await transport.fetch(`${base}/bom`)).text()).toBe('{"x":1}');
  });

  it('gives 204 and HEAD a null body', async () => {
    fallback = (_req, res) => {
      res.writeHead(204, { 'x-a': '1' });
      res.end();
    };
    const empty = await transport.fetch(`${base}/nothing`, { method: 'DELETE' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    expect(await empty.text()).toBe('');
    fallback = (_req, res) => send(res, 200, 'ignored', { 'content-type': 'text/plain' });
    const head = await transport.fetch(`${base}/head`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
    expect(head.headers.get('content-length')).toBe('7');
  });

  it('sends Request objects and non-plain bodies through the platform serialiser', async () => {
    fallback = (_req, res) => sendJson(res, 200, { ok: true });
    const form = new URLSearchParams({ a: '1' });
    await transport.fetch(`${base}/form`, { method: 'POST', body: form });
    await transport.fetch(new Request(`${base}/req`, { method: 'PUT', body: 'x', headers: { 'X-Custom': 'yes' } }));
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/form', 'a=1'],
      ['PUT', '/req', 'x'],
    ]);
    expect(seen[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded;charset=UTF-8');
    expect(seen[1]?.headers['x-custom']).toBe('yes');
  });

  it('rejects with the AbortError on abort, and TypeError("fetch failed") on connection errors', async () => {
    await expect(transport.fetch(`${base}/x`, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    fallback = () => undefined; // never answers
    const ctl = new AbortController();
    const pending = transport.fetch(`${base}/hang`, { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 30);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    const refused = await transport.fetch('http://127.0.0.1:1/x').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TypeError);
    expect((refused as TypeError).message).toBe('fetch failed');
    expect((refused as TypeError).cause).toBeDefined();
  });
});

describe('lean response through the openai SDK', () => {
  it('parses a completion, with request id, raw response and the SDK request headers', async () => {
    const client = sdk();
    const { data, response, request_id } = await client.chat.completions.create(chat).withResponse();
    expect(data.choices[0]?.message.content).toBe('hello');
    expect((data as { _request_id?: string | null })._request_id).toBe('req_ok');
    expect(request_id).toBe('req_ok');
    expect(response.status).toBe(200);
    expect(response.headers.get('X-Request-ID')).toBe('req_ok');
    const req = seen[0];
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/v1/chat/completions');
    expect(req?.headers.authorization).toBe('Bearer sk-test');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req?.body ?? '')).toEqual(chat);
  });

  it('handles a JSON content type with parameters and odd casing, non-JSON bodies and 204', async () => {
    const client = sdk();
    fallback = (_req, res) => send(res, 200, JSON.stringify({ a: 1 }), { 'Content-Type': 'Application/vnd.api+json; charset=utf-8' });
    expect(await client.get('/custom')).toEqual({ a: 1 });
    fallback = (_req, res) => send(res, 200, 'plain words', { 'content-type': 'text/plain' });
    expect(await client.get('/custom')).toBe('plain words');
    fallback = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    expect(await client.delete('/custom')).toBeNull();
  });

  it('returns binary responses as a usable response object', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    fallback = (_req, res) => send(res, 200, bytes, { 'content-type': 'application/octet-stream' });
    const res = await sdk().files.content('file-1');
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
  });

  it('streams server-sent events through the lazily created body', async () => {
    const chunk = (content: string) => ({
      id: 'c',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'm',
      choices: [{ index: 0, delta: { content }, finish_reason: null }],
    });
    fallback = (_req, res) =>
      send(res, 200, ['Hel', 'lo'].map((c) => `data: ${JSON.stringify(chunk(c))}\n\n`).join('') + 'data: [DONE]\n\n', {
        'content-type': 'text/event-stream',
      });
    const stream = await sdk().chat.completions.create({ ...chat, stream: true });
    let text = '';
    for await (const part of stream) text += part.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hello');
  });

  it('parses error bodies into APIError subclasses with status, error fields and headers', async () => {
    const client = sdk();
    handlers.push((_req, res) =>
      sendJson(res, 400, { error: { message: 'bad model', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } }, { 'X-Request-Id': 'req_400' }),
    );
    const err = await client.chat.completions.create(chat).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    const e = err as BadRequestError;
    expect(e.status).toBe(400);
    expect(e.message).toBe('400 bad model');
    expect(e.type).toBe('invalid_request_error');
    expect(e.code).toBe('model_not_found');
    expect(e.param).toBe('model');
    expect(e.requestID).toBe('req_400');
    expect(e.headers?.get('x-request-id')).toBe('req_400');

    handlers.push((_req, res) => send(res, 502, '<html>bad gateway</html>', { 'content-type': 'text/html' }));
    const html = (await client.chat.completions.create(chat).catch((x: unknown) => x)) as APIError;
    expect(html).toBeInstanceOf(InternalServerError);
    expect(html.status).toBe(502);
    expect(html.message).toBe('502 <html>bad gateway</html>');
  });

  it('exposes 429 Retry-After / retry-after-ms headers on RateLimitError (what the service backs off by)', async () => {
    handlers.push((_req, res) =>
      sendJson(res, 429, { error: { message: 'slow down', type: 'rate_limit_exceeded' } }, { 'Retry-After': '2', 'Retry-After-Ms': '1500' }),
    );
    const err = (await sdk().chat.completions.create(chat).catch((e: unknown) => e)) as RateLimitError;
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.status).toBe(429);
    expect(err.headers?.get('retry-after')).toBe('2');
    expect(err.headers?.get('Retry-After-Ms')).toBe('1500');
    expect(retryAfterMs(err.headers)).toBe(1500);
  });

  it("drives the SDK's own retries: retry-after-ms delay, body cancel, x-should-retry", async () => {
    handlers.push((_req, res) => sendJson(res, 429, { error: { message: 'wait' } }, { 'retry-after-ms': '200' }));
    const client = sdk({ maxRetries: 1 });
    const ok = await client.chat.completions.create(chat);
    expect(ok.choices[0]?.message.content).toBe('hello');
    expect(seen).toHaveLength(2);
    expect((seen[1]?.at ?? 0) - (seen[0]?.at ?? 0)).toBeGreaterThanOrEqual(180);
    expect(seen[1]?.headers['x-stainless-retry-count']).toBe('1');

    seen = [];
    handlers.push((_req, res) => sendJson(res, 500, { error: { message: 'no retry' } }, { 'x-should-retry': 'false' }));
    const err = await client.chat.completions.create(chat).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect(seen).toHaveLength(1);
  });

  it('maps aborts to APIUserAbortError, timeouts to APIConnectionTimeoutError and refusals to APIConnectionError', async () => {
    fallback = () => undefined; // never answers
    const ctl = new AbortController();
    const pending = sdk().chat.completions.create(chat, { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 30);
    await expect(pending).rejects.toBeInstanceOf(APIUserAbortError);

    const started = Date.now();
    await expect(sdk().chat.completions.create(chat, { timeout: 100 })).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);

    const refused = new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:1/v1', maxRetries: 0, fetch: transport.fetch, logLevel: 'off' });
    const err = await refused.chat.completions.create(chat).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect((err as APIConnectionError).cause).toMatchObject({ message: 'fetch failed' });
  });
});

describe('response body cap (an untrusted endpoint)', () => {
  const CAP = 4096;
  let capped: UndiciTransport;
  beforeAll(() => {
    capped = createUndiciFetch({ maxResponseBytes: CAP });
  });
  afterAll(async () => {
    await capped.close();
  });
  const post = () => capped.fetch(`${base}/v1/chat/completions`, { method: 'POST', body: '{}' });

  it('reads a body of exactly the cap', async () => {
    handlers.push((_req, res) => send(res, 200, 'x'.repeat(CAP)));
    expect((await (await post()).text()).length).toBe(CAP);
  });

  it('rejects a declared Content-Length over the cap before reading it', async () => {
    handlers.push((_req, res) => send(res, 200, 'x'.repeat(CAP + 1)));
    const err = await post().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(responseTooLarge(err)).toBeInstanceOf(ResponseTooLargeError);
  });

  it('cuts a chunked body that never ends, and closes its socket', async () => {
    let closed = false;
    handlers.push((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024, 'a');
      const more = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', more);
      };
      res.once('close', () => (closed = true));
      more();
    });
    const err = await post().catch((e: unknown) => e);
    expect(responseTooLarge(err)?.limitBytes).toBe(CAP);
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(true);
  });

  it('reaches the SDK as an APIConnectionError caused by ResponseTooLargeError', async () => {
    handlers.push((_req, res) => sendJson(res, 200, completion('y'.repeat(CAP))));
    const client = new OpenAI({ apiKey: 'k', baseURL: `${base}/v1`, maxRetries: 0, fetch: capped.fetch, logLevel: 'off' });
    const err = await client.chat.completions.create(chat).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(responseTooLarge(err)).toBeInstanceOf(ResponseTooLargeError);
  });
});
