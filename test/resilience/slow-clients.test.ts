/**
 * Slow clients cannot hold sockets: a request whose headers or body trickle in (1 byte every 200 ms, after
 * `Content-Length: 100000`) is answered 408 REQUEST_TIMEOUT in the error envelope and its socket closed
 * once HTTP_REQUEST_TIMEOUT_MS / HTTP_HEADERS_TIMEOUT_MS have passed (plus Node's check interval); before,
 * such a socket stayed open for as long as the client kept dripping (142 s and more). Handling time is not
 * counted: a request that arrived in time is answered however long the LLM takes (within its deadline).
 */
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeoutCheckIntervalMs } from '../../src/http/base-app.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { drip, openRaw, parseRawAnswer, type RawConnection } from '../../testkit/raw-http.js';
import { sleep } from '../../testkit/wait.js';

const REQUEST_MS = 1_000;
const HEADERS_MS = 600;
const CHECK_MS = timeoutCheckIntervalMs({ requestMs: REQUEST_MS, headersMs: HEADERS_MS, keepAliveMs: 5_000 });
/** Scheduling slack on a loaded 2-core machine. */
const SLACK_MS = 1_000;
const BODY_HEAD = 'POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n';

let double: LlmDouble;
let t: TestApp;
let port: number;
beforeAll(async () => {
  double = await startLlmDouble({ latency: 1_500 });
  t = await buildTestApp({
    env: {
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '5000',
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-slow',
      LLM_MODEL: 'double-model',
      DEFAULT_DEADLINE_MS: '5000',
    },
    jobs: false,
  });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await t?.close();
  await double?.close();
});

/** Waits for the server to close `conn`, at most `ms`; undefined when it did not. */
const closedWithin = (conn: RawConnection, ms: number) => Promise.race([conn.closed, sleep(ms).then(() => undefined)]);

function expect408(conn: RawConnection): void {
  const answer = parseRawAnswer(conn.received());
  expect(answer?.status).toBe(408);
  const requestId = answer?.headers['x-request-id'];
  expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(JSON.parse(answer?.body ?? 'null')).toEqual({ error: { code: 'REQUEST_TIMEOUT', message: expect.any(String), requestId } });
}

describe('slow clients', () => {
  it('a body dripped a byte every 200 ms: 408 in the envelope and the socket closed after HTTP_REQUEST_TIMEOUT_MS', async () => {
    const conn = await openRaw(port);
    conn.socket.write(BODY_HEAD);
    void drip(conn, 'x'.repeat(200), 200);
    const at = await closedWithin(conn, REQUEST_MS + CHECK_MS + SLACK_MS + 3_000);
    expect(at).toBeDefined();
    expect(at).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(at).toBeLessThan(REQUEST_MS + CHECK_MS + SLACK_MS);
    expect408(conn);
  });

  it('headers dripped a byte every 100 ms: 408 and closed after HTTP_HEADERS_TIMEOUT_MS', async () => {
    const conn = await openRaw(port);
    conn.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    void drip(conn, `X-Slow: ${'y'.repeat(200)}`, 100);
    const at = await closedWithin(conn, HEADERS_MS + CHECK_MS + SLACK_MS + 3_000);
    expect(at).toBeDefined();
    expect(at).toBeLessThan(HEADERS_MS + CHECK_MS + SLACK_MS);
    expect408(conn);
  });

  it('200 dripping sockets from one client are all closed', async () => {
    const conns = await Promise.all(Array.from({ length: 200 }, () => openRaw(port)));
    for (const c of conns) {
      c.socket.write(BODY_HEAD);
      void drip(c, 'x'.repeat(100), 250);
    }
    const closed = await Promise.all(conns.map((c) => closedWithin(c, REQUEST_MS + CHECK_MS + SLACK_MS + 3_000)));
    expect(closed.filter((at) => at === undefined)).toHaveLength(0);
    expect(conns.filter((c) => parseRawAnswer(c.received())?.status === 408)).toHaveLength(200);
  });

  it('handling time does not count: a rerank that arrived at once is answered after the LLM’s 1.5 s', async () => {
    const body = JSON.stringify({ userId: 'u', method: 'direct', history: [], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] });
    const started = Date.now();
    const res = await request(`http://127.0.0.1:${port}/v1/rerank`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const json = (await res.body.json()) as { fallback: unknown };
    expect(res.statusCode).toBe(200);
    expect(json.fallback).toBeNull();
    expect(Date.now() - started).toBeGreaterThan(REQUEST_MS);
  });
});
