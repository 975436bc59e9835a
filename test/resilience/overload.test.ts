/**
 * Overload, two ways, against the real app (buildTestApp) listening on 127.0.0.1:0:
 *
 * 1. More concurrent reranks than the LLM concurrency limit can absorb (limit 4, queue wait 20 ms, LLM
 *    latency 300 ms, 60 clients): the excess is shed fast with `overloaded`, the slots stay full, the LLM
 *    never sees more than the limit, and nothing times out.
 * 2. Event-loop lag above MAX_EVENT_LOOP_DELAY_MS (the loop is blocked from this test process, which hosts
 *    the server): requests get 503 + Retry-After in the one error shape, do no work, and the service
 *    answers normally again once the lag is gone.
 */
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { metricValue, percentile, reasonHistogram, rerankProblem, runLoad, scrape, sendOne, type LoadSample, type RerankBody } from '../../testkit/load.js';
import type { OpenAiLlmClient } from '../../src/llm/openai-llm-client.js';
import { sleep } from '../../testkit/wait.js';

let t: TestApp | undefined;
let double: LlmDouble | undefined;
afterEach(async () => {
  await t?.close();
  await double?.close();
  t = undefined;
  double = undefined;
});

async function listen(app: TestApp): Promise<string> {
  await app.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`;
}

const candidates = Array.from({ length: 5 }, (_, k) => ({ id: `c${k}`, title: `Candidate ${k}` }));
const rerankBody = (i: number, method = 'direct') => ({ userId: `u${i}`, method, history: [{ id: 'h', title: 'Seen' }], candidates });

const LIMIT = 4;
const QUEUE_MS = 20;
/**
 * 1 s rather than the example 300 ms: "well under the LLM latency" must hold with a margin larger
 * than the scheduling noise of a 2-core machine running other test files in parallel (the event loop of
 * this process, which hosts client, server and double, has been seen to stall for 100–270 ms there).
 */
const LLM_MS = 1_000;
const CLIENTS = 60;

describe('overload', () => {
  it('sheds the excess over LLM_MAX_CONCURRENCY fast with `overloaded`, keeps the slots full, never queues without bound', async () => {
    double = await startLlmDouble({ latency: LLM_MS });
    t = await buildTestApp({
      env: {
        LLM_BASE_URL: double.url,
        LLM_API_KEY: 'k',
        LLM_MODEL: 'double-model',
        LLM_MAX_CONCURRENCY: String(LIMIT),
        LLM_QUEUE_TIMEOUT_MS: String(QUEUE_MS),
        DEFAULT_DEADLINE_MS: '2000',
        // The production default: LLM overload must be absorbed as fallbacks, not turn into 503s.
        MAX_EVENT_LOOP_DELAY_MS: '1000',
      },
      jobs: false,
    });
    const origin = await listen(t);
    const { metrics } = t.container;
    const llm = t.container.llm as OpenAiLlmClient;

    // Every value the inflight gauge ever takes, not a sampled view of it.
    let maxGauge = 0;
    const set = metrics.llmInflight.set.bind(metrics.llmInflight);
    metrics.llmInflight.set = ((v: number) => {
      maxGauge = Math.max(maxGauge, v);
      set(v);
    }) as typeof metrics.llmInflight.set;
    let maxWaiting = 0;
    const sampler = setInterval(() => (maxWaiting = Math.max(maxWaiting, llm.gate.waiting)), 2);

    // Warm-up: open the 60 connections and run every code path once, so the measured run is steady overload
    // rather than a cold start (a cold burst is slower for reasons that have nothing to do with shedding).
    const dispatcher = new Agent({ connections: CLIENTS, pipelining: 1 });
    await runLoad({ origin, dispatcher, concurrency: CLIENTS, requests: 2 * CLIENTS, next: (i) => ({ path: '/v1/rerank', body: rerankBody(i) }) });
    double.calls.length = 0; // runLoad returned: every warm-up call has been answered
    maxGauge = 0;
    maxWaiting = 0;
    const before = await scrape(origin);

    const eld = monitorEventLoopDelay({ resolution: 10 });
    eld.enable();
    const run = await runLoad({
      origin,
      dispatcher,
      concurrency: CLIENTS,
      durationMs: 3_000,
      rampUpMs: 300,
      timeoutMs: 5_000,
      // Clients come back 100–300 ms after an answer: sustained pressure (~15× what the LLM slots absorb)
      // without a busy loop on 2 cores.
      pauseMs: () => 100 + Math.random() * 200,
      next: (i) => ({ path: '/v1/rerank', body: rerankBody(i) }),
    });
    clearInterval(sampler);
    eld.disable();
    await dispatcher.close();
    const text = await scrape(origin);
    const samples = run.samples;
    const body = (s: LoadSample) => s.body as RerankBody;

    expect(run.transportErrors).toBe(0);
    expect(samples.map((s) => rerankProblem(s, candidates)).filter(Boolean)).toEqual([]);
    const hist = reasonHistogram(samples);
    // Only two outcomes: served by the LLM, or shed. No timeouts, no errors.
    expect(Object.keys(hist).sort()).toEqual(['none', 'overloaded']);

    const shed = samples.filter((s) => body(s).fallback?.reason === 'overloaded');
    const served = samples.filter((s) => body(s).fallback === null);
    expect(shed.length).toBeGreaterThan(served.length);
    const shedServer = shed.map((s) => body(s).timingsMs.total);
    const shedClient = shed.map((s) => s.elapsedMs);
    // Shed answers are fast: they wait the bounded queue time, never for a slot to free (≥ LLM_MS away).
    expect(percentile(shedServer, 99)).toBeLessThan(LLM_MS / 4);
    expect(percentile(shedClient, 99)).toBeLessThan(LLM_MS / 3);
    // ...but they did wait for a slot before giving up (the queue is used, not skipped).
    expect(Math.min(...shedServer)).toBeGreaterThanOrEqual(QUEUE_MS - 2);
    // Shed requests never reached the LLM.
    expect(shed.every((s) => body(s).usage.llmCalls === 0)).toBe(true);

    // The limit holds: the gauge never exceeded it, and neither did the calls the LLM actually had open
    // (any window shorter than one call's latency sees at most LIMIT arrivals).
    expect(maxGauge).toBe(LIMIT);
    const arrivals = double.calls.map((c) => c.at).sort((a, b) => a - b);
    let maxInWindow = 0;
    for (let i = 0, j = 0; i < arrivals.length; i++) {
      while ((arrivals[i] as number) - (arrivals[j] as number) >= LLM_MS - 20) j++;
      maxInWindow = Math.max(maxInWindow, i - j + 1);
    }
    expect(maxInWindow).toBeLessThanOrEqual(LIMIT);
    expect(double.calls.length).toBe(served.length);
    // The slots were kept busy: at least half of the LLM's capacity over the run was used.
    const capacity = (run.elapsedMs / LLM_MS) * LIMIT;
    expect(served.length).toBeGreaterThan(capacity / 2);

    // No growing queue: waiters are bounded by the clients beyond the limit, and all gone at the end.
    expect(maxWaiting).toBeLessThanOrEqual(CLIENTS - LIMIT);
    expect(llm.gate.waiting).toBe(0);
    expect(llm.gate.inflight).toBe(0);
    expect(metricValue(text, 'agp_llm_inflight')).toBe(0);
    const overloadedSeries = 'agp_rerank_fallbacks_total{reason="overloaded"}';
    expect((metricValue(text, overloadedSeries) ?? 0) - (metricValue(before, overloadedSeries) ?? 0)).toBe(shed.length);

    console.log(
      `[overload] ${samples.length} requests in ${(run.elapsedMs / 1000).toFixed(1)} s from ${CLIENTS} clients: ` +
        `${served.length} served (capacity ${capacity.toFixed(0)}), ${shed.length} shed; ` +
        `shed server p50/p99/max ${percentile(shedServer, 50)}/${percentile(shedServer, 99)}/${Math.max(...shedServer)} ms, ` +
        `client p50/p99 ${percentile(shedClient, 50).toFixed(0)}/${percentile(shedClient, 99).toFixed(0)} ms; ` +
        `max inflight ${maxGauge}, max queued ${maxWaiting}; max event-loop lag ${(eld.max / 1e6 - 10).toFixed(0)} ms`,
    );
  }, 30_000);

  it('answers 503 + Retry-After with the error shape while the event loop lags, and recovers when it stops', async () => {
    const MAX_LAG_MS = 50;
    t = await buildTestApp({ env: { MAX_EVENT_LOOP_DELAY_MS: String(MAX_LAG_MS) }, jobs: false });
    const origin = await listen(t);
    const post = (i: number) => sendOne(origin, { path: '/v1/rerank', body: rerankBody(i, 'baseline') }, { timeoutMs: 10_000 });
    const reranks = async () => (await t!.container.metrics.reranks.get()).values.reduce((n, v) => n + v.value, 0);

    expect((await post(0)).status).toBe(200);

    // Block the loop in 150 ms slices (as a CPU-bound request would), letting one request through between
    // slices, until the lag check trips (under-pressure samples the loop delay once per second).
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        /* spin */
      }
    };
    const shed: LoadSample[] = [];
    const others: Array<number | null> = [];
    const before = await reranks();
    const until = performance.now() + 8_000;
    for (let i = 1; shed.length < 3 && performance.now() < until; i++) {
      busy(150);
      const s = await post(i);
      if (s.status === 503) shed.push(s);
      else others.push(s.status);
    }
    const workDuringShed = (await reranks()) - before;
    const stoppedBlockingAt = performance.now();

    // Then: normal again, without intervention, once a lag sample without blocking has been taken.
    let recoveredAfter = Number.NaN;
    let last: LoadSample | undefined;
    while (performance.now() - stoppedBlockingAt < 5_000) {
      last = await post(10_000);
      if (last.status === 200) {
        recoveredAfter = performance.now() - stoppedBlockingAt;
        break;
      }
      await sleep(50);
    }

    expect(shed.length).toBe(3);
    for (const s of shed) {
      expect(s.headers['retry-after']).toBe('1');
      const err = (s.body as { error: { code: string; message: string; requestId: string } }).error;
      expect(err).toMatchObject({ code: 'SERVICE_OVERLOADED', message: expect.any(String), requestId: expect.any(String) });
      expect(Object.keys(s.body as object)).toEqual(['error']);
      expect(s.headers['x-request-id']).toBe(err.requestId);
    }
    // Before the check tripped, requests were served normally; shed ones did no work at all: the rerank
    // counter moved only for the requests that were let through.
    expect(others.every((status) => status === 200)).toBe(true);
    expect(workDuringShed).toBe(others.length);
    expect(recoveredAfter).not.toBeNaN();
    // One under-pressure sample interval (1 s) plus this machine's scheduling.
    expect(recoveredAfter).toBeLessThan(3_000);
    expect(rerankProblem(last!, candidates)).toBeNull();
    console.log(`[overload] event-loop lag: ${shed.length} requests shed with 503, recovered ${recoveredAfter.toFixed(0)} ms after the blocking stopped`);
  }, 30_000);
});
