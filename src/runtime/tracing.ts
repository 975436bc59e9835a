/**
 * The OpenTelemetry implementation of the tracing port (src/agp/tracing.ts): a BasicTracerProvider with the
 * configured sampler, a batch span processor and the OTLP/HTTP (JSON) exporter; the active span kept in an
 * AsyncLocalStorage context manager; W3C trace context in and out. Nothing is registered on OTel's global
 * API, so a library that also uses @opentelemetry/api cannot pick up (or replace) this provider by accident.
 *
 * Built by the runtime only when config.tracing.enabled; every other module sees the port.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api';
import type { Context, Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../config.js';
import type { SpanAttributes, SpanValue, StartSpanOptions, TraceSpan, Tracing } from '../agp/tracing.js';
import { NOOP_SPAN, installTracing, noopTracing, tracedMethods, tracing } from '../agp/tracing.js';
import type { Closers } from './closers.js';

const KINDS = { server: SpanKind.SERVER, client: SpanKind.CLIENT, internal: SpanKind.INTERNAL } as const;

/** The sampler OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG name. */
export function samplerFor(name: TracingConfig['sampler'], ratio: number): Sampler {
  const root = name.endsWith('always_off') ? new AlwaysOffSampler() : name.endsWith('traceidratio') ? new TraceIdRatioBasedSampler(ratio) : new AlwaysOnSampler();
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/** Our port's span over an OTel span (the OTel span is kept to make it the active one). */
class OtelSpan implements TraceSpan {
  constructor(readonly span: Span) {}
  setAttribute(key: string, value: SpanValue | undefined): void {
    if (value !== undefined) this.span.setAttribute(key, value);
  }
  fail(err: unknown, reason?: string): void {
    // Name and message only: the stack adds nothing for an operator, and messages here never carry prompt text.
    const name = err instanceof Error ? err.name : typeof err;
    const message = err instanceof Error ? err.message : String(err);
    this.span.addEvent('exception', { 'exception.type': name, 'exception.message': message });
    this.span.setStatus({ code: SpanStatusCode.ERROR, message });
    if (reason !== undefined) this.span.setAttribute('error.type', reason);
  }
  end(): void {
    this.span.end();
  }
}

function defined(attrs: SpanAttributes | undefined): Record<string, SpanValue> | undefined {
  if (!attrs) return undefined;
  const out: Record<string, SpanValue> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) out[k] = v;
  return out;
}

/** The OTel-backed tracer. */
export function createOtelTracing(config: TracingConfig, version: string): Tracing {
  const exporter = new OTLPTraceExporter({ url: config.endpoint, timeoutMillis: config.exportTimeoutMs });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': version }),
    sampler: samplerFor(config.sampler, config.samplerRatio),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: config.batchDelayMs })],
  });
  const tracer = provider.getTracer('agp-rerank', version);
  const contexts = new AsyncLocalStorageContextManager().enable();
  const propagator = new W3CTraceContextPropagator();

  const parentOf = (opts: StartSpanOptions): Context =>
    opts.root ? ROOT_CONTEXT : opts.traceparent === undefined ? contexts.active() : propagator.extract(ROOT_CONTEXT, { traceparent: opts.traceparent }, defaultTextMapGetter);

  return {
    enabled: true,
    start(name: string, opts: StartSpanOptions = {}): TraceSpan {
      const span = tracer.startSpan(name, { kind: KINDS[opts.kind ?? 'internal'], attributes: defined(opts.attributes) }, parentOf(opts));
      return new OtelSpan(span);
    },
    activate<T>(span: TraceSpan, fn: () => T): T {
      if (!(span instanceof OtelSpan)) return fn();
      return contexts.with(trace.setSpan(contexts.active(), span.span), fn);
    },
    active(): TraceSpan {
      const span = trace.getSpan(contexts.active());
      return span ? new OtelSpan(span) : NOOP_SPAN;
    },
    traceparent(): string | undefined {
      const carrier: Record<string, string> = {};
      propagator.inject(contexts.active(), carrier, defaultTextMapSetter);
      return carrier.traceparent;
    },
    async shutdown() {
      await provider.shutdown();
      contexts.disable();
    },
  };
}

/**
 * Installs the OTel tracer for this process when config.tracing.enabled, and registers its flush-and-restore on
 * the role's closers (pushed first, so it closes last: the spans of the shutdown itself are exported).
 */
export function setUpTracing(config: TracingConfig, closers: Closers, version = '0.1.0'): void {
  if (!config.enabled) return;
  const t = createOtelTracing(config, version);
  const previous = installTracing(t);
  closers.push(async () => {
    installTracing(previous === t ? noopTracing : previous);
    await t.shutdown();
  });
}

/**
 * A Redis store adapter with a client span per call (`redis.<store>.<method>`) when tracing is on; the store
 * itself, untouched, when it is off. A wrapper at the port, not a patch of ioredis: one span per store
 * operation (a script or a pipeline is one span), named after what the service asked for.
 */
export function traceRedisStore<T extends object>(store: T, name: string, onRedis: boolean): T {
  return onRedis && tracing().enabled ? tracedMethods(store, `redis.${name}`, 'redis') : store;
}
