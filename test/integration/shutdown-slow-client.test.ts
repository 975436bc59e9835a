/**
 * SIGTERM with slow clients connected ends on the clean path: the real server process (npm start's
 * entry) exits 0 well inside SHUTDOWN_GRACE_MS although one client is dripping a request body, one is
 * dripping its headers and one holds an idle kept-alive socket. Before, server.close() waited on the
 * dripping sockets (Node stops enforcing the request timeout once close() begins) until the grace period
 * ran out: "shutdown grace period exceeded", exit 1. The body's sender is answered 503 in the envelope.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess, stopAll } from '../../testkit/processes.js';
import { drip, openRaw, parseRawAnswer } from '../../testkit/raw-http.js';
import { sleep } from '../../testkit/wait.js';

const GRACE_MS = 8_000;

afterAll(async () => stopAll());

describe('graceful shutdown with slow clients', () => {
  it('exits 0 on the clean path, closing dripping and idle sockets', async () => {
    const server = await startServerProcess({
      // A request timeout far beyond the grace period: only the shutdown can close these sockets in time.
      env: { LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: String(GRACE_MS), HTTP_REQUEST_TIMEOUT_MS: '120000', HTTP_HEADERS_TIMEOUT_MS: '120000' },
      readyTimeoutMs: 30_000,
    });
    const body = await openRaw(server.port);
    body.socket.write('POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
    void drip(body, ' '.repeat(1_000), 100);
    const headers = await openRaw(server.port);
    headers.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    void drip(headers, `X-Slow: ${'y'.repeat(1_000)}`, 100);
    const idle = await openRaw(server.port);
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    // Let the server see every request start (the body's headers have reached Fastify after this).
    await sleep(500);

    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    const tookMs = Date.now() - signalledAt;
    expect(exit.code).toBe(0);
    expect(tookMs).toBeLessThan(GRACE_MS - 1_000);
    expect(server.output()).toContain('shutdown complete');
    expect(server.output()).not.toContain('grace period exceeded');

    await Promise.all([body.closed, headers.closed, idle.closed]);
    const answer = parseRawAnswer(body.received());
    expect(answer?.status).toBe(503);
    expect(JSON.parse(answer?.body ?? 'null')).toEqual({
      error: { code: 'SERVICE_UNAVAILABLE', message: expect.any(String), requestId: answer?.headers['x-request-id'] },
    });
    expect(parseRawAnswer(idle.received())?.status).toBe(200);
  }, 60_000);
});
