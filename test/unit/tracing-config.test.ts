/**
 * OTEL_* parsing (config.tracing) and the tracing port's no-op default: off unless an endpoint (or
 * OTEL_TRACES_EXPORTER=otlp) asks for it, the spec's endpoint rules, and no span work when off.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { NOOP_SPAN, noopTracing, traced, tracedMethods, tracing } from '../../src/agp/tracing.js';
import { samplerFor } from '../../src/runtime/tracing.js';

describe('config.tracing', () => {
  it('is off by default', () => {
    expect(loadConfig({}).tracing).toMatchObject({ enabled: false, serviceName: 'agp-rerank', sampler: 'parentbased_always_on', samplerRatio: 1 });
  });

  it('turns on with an endpoint, appending /v1/traces to the base URL only', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toMatchObject({ enabled: true, endpoint: 'http://collector:4318/v1/traces' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/custom' }).tracing).toMatchObject({ enabled: true, endpoint: 'http://tempo:4318/custom' });
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).tracing).toMatchObject({ enabled: true, endpoint: 'http://localhost:4318/v1/traces' });
  });

  it('stays off with OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true, even with an endpoint', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }).tracing.enabled).toBe(false);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).tracing.enabled).toBe(false);
  });

  it('reads the sampler and its ratio, and names a bad value', () => {
    expect(loadConfig({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' }).tracing).toMatchObject({ sampler: 'parentbased_traceidratio', samplerRatio: 0.01 });
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER: 'jaeger_remote' })).toThrow(ConfigError);
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it('builds the OTel sampler the variable names', () => {
    expect(samplerFor('always_off', 1).toString()).toBe('AlwaysOffSampler');
    expect(samplerFor('traceidratio', 0.25).toString()).toBe('TraceIdRatioBased{0.25}');
    expect(samplerFor('parentbased_traceidratio', 0.5).toString()).toMatch(/^ParentBased\{root=TraceIdRatioBased\{0.5\}/);
  });
});

describe('the tracing port with tracing off', () => {
  it('is the no-op: traced() calls through with the shared no-op span and keeps results and errors', async () => {
    expect(tracing()).toBe(noopTracing);
    const seen: unknown[] = [];
    await expect(traced('x', { a: 1 }, async (span) => (seen.push(span), 42))).resolves.toBe(42);
    await expect(traced('x', undefined, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(seen).toEqual([NOOP_SPAN]);
    expect(tracing().traceparent()).toBeUndefined();
  });

  it('tracedMethods keeps each method working on its own object', async () => {
    const store = {
      n: 1,
      async get(k: string) {
        return `${k}:${this.n}`;
      },
    };
    const wrapped = tracedMethods(store, 'redis.test', 'redis');
    await expect(wrapped.get('a')).resolves.toBe('a:1');
    expect(wrapped.n).toBe(1);
    expect(wrapped.get).not.toBe(store.get);
  });
});
