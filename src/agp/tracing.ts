/**
 * The tracing port: what the method, the adapters and the HTTP layer call to open spans, with no OpenTelemetry
 * import. The runtime installs an OTel-backed implementation (src/runtime/tracing.ts) when OTEL_* turns tracing
 * on; until then every call hits the no-op below, which allocates no span and no context, so tracing off
 * costs a property read and a branch per instrumented call.
 *
 * Process-wide on purpose (like OTel's own global tracer provider): spans are opened deep inside the method
 * (profile lookups, training phases), and threading a tracer through every deps object would touch every
 * constructor for a cross-cutting concern. The active span travels in async context (the adapter's
 * AsyncLocalStorage), so a child needs no parent argument.
 */

/** Span attribute values: scalars only (never prompt, profile or item text). */
export type SpanValue = string | number | boolean;
/** Attributes of a span; undefined entries are skipped. */
export type SpanAttributes = Readonly<Record<string, SpanValue | undefined>>;
/** OTel span kinds this service uses. */
export type SpanKind = 'server' | 'client' | 'internal';

/** One span. Every method is safe to call after end() (ignored). */
export interface TraceSpan {
  setAttribute(key: string, value: SpanValue | undefined): void;
  /** Marks the span failed: status ERROR, an exception event (the error's name and message), and `reason`. */
  fail(err: unknown, reason?: string): void;
  end(): void;
}

/** Options of Tracing.start. */
export interface StartSpanOptions {
  kind?: SpanKind | undefined;
  attributes?: SpanAttributes | undefined;
  /** A W3C `traceparent` header: the span is its child instead of the active span's (server spans). */
  traceparent?: string | undefined;
  /** Starts a new trace, whatever span is active (background work such as a training job). */
  root?: boolean | undefined;
}

/** The tracer port. */
export interface Tracing {
  /** False for the no-op: callers skip building attributes and wrappers. */
  readonly enabled: boolean;
  /** Starts a span, child of `opts.traceparent` when given, else of the active span (or a root). */
  start(name: string, opts?: StartSpanOptions): TraceSpan;
  /** Runs `fn` with `span` active, so spans started inside (and in its promise continuations) are its children. */
  activate<T>(span: TraceSpan, fn: () => T): T;
  /** The active span (the no-op span when there is none). */
  active(): TraceSpan;
  /** The W3C `traceparent` of the active span, for outgoing requests; undefined when none is sampled. */
  traceparent(): string | undefined;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** The span of the no-op tracer: one shared object, nothing recorded. */
export const NOOP_SPAN: TraceSpan = Object.freeze({
  setAttribute: () => undefined,
  fail: () => undefined,
  end: () => undefined,
});

/** Tracing off. */
export const noopTracing: Tracing = Object.freeze({
  enabled: false,
  start: () => NOOP_SPAN,
  activate: <T>(_span: TraceSpan, fn: () => T): T => fn(),
  active: () => NOOP_SPAN,
  traceparent: () => undefined,
  shutdown: async () => undefined,
});

let current: Tracing = noopTracing;

/** The process's tracer (the no-op until the runtime installs one). */
export function tracing(): Tracing {
  return current;
}

/** Installs the process's tracer (the runtime, when OTEL_* turns tracing on); returns the previous one. */
export function installTracing(t: Tracing): Tracing {
  const previous = current;
  current = t;
  return previous;
}

/**
 * Runs `fn` inside a new child span that ends when its promise settles; a rejection marks the span failed.
 * With tracing off it is a plain call of `fn` with the no-op span (no span, no extra promise).
 */
export function traced<T>(
  name: string,
  attributes: SpanAttributes | undefined,
  fn: (span: TraceSpan) => Promise<T>,
  kind?: SpanKind,
  root?: boolean,
): Promise<T> {
  const t = current;
  if (!t.enabled) return fn(NOOP_SPAN);
  const span = t.start(name, { kind, attributes, root });
  return t.activate(span, async () => {
    try {
      return await fn(span);
    } catch (err) {
      span.fail(err, reasonOf(err));
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The `reason` of a domain error (LlmCallError, UnavailableError…), when it has a string one. */
function reasonOf(err: unknown): string | undefined {
  const reason = (err as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

/**
 * Wraps every method of a store adapter in a client span `<prefix>.<method>` (db.system `system`). The runtime
 * wraps only when tracing is on, so the untraced store is the exact object with no indirection.
 */
export function tracedMethods<T extends object>(target: T, prefix: string, system: string): T {
  const out: Record<string, unknown> = {};
  for (const key of methodNames(target)) {
    const fn = (target as Record<string, unknown>)[key] as (...args: unknown[]) => unknown;
    const name = `${prefix}.${key}`;
    out[key] = (...args: unknown[]) =>
      traced(name, { 'db.system': system, 'db.operation': key }, async () => await fn.apply(target, args), 'client');
  }
  // Getters and plain fields (if any) still read from the original.
  return new Proxy(target, { get: (obj, prop, recv) => (typeof prop === 'string' && prop in out ? out[prop] : Reflect.get(obj, prop, recv)) });
}

function methodNames(target: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = target; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const key of Object.getOwnPropertyNames(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (key !== 'constructor' && d && typeof d.value === 'function') names.add(key);
    }
  }
  return [...names];
}
