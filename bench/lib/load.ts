/**
 * A thin, typed wrapper over autocannon's programmatic API.
 *
 * Measured runs use `amount` (a fixed number of requests, split evenly across connections) rather than
 * `duration`: autocannon stops a duration run by destroying its sockets, which aborts up to `connections`
 * in-flight requests that the server has already paid for (and, in the service, turns them into
 * `timeout` fallbacks). With `amount`, every request sent is answered, so CPU/request and LLM
 * calls/request have exact denominators. The amount is sized from the warm-up's rate × the duration,
 * and a hard stop bounds the run at 3× the duration anyway.
 *
 * Latencies are taken from autocannon's per-response `responseTime` (hrtime, fractional ms) and the
 * percentiles computed exactly from the sorted samples (autocannon's own histogram has 1 ms buckets
 * and no p95).
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';

interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  resets: number;
  requests: { sent: number; total: number };
}

interface AutocannonInstance extends EventEmitter {
  stop(): void;
}

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
}

type Autocannon = (
  opts: Record<string, unknown>,
  cb: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

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
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** From the start of the run to the last response. */
  elapsedMs: number;
  rps: number;
  latencyMs: LatencySummary;
  /** True when the hard stop fired (in-flight requests were aborted). */
  hardStopped: boolean;
}

/** Exact percentile (nearest-rank) of ascending-sorted samples. */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarize(samples: Float64Array | number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
  };
}

/** Runs one autocannon load and resolves with exact latency percentiles. */
export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  return new Promise<LoadResult>((resolve, reject) => {
    let samples = new Float64Array(1 << 16);
    let n = 0;
    const statusCodes: Record<string, number> = {};
    let lastAt = 0;
    let hardStopped = false;
    const nextBody = opts.body;
    const request: AutocannonRequest = {
      method: opts.method,
      path: opts.path,
      ...(opts.method === 'POST' ? { headers: { 'content-type': 'application/json' } } : {}),
      ...(nextBody ? { setupRequest: (req: AutocannonRequest) => ({ ...req, body: nextBody() }) } : {}),
    };
    const startedAt = performance.now();
    const instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        pipelining: 1,
        timeout: 30,
        sampleInt: 100,
        requests: [request],
        ...(opts.amount ? { amount: opts.amount } : { duration: opts.durationSec ?? 10 }),
      },
      (err, result) => {
        clearTimeout(hard);
        if (err) return reject(err);
        const elapsedMs = (lastAt || performance.now()) - startedAt;
        resolve({
          completed: n,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodes,
          elapsedMs,
          rps: n / (elapsedMs / 1000),
          latencyMs: summarize(samples.subarray(0, n)),
          hardStopped,
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (n === samples.length) {
        const bigger = new Float64Array(samples.length * 2);
        bigger.set(samples);
        samples = bigger;
      }
      samples[n++] = responseTime;
      lastAt = performance.now();
      const k = String(statusCode);
      statusCodes[k] = (statusCodes[k] ?? 0) + 1;
    });
    const hard = setTimeout(() => {
      hardStopped = true;
      instance.stop();
    }, opts.hardStopMs);
  });
}
