/**
 * The server span of each API request: opened in onRequest (child of the caller's W3C `traceparent`, when it
 * sends one), made the active span for the handler in preHandler, and ended in onResponse (or when the client
 * goes away). Hooks rather than @opentelemetry/instrumentation-http: no module patching, and a span per route
 * with its route template as name, not per raw URL.
 *
 * Why the span is activated in preHandler and not in onRequest: a body is read from socket events, outside
 * the onRequest hook's async context; preHandler runs after the body and calls the handler synchronously, so
 * the handler (and every promise continuation under it) sees the span.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TraceSpan } from '../../agp/tracing.js';
import { tracing } from '../../agp/tracing.js';

/** Probes and scrapes: frequent, and traced by nobody. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

const spans = new WeakMap<FastifyRequest, TraceSpan>();

/** The server span of a request (undefined when tracing is off or the route is untraced). */
export function requestSpan(req: FastifyRequest): TraceSpan | undefined {
  return spans.get(req);
}

/** Registers the hooks; with tracing off at registration, registers nothing (no per-request cost). */
export function registerTracing(app: FastifyInstance): void {
  if (!tracing().enabled) return;
  app.addHook('onRequest', (req, _reply, done) => {
    const route = req.routeOptions.url;
    if (route === undefined || UNTRACED.has(route)) return done();
    const header = req.headers.traceparent;
    const span = tracing().start(`${req.method} ${route}`, {
      kind: 'server',
      traceparent: typeof header === 'string' ? header : undefined,
      // The route template, never the path: /v1/users/{userId} must not put a user id into the traces.
      attributes: { 'http.request.method': req.method, 'http.route': route, 'agp.request_id': req.id },
    });
    spans.set(req, span);
    done();
  });
  app.addHook('preHandler', (req, _reply, done) => {
    const span = spans.get(req);
    if (span) tracing().activate(span, done);
    else done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const span = spans.get(req);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.fail(new Error(`HTTP ${reply.statusCode}`));
      span.end();
    }
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    const span = spans.get(req);
    if (span) {
      span.setAttribute('agp.aborted', true);
      span.end();
    }
    done();
  });
}
