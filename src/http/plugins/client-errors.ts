/**
 * Errors Node's HTTP parser raises before Fastify has a request (a malformed request line, headers over
 * Node's maxHeaderSize, Content-Length together with Transfer-Encoding, a request that did not arrive
 * within HTTP_REQUEST_TIMEOUT_MS / HTTP_HEADERS_TIMEOUT_MS), answered in the one public error shape
 * `{error:{code,message,requestId}}` with an x-request-id. Fastify's default answered these in its own
 * shape, without a request id. There is no request object here, so the response is written raw on the socket.
 */
import { randomUUID } from 'node:crypto';
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { ErrorCodes } from '../../errors.js';

/** What a parser error is answered with. */
export interface ClientErrorAnswer {
  status: number;
  code: string;
  message: string;
}

/**
 * The answer to a parser error. The message names the parser's code (e.g. HPE_INVALID_METHOD), never the
 * bytes the client sent.
 */
export function clientErrorAnswer(err: { code?: string | undefined }): ClientErrorAnswer {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: ErrorCodes.REQUEST_TIMEOUT, message: 'the request did not arrive in full in time' };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: ErrorCodes.HEADERS_TOO_LARGE, message: `the request line and headers exceed ${maxHeaderSize} bytes` };
    default:
      return { status: 400, code: ErrorCodes.VALIDATION, message: `malformed HTTP request (${err.code ?? 'parse error'})` };
  }
}

/** A complete HTTP/1.1 response carrying the envelope; the connection is closed after it. */
export function rawErrorResponse(answer: ClientErrorAnswer, requestId: string, extraHeaders: Record<string, string> = {}): string {
  const body = JSON.stringify({ error: { code: answer.code, message: answer.message, requestId } });
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-request-id': requestId,
    connection: 'close',
    ...extraHeaders,
  };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Error'}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * How long a socket answered raw may linger before it is destroyed: `end()` sends the answer and a FIN,
 * so a client still sending (the rest of a 20 KB URL) reads the answer instead of a reset; one that
 * never closes its side is cut here.
 */
const LINGER_MS = 1_000;

/** Ends `socket` with `response`, destroying it after LINGER_MS at the latest. */
export function endSocketWith(socket: Socket, response: string): void {
  socket.end(response);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/** True once a response has started on the socket: writing another would corrupt it. */
function responseStarted(socket: Socket): boolean {
  // Node's own clientError fallback reads the same field (lib/_http_server.js, socketOnError).
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  return current?.headersSent === true;
}

/** Fastify's `clientErrorHandler`: the envelope with a fresh request id, then the socket is closed. */
export function createClientErrorHandler(log: FastifyBaseLogger): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    // A reset peer or a socket already answered (the parser reports again on every later chunk).
    if (err.code === 'ECONNRESET' || socket.destroyed || socket.writableEnded) return;
    if (!socket.writable || responseStarted(socket)) {
      socket.destroy();
      return;
    }
    const requestId = randomUUID();
    const answer = clientErrorAnswer(err);
    // Debug only: a flood of malformed requests must not become a flood of log lines.
    log.debug({ requestId, code: err.code, status: answer.status }, 'client error answered by the HTTP parser');
    endSocketWith(socket, rawErrorResponse(answer, requestId));
  };
}
