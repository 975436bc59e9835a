/**
 * Which sockets of a server are still *receiving* a request, so shutdown can close them.
 *
 * Node's `server.close()` closes idle kept-alive sockets, but it also stops the timer that enforces
 * requestTimeout/headersTimeout (httpServerPreClose clears connectionsCheckingInterval). A client that was
 * sending its headers or body a byte at a time when SIGTERM came would then hold the socket, and close(),
 * until the grace period ran out and the process took the forced exit. Such a socket has no request being
 * handled, so nothing is lost by closing it, while requests that have fully arrived finish as usual.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCodes } from '../errors.js';
import { endSocketWith, rawErrorResponse } from './plugins/client-errors.js';

const SHUTTING_DOWN = { status: 503, code: ErrorCodes.UNAVAILABLE, message: 'the service is shutting down; retry on another instance' };

/** Tracks a server's sockets and the request each is on. */
export interface ReceivingSockets {
  /** Sockets with no fully received request being answered (idle, headers or body still arriving). */
  receiving(): Socket[];
  /** Closes every receiving socket (a half-received request is answered 503 SERVICE_UNAVAILABLE); returns how many. */
  closeReceiving(): number;
}

/** Starts tracking `server`'s connections (from now on). */
export function trackReceivingSockets(server: Server): ReceivingSockets {
  const sockets = new Set<Socket>();
  const current = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    current.set(req.socket, { req, res });
  });

  const state = (socket: Socket): 'idle' | 'body' | 'handling' => {
    const on = current.get(socket);
    // No request yet, or the last one answered: idle, or the next request's headers are still arriving.
    if (!on || on.res.writableFinished) return 'idle';
    // A request whose body has not arrived in full has not reached its handler.
    return !on.req.complete && !on.res.headersSent ? 'body' : 'handling';
  };
  const receiving = (): Socket[] => [...sockets].filter((s) => !s.destroyed && state(s) !== 'handling');

  return {
    receiving,
    closeReceiving() {
      const found = receiving();
      for (const socket of found) {
        // A client waiting for the answer to a half-sent request gets one; an idle socket (or one whose
        // headers are still arriving) is closed the way Node closes idle ones, without an unasked-for answer.
        if (state(socket) === 'body' && socket.writable && !socket.writableEnded) {
          endSocketWith(socket, rawErrorResponse(SHUTTING_DOWN, randomUUID(), { 'retry-after': '1' }));
        } else {
          socket.destroy();
        }
      }
      return found.length;
    },
  };
}
