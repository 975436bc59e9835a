/**
 * The one load driver (undici, closed-loop) for the resilience tests, scripts/soak.ts and the bench, plus
 * the few helpers those share: the rerank response invariant, percentiles, a /metrics reader and an
 * event-loop lag monitor. The server process itself comes from processes.ts.
 *
 * runLoad() is closed-loop: `concurrency` workers each send one request, wait for its answer (or its
 * per-request timeout), optionally pause, and send the next, until `durationMs` has passed, `requests`
 * have been started, or `signal` aborts — whichever comes first. It never leaves a request behind: it
 * resolves after every started request has settled. Each request yields one sample with its status,
 * parsed body, headers and client-side elapsed time (performance.now(), ms).
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Agent, getGlobalDispatcher, request } from 'undici';
import type { Dispatcher } from 'undici';
import { sleep } from './wait.js';

/** One request to send. `body` is JSON-encoded when it is not a string. */
export interface LoadRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The outcome of one request. Times are performance.now() milliseconds of the driving process. */
export interface LoadSample {
  index: number;
  worker: number;
  request: LoadRequest;
  startedAt: number;
  endedAt: number;
  elapsedMs: number;
  /** HTTP status, or null when the request failed at the transport level (see `error`). */
  status: number | null;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the response says so, else the text; undefined on transport errors or with parseBody false. */
  body: unknown;
  /** Error code (ECONNREFUSED, UND_ERR_…, TimeoutError) or message, for transport failures. */
  error?: string;
}

export interface LoadOptions {
  /** Origin, e.g. http://127.0.0.1:1234 */
  origin: string;
  /** Workers (requests in flight at once). */
  concurrency: number;
  /** Stop starting requests after this long. */
  durationMs?: number;
  /** Stop after this many requests have been started. */
  requests?: number;
  /** Builds request number `index` (0-based, in start order). */
  next: (index: number, worker: number) => LoadRequest;
  /**
   * Per-request timeout (default 15 s): no headers, or a pause in the body, longer than this aborts the request,
   * recorded as error `TimeoutError`.
   */
  timeoutMs?: number;
  /** Pause of each worker between its requests (ms, or a function of the worker for jitter). Default 0. */
  pauseMs?: number | ((worker: number) => number);
  /** Worker w starts after w/concurrency × rampUpMs, so the first requests do not all arrive in one burst. */
  rampUpMs?: number;
  /** Stops starting new requests (in-flight ones still finish). */
  signal?: AbortSignal;
  /** Called for every sample as it settles. */
  onSample?: (s: LoadSample) => void;
  /** Keep every sample in the result (default true); the soak turns this off and aggregates in onSample. */
  keepSamples?: boolean;
  /** Dispatcher to use; by default a fresh Agent with `concurrency` connections, closed at the end. */
  dispatcher?: Dispatcher;
  /** Parse JSON bodies into samples (default true); the bench only times responses and turns this off. */
  parseBody?: boolean;
}

export interface LoadResult {
  samples: LoadSample[];
  /** Requests started (= settled). */
  count: number;
  /** Transport failures (status null). */
  transportErrors: number;
  elapsedMs: number;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function errorCode(err: unknown): string {
  const code = rawErrorCode(err);
  return TIMEOUT_CODES.has(code) ? 'TimeoutError' : code;
}

function rawErrorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: { code?: unknown } };
    if (typeof e.code === 'string') return e.code;
    if (e.cause && typeof e.cause.code === 'string') return e.cause.code;
    if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}

type Received = { status: number; headers: LoadSample['headers']; body: unknown };

/** The response with its body parsed as JSON when it says so, else as text. */
async function readBody(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions): Promise<Received> {
  const res = await dispatcher.request(options);
  const text = await res.body.text();
  let body: unknown = text;
  if (String(res.headers['content-type'] ?? '').includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.statusCode, headers: res.headers, body };
}

/**
 * The response with its body read and dropped, on undici's raw dispatch API: no body stream per request,
 * which roughly halves the client's CPU per request when all the caller wants is the status and the time.
 */
function discardBody(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions): Promise<Received> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: LoadSample['headers'] = {};
    dispatcher.dispatch(options, {
      // Its presence is what tells undici this handler speaks the controller API.
      onRequestStart() {},
      onResponseStart(_controller, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders;
      },
      onResponseEnd: () => resolve({ status, headers, body: undefined }),
      onResponseError: (_controller, err) => reject(err),
    });
  });
}

/** Sends one request and records it; never throws. */
export async function sendOne(
  origin: string,
  req: LoadRequest,
  opts: { dispatcher?: Dispatcher; timeoutMs?: number; index?: number; worker?: number; parseBody?: boolean } = {},
): Promise<LoadSample> {
  const startedAt = performance.now();
  const base = { index: opts.index ?? 0, worker: opts.worker ?? 0, request: req, startedAt };
  const body = req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  const headers: Record<string, string> = { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...req.headers };
  const dispatcher = opts.dispatcher ?? getGlobalDispatcher();
  const options: Dispatcher.DispatchOptions = {
    origin,
    path: req.path,
    method: req.method ?? (body !== undefined ? 'POST' : 'GET'),
    headers,
    body,
    // undici's own timers rather than an AbortSignal.timeout() per request: the same bound for an answer that
    // never comes, at less client CPU per request (the bench's load shares the cores it measures).
    headersTimeout: opts.timeoutMs ?? 15_000,
    bodyTimeout: opts.timeoutMs ?? 15_000,
  };
  try {
    const res = opts.parseBody === false ? await discardBody(dispatcher, options) : await readBody(dispatcher, options);
    const endedAt = performance.now();
    return { ...base, endedAt, elapsedMs: endedAt - startedAt, status: res.status, headers: res.headers, body: res.body };
  } catch (err) {
    const endedAt = performance.now();
    return { ...base, endedAt, elapsedMs: endedAt - startedAt, status: null, headers: {}, body: undefined, error: errorCode(err) };
  }
}

/** Drives closed-loop load; see the file comment. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  if (opts.durationMs === undefined && opts.requests === undefined && opts.signal === undefined) {
    throw new Error('runLoad: give durationMs, requests or signal, or it never stops');
  }
  const ownDispatcher = opts.dispatcher ? undefined : new Agent({ connections: opts.concurrency, pipelining: 1 });
  const dispatcher = opts.dispatcher ?? (ownDispatcher as Dispatcher);
  const keep = opts.keepSamples ?? true;
  const samples: LoadSample[] = [];
  const started = performance.now();
  const until = opts.durationMs === undefined ? Infinity : started + opts.durationMs;
  let nextIndex = 0;
  let transportErrors = 0;
  const stop = () => performance.now() >= until || (opts.requests !== undefined && nextIndex >= opts.requests) || opts.signal?.aborted === true;

  const worker = async (w: number) => {
    if (opts.rampUpMs) await sleep((w / opts.concurrency) * opts.rampUpMs);
    while (!stop()) {
      const index = nextIndex++;
      const s = await sendOne(opts.origin, opts.next(index, w), { dispatcher, timeoutMs: opts.timeoutMs, index, worker: w, parseBody: opts.parseBody });
      if (s.status === null) transportErrors++;
      if (keep) samples.push(s);
      opts.onSample?.(s);
      const pause = typeof opts.pauseMs === 'function' ? opts.pauseMs(w) : opts.pauseMs ?? 0;
      if (pause > 0 && !stop()) await sleep(pause);
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, (_, w) => worker(w)));
  } finally {
    await ownDispatcher?.close();
  }
  samples.sort((a, b) => a.index - b.index);
  return { samples, count: nextIndex, transportErrors, elapsedMs: performance.now() - started };
}

/** Nearest-rank percentile (p in 0..100) of values in any order; NaN for none. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

// ---------------------------------------------------------------------------------------------------------
// Rerank invariants

/** The subset of the rerank response the invariants look at. */
export interface RerankBody {
  ranking: Array<{ id: string; rank: number; baseRank: number }>;
  fallback: { reason: string } | null;
  repaired: boolean;
  profile: { cached: boolean; stale?: boolean } | null;
  promptVersion: string;
  timingsMs: { total: number; profile?: number; rerank?: number };
  usage: { llmCalls: number };
  requestId: string;
}

/**
 * Null when `sample` is a 200 whose ranking is a permutation of exactly `candidates` (ranks 1..n,
 * consistent baseRank); otherwise a one-line description of what is wrong.
 */
export function rerankProblem(sample: LoadSample, candidates: ReadonlyArray<{ id: string }>): string | null {
  if (sample.status !== 200) return `status ${sample.status ?? sample.error}`;
  const body = sample.body as Partial<RerankBody> | undefined;
  if (!body || !Array.isArray(body.ranking)) return 'no ranking in body';
  if (body.ranking.length !== candidates.length) return `ranking has ${body.ranking.length} of ${candidates.length} candidates`;
  const seen = new Set<string>();
  for (const [pos, r] of body.ranking.entries()) {
    if (r.rank !== pos + 1) return `rank ${r.rank} at position ${pos + 1}`;
    if (candidates[r.baseRank - 1]?.id !== r.id) return `baseRank ${r.baseRank} does not match id ${r.id}`;
    if (seen.has(r.id)) return `duplicate id ${r.id}`;
    seen.add(r.id);
  }
  if (body.fallback !== null && !(body.fallback && typeof body.fallback.reason === 'string')) return 'malformed fallback';
  if (body.fallback && body.ranking.some((r) => r.rank !== r.baseRank)) return 'fallback answer is not the baseline order';
  return null;
}

/** Histogram of fallback reasons (`none` for null) over 200 rerank samples. */
export function reasonHistogram(samples: readonly LoadSample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.status !== 200) continue;
    const reason = (s.body as RerankBody).fallback?.reason ?? 'none';
    out[reason] = (out[reason] ?? 0) + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Prometheus text

/** Value of one series in Prometheus text exposition, e.g. `agp_llm_circuit_state` or `x{reason="timeout"}`; undefined when absent. */
export function metricValue(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1).trim().split(' ')[0]);
  }
  return undefined;
}

/** Every series of a metric name with its `reason`-style single label value → number. */
export function metricByLabel(text: string, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = new RegExp(`^${name}\\{[^}]*${label}="([^"]*)"[^}]*\\} (\\S+)`, 'gm');
  for (const m of text.matchAll(re)) out[m[1] as string] = Number(m[2]);
  return out;
}

/** GET /metrics as text. */
export async function scrape(origin: string): Promise<string> {
  const res = await request(`${origin}/metrics`, { signal: AbortSignal.timeout(5_000) });
  return res.body.text();
}

// ---------------------------------------------------------------------------------------------------------
// Event-loop lag, server and client, in time windows

/** One sampling window: the largest event-loop delay each side saw in it, and the breaker gauge at its end. */
export interface LagWindow {
  from: number;
  to: number;
  /**
   * nodejs_eventloop_lag_max_seconds of the server (prom-client resets it at every scrape), in ms, minus the
   * 10 ms sampling resolution both monitors include in their readings.
   */
  serverLagMs: number;
  /** The largest event-loop delay of this (the driving) process in the window, in ms. */
  clientLagMs: number;
  /** agp_llm_circuit_state at the end of the window. */
  circuitState: number | undefined;
}

export interface LagMonitor {
  windows: LagWindow[];
  /** The most recent window (undefined before the first scrape). */
  latest(): LagWindow | undefined;
  /**
   * Event-loop stall each side suffered while [from, to] was in flight: the sum, over the windows that overlap
   * it, of each window's largest delay (a request can be hit by more than one stall).
   */
  during(from: number, to: number): { serverLagMs: number; clientLagMs: number };
  /** The largest single delay each side reported over the whole run. */
  max(): { serverLagMs: number; clientLagMs: number };
  stop(): Promise<void>;
}

/**
 * Scrapes the server's /metrics every `intervalMs` and records, per window, the server's and this process's
 * largest event-loop delay. A response that overshoots a deadline by no more than the lag both processes
 * suffered meanwhile was late because the CPU was not available, not because the service waited too long.
 * Scraping resets the server's lag maximum, so run at most one monitor per server.
 */
export function monitorLag(origin: string, intervalMs = 250): LagMonitor {
  const windows: LagWindow[] = [];
  const own = monitorEventLoopDelay({ resolution: 10 });
  own.enable();
  let stopped = false;
  let from = performance.now();
  const loop = (async () => {
    while (!stopped) {
      await sleep(intervalMs);
      try {
        const text = await scrape(origin);
        const to = performance.now();
        const serverLag = metricValue(text, 'nodejs_eventloop_lag_max_seconds');
        windows.push({
          from,
          to,
          serverLagMs: serverLag === undefined ? 0 : Math.max(0, serverLag * 1000 - 10),
          clientLagMs: Math.max(0, own.max / 1e6 - 10),
          circuitState: metricValue(text, 'agp_llm_circuit_state'),
        });
        own.reset();
        from = to;
      } catch {
        /* server gone: keep the windows we have */
      }
    }
  })();
  return {
    windows,
    latest: () => windows.at(-1),
    during(a, b) {
      let serverLagMs = 0;
      let clientLagMs = 0;
      for (const w of windows) {
        if (w.to < a || w.from > b) continue;
        serverLagMs += w.serverLagMs;
        clientLagMs += w.clientLagMs;
      }
      return { serverLagMs, clientLagMs };
    },
    max() {
      return {
        serverLagMs: Math.max(0, ...windows.map((w) => w.serverLagMs)),
        clientLagMs: Math.max(0, ...windows.map((w) => w.clientLagMs)),
      };
    },
    async stop() {
      stopped = true;
      await loop;
      own.disable();
    },
  };
}
