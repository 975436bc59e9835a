/**
 * A raw HTTP/1.1 client on a net.Socket, for what a real client library will not send: a body or headers
 * dripped a byte at a time, a malformed request line, a 20 KB URL, Content-Length with Transfer-Encoding.
 * It records what the server answered and when the server closed the connection.
 */
import { connect, type Socket } from 'node:net';
import { sleep } from './wait.js';

/** One raw connection. */
export interface RawConnection {
  socket: Socket;
  /** Everything the server has sent so far (latin1, byte for byte). */
  received(): string;
  /** Resolves, with the milliseconds since the connection opened, once the connection is closed (or reset). */
  closed: Promise<number>;
  /** True once the connection is closed. */
  isClosed(): boolean;
}

/** Opens a raw connection to host:port. */
export function openRaw(port: number, host = '127.0.0.1'): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    const openedAt = Date.now();
    let data = '';
    let isClosed = false;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => void (data += d));
    // A reset is one way for the server to close; it is reported by `closed`, not thrown.
    socket.on('error', () => undefined);
    const closed = new Promise<number>((done) => socket.once('close', () => ((isClosed = true), done(Date.now() - openedAt))));
    socket.once('connect', () => resolve({ socket, received: () => data, closed, isClosed: () => isClosed }));
    socket.once('error', reject);
  });
}

/** A parsed raw answer. */
export interface RawAnswer {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

/** Parses the first response in `text`; undefined when there is none (yet). */
export function parseRawAnswer(text: string): RawAnswer | undefined {
  const end = text.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
  if (end === -1 || !status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, end).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? Number.NaN);
  const rest = text.slice(end + 4);
  return { status: Number(status[1]), headers, body: Number.isFinite(length) ? rest.slice(0, length) : rest };
}

/**
 * Writes `bytes` one character every `intervalMs` until they run out or the server closes the connection;
 * resolves with how many were written.
 */
export async function drip(conn: RawConnection, bytes: string, intervalMs: number): Promise<number> {
  let sent = 0;
  for (const ch of bytes) {
    if (conn.isClosed() || conn.socket.destroyed) break;
    conn.socket.write(ch);
    sent++;
    await sleep(intervalMs);
  }
  return sent;
}

/**
 * Sends `request` in one write and resolves with what came back once the server closed the connection,
 * or after `timeoutMs` (then `closedAfterMs` is undefined and the connection is destroyed).
 */
export async function rawExchange(port: number, request: string, timeoutMs = 5_000): Promise<{ text: string; answer: RawAnswer | undefined; closedAfterMs: number | undefined }> {
  const conn = await openRaw(port);
  conn.socket.write(request);
  const closedAfterMs = await Promise.race([conn.closed, sleep(timeoutMs).then(() => undefined)]);
  conn.socket.destroy();
  return { text: conn.received(), answer: parseRawAnswer(conn.received()), closedAfterMs };
}
