/**
 * The bench's measured load: testkit's closed-loop driver (testkit/load.ts) with `connections` workers,
 * reduced to what the bench reports — exact latency percentiles, status counts, throughput.
 *
 * Measured runs use `amount` (a fixed number of requests) rather than a duration, so CPU/request and LLM
 * calls/request have exact denominators; the amount is sized from the warm-up's rate × the duration. A
 * duration run stops starting requests when the time is up and still waits for those in flight, so none
 * is aborted after the server has paid for it. The hard stop bounds either mode: it stops starting new
 * requests, and each request in flight still has its own 30 s timeout.
 *
 * Latencies are the client-side time of each request (performance.now(), fractional ms); the percentiles
 * are exact (nearest-rank over every sample).
 */
import { performance } from 'node:perf_hooks';
import type { LoadRequest, LoadSample } from '../../testkit/load.js';
import { percentile, runLoad } from '../../testkit/load.js';

export interface LoadOptions {
  /** Origin, e.g. http://127.0.0.1:1234 */
  url: string;
  method: 'GET' | 'POST';
  path: string;
  connections: number;
  /** Body for each request (POST); called once per request. */
  body?: () => string;
  /** Fixed number of requests (measured runs). */
  amount?: number;
  /** Duration in seconds (warm-ups). */
  durationSec?: number;
  /** Hard stop (ms) whatever the mode. */
  hardStopMs: number;
}

export interface LatencySummary {
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LoadResult {
  /** Responses received (any status). */
  completed: number;
  non2xx: number;
  /** Requests that got no response (connection errors and timeouts). */
  errors: number;
  /** Of `errors`, those that hit the per-request timeout. */
  timeouts: number;
  statusCodes: Record<string, number>;
  /** From the start of the run to the last response. */
  elapsedMs: number;
  rps: number;
  latencyMs: LatencySummary;
  /** True when the hard stop fired (no new requests were started after it). */
  hardStopped: boolean;
}

export function summarize(samples: Float64Array | number[]): LatencySummary {
  let sum = 0;
  let max = Number.NaN;
  for (const v of samples) {
    sum += v;
    if (!(v <= max)) max = v;
  }
  return {
    mean: samples.length ? sum / samples.length : Number.NaN,
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    p999: percentile(samples, 99.9),
    max,
  };
}

/** Runs one load and resolves with exact latency percentiles. */
export async function measureLoad(opts: LoadOptions): Promise<LoadResult> {
  let samples = new Float64Array(1 << 16);
  let n = 0;
  let non2xx = 0;
  let errors = 0;
  let timeouts = 0;
  let lastAt = 0;
  const statusCodes: Record<string, number> = {};
  const onSample = (s: LoadSample) => {
    if (s.status === null) {
      errors++;
      if (/timeout/i.test(s.error ?? '')) timeouts++;
      return;
    }
    if (n === samples.length) {
      const bigger = new Float64Array(samples.length * 2);
      bigger.set(samples);
      samples = bigger;
    }
    samples[n++] = s.elapsedMs;
    lastAt = s.endedAt;
    if (s.status < 200 || s.status > 299) non2xx++;
    const k = String(s.status);
    statusCodes[k] = (statusCodes[k] ?? 0) + 1;
  };
  const request: LoadRequest = { method: opts.method, path: opts.path };
  const nextBody = opts.body;
  const hardStop = AbortSignal.timeout(opts.hardStopMs);
  const startedAt = performance.now();
  await runLoad({
    origin: opts.url,
    concurrency: opts.connections,
    ...(opts.amount ? { requests: opts.amount } : { durationMs: (opts.durationSec ?? 10) * 1000 }),
    next: nextBody ? () => ({ ...request, body: nextBody() }) : () => request,
    timeoutMs: 30_000,
    signal: hardStop,
    onSample,
    keepSamples: false,
    parseBody: false,
  });
  const elapsedMs = (lastAt || performance.now()) - startedAt;
  return {
    completed: n,
    non2xx,
    errors,
    timeouts,
    statusCodes,
    elapsedMs,
    rps: n / (elapsedMs / 1000),
    latencyMs: summarize(samples.subarray(0, n)),
    hardStopped: hardStop.aborted,
  };
}
