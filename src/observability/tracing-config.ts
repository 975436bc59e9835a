/**
 * The standard OpenTelemetry environment variables this service reads (a subset of the OTel SDK
 * specification), parsed with the rest of the environment by src/config.ts into `config.tracing`.
 *
 * Tracing is on when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
 * OTEL_EXPORTER_OTLP_ENDPOINT) or OTEL_TRACES_EXPORTER=otlp, and off otherwise (OTEL_TRACES_EXPORTER
 * defaults to none without an endpoint); OTEL_SDK_DISABLED=true turns it off whatever else is set.
 */
import { z } from 'zod';

/** OTEL_TRACES_SAMPLER values (the SDK specification's, minus jaeger_remote and xray). */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** The OTLP/HTTP port the specification gives as default. */
const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';

const optionalUrl = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v))
  .pipe(z.string().url().optional());

/** The OTEL_* part of the environment schema. */
export const tracingEnv = {
  OTEL_SDK_DISABLED: z.string().trim().toLowerCase().optional(),
  OTEL_TRACES_EXPORTER: z
    .string()
    .trim()
    .toLowerCase()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v))
    .pipe(z.enum(['otlp', 'none']).optional()),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl,
  OTEL_SERVICE_NAME: z.string().trim().min(1).max(200).default('agp-rerank'),
  OTEL_TRACES_SAMPLER: z.string().trim().toLowerCase().default('parentbased_always_on').pipe(z.enum(TRACE_SAMPLERS)),
  /** The ratio of the traceidratio samplers (default 1). */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  /** Batch span processor: longest delay between two exports (ms; the spec's OTEL_BSP_SCHEDULE_DELAY). */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(1).max(600_000).default(5_000),
  /** Longest one export may take (ms; the spec's OTEL_EXPORTER_OTLP_TIMEOUT). */
  OTEL_EXPORTER_OTLP_TIMEOUT: z.coerce.number().int().min(1).max(600_000).default(10_000),
} as const;

type TracingEnv = z.output<z.ZodObject<typeof tracingEnv>>;

/** `config.tracing`. */
export interface TracingConfig {
  enabled: boolean;
  /** The full OTLP/HTTP traces URL (…/v1/traces). */
  endpoint: string;
  serviceName: string;
  sampler: (typeof TRACE_SAMPLERS)[number];
  samplerRatio: number;
  batchDelayMs: number;
  exportTimeoutMs: number;
}

/** The tracing part of Config. */
export function toTracingConfig(e: TracingEnv): TracingConfig {
  const base = e.OTEL_EXPORTER_OTLP_ENDPOINT;
  // The signal-specific variable is the URL as-is; the generic one gets the signal path (OTLP spec).
  const endpoint = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${(base ?? DEFAULT_OTLP_ENDPOINT).replace(/\/+$/, '')}/v1/traces`;
  const exporter = e.OTEL_TRACES_EXPORTER ?? (e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || base ? 'otlp' : 'none');
  return {
    enabled: exporter === 'otlp' && e.OTEL_SDK_DISABLED !== 'true',
    endpoint,
    serviceName: e.OTEL_SERVICE_NAME,
    sampler: e.OTEL_TRACES_SAMPLER,
    samplerRatio: e.OTEL_TRACES_SAMPLER_ARG,
    batchDelayMs: e.OTEL_BSP_SCHEDULE_DELAY,
    exportTimeoutMs: e.OTEL_EXPORTER_OTLP_TIMEOUT,
  };
}
