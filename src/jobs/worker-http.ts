/**
 * The `agp worker` process's own tiny HTTP server (plain node:http, no Fastify): what Kubernetes and
 * Prometheus need from a process that otherwise serves nothing.
 *
 * - GET /metrics: the worker's prom-client registry (agp_training_jobs_total, agp_llm_*, process metrics);
 * - GET /healthz: liveness, `{"status":"ok"}` while the event loop answers (it does not check Redis: a Redis
 *   outage must not make Kubernetes restart every worker);
 * - anything else: 404 in the service's one error shape `{error:{code,message,requestId}}`.
 *
 * HEAD is answered like GET (without a body). No request body is read.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ErrorCodes } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';

export interface WorkerHttpOptions {
  /** PORT (0 picks a free port; see `port` on the result). */
  port: number;
  /** HOST */
  host: string;
  metrics: Pick<Metrics, 'registry'>;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'> | undefined;
  /** How long close() lets in-flight responses finish before cutting their sockets (default 2 s). */
  closeGraceMs?: number | undefined;
}

export interface WorkerHttpServer {
  /** The bound address (the real port when PORT=0). */
  readonly address: AddressInfo;
  readonly port: number;
  /** Stops listening, ends idle keep-alive sockets, and resolves once every connection is gone. Idempotent. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** A client's x-request-id is echoed only when it is short, visible ASCII (safe in a header and a log line). */
const SAFE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

function requestIdOf(req: IncomingMessage): string {
  const h = req.headers['x-request-id'];
  const v = Array.isArray(h) ? h[0] : h;
  return v !== undefined && SAFE_REQUEST_ID.test(v) ? v : randomUUID();
}

function send(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('content-type', contentType);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.setHeader('cache-control', 'no-store');
  // node:http leaves the body out of HEAD responses by itself.
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendError(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, requestId: string): void {
  send(req, res, status, JSON_TYPE, JSON.stringify({ error: { code, message, requestId } }));
}

/** Starts listening on `host:port`; rejects if the address cannot be bound (EADDRINUSE, EACCES, ...). */
export async function startWorkerHttp(opts: WorkerHttpOptions): Promise<WorkerHttpServer> {
  const { registry } = opts.metrics;
  const log = opts.logger;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    const method = req.method ?? 'GET';
    // Only the path matters (a scraper may add ?query); matched exactly, like the API's router.
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const readOnly = method === 'GET' || method === 'HEAD';
    if (readOnly && path === '/healthz') {
      send(req, res, 200, JSON_TYPE, JSON.stringify({ status: 'ok' }));
      return;
    }
    if (readOnly && path === '/metrics') {
      try {
        const text = await registry.metrics();
        send(req, res, 200, registry.contentType, text);
      } catch (err) {
        log?.error({ err, requestId }, 'worker /metrics: collecting metrics failed');
        sendError(req, res, 500, ErrorCodes.INTERNAL, 'internal error', requestId);
      }
      return;
    }
    sendError(req, res, 404, ErrorCodes.NOT_FOUND, `route ${method} ${path} not found`, requestId);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log?.error({ err }, 'worker http: request failed');
      if (!res.headersSent) sendError(req, res, 500, ErrorCodes.INTERNAL, 'internal error', requestIdOf(req));
      else res.destroy();
    });
  });
  // Probes and scrapes are tiny: don't let a slow client hold a socket for the 300 s default.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      // Keeps err.code (EADDRINUSE, EACCES, ...); the message names the variables to change.
      err.message = `cannot serve /metrics and /healthz on ${opts.host}:${opts.port} (HOST/PORT): ${err.message}`;
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port: opts.port, host: opts.host });
  });
  server.on('error', (err) => log?.error({ err }, 'worker http: server error'));
  const address = server.address() as AddressInfo;
  log?.info({ host: address.address, port: address.port }, 'worker http: serving /metrics and /healthz');

  let closing: Promise<void> | undefined;
  return {
    address,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        // Idle keep-alive sockets (a scraper's pooled connection) are closed now; in-flight responses get
        // the grace period, then their sockets are cut so shutdown never hangs on a slow client.
        const force = setTimeout(() => server.closeAllConnections(), opts.closeGraceMs ?? 2_000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
