/**
 * What Node's HTTP parser rejects before Fastify has a request still gets the one error shape
 * `{error:{code,message,requestId}}` and an x-request-id header: a URL over 16 KB (431), Content-Length
 * together with Transfer-Encoding (400), a malformed request line (400). Fastify's default answered these in
 * its own shape (`{"error":"Bad Request","message":"Client Error","statusCode":400}`), without a request id.
 * Raw sockets, because no client library sends such requests.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { rawExchange, type RawAnswer } from '../../testkit/raw-http.js';

let t: TestApp;
let port: number;
beforeAll(async () => {
  t = await buildTestApp({ jobs: false });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
});
afterAll(async () => t?.close());

function expectEnvelope(answer: RawAnswer | undefined, status: number, code: string): void {
  expect(answer?.status).toBe(status);
  const requestId = answer?.headers['x-request-id'];
  expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  expect(answer?.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(answer?.body ?? 'null')).toEqual({ error: { code, message: expect.any(String), requestId } });
}

describe('parser errors in the error envelope', () => {
  it.each([
    ['a 20 KB URL', 431, 'HEADERS_TOO_LARGE', `GET /v1/rerank?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    [
      'Content-Length with Transfer-Encoding',
      400,
      'VALIDATION_ERROR',
      'POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    ['a malformed request line', 400, 'VALIDATION_ERROR', 'GET\u0001 /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an invalid header', 400, 'VALIDATION_ERROR', 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n'],
  ])('%s: %i %s with x-request-id, then the connection closes', async (_name, status, code, request) => {
    const { answer, closedAfterMs } = await rawExchange(port, request);
    expectEnvelope(answer, status, code);
    expect(closedAfterMs).toBeDefined();
  });

  it('the message names the parser error, never the bytes sent', async () => {
    const { answer } = await rawExchange(port, 'SECRETVERB\u0001 /x HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(answer?.body).not.toContain('SECRETVERB');
    expect(JSON.parse(answer?.body ?? '{}').error.message).toMatch(/^malformed HTTP request \(HPE_[A-Z_]+\)$/);
  });

  it('a well-formed request on the same server is answered normally (the handler is not in the way)', async () => {
    const { answer } = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer?.status).toBe(200);
    expect(answer?.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
