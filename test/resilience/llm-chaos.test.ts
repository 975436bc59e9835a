/**
 * LLM chaos at steady load, against the real server process (src/server.ts) and the LLM double.
 *
 * Phases, in one continuous closed-loop run at 20 concurrent requests:
 *   1. chaos (~8 s): per LLM call 20 % 500, 5 % 429 (Retry-After: 1 s, longer than the 400 ms deadline),
 *      5 % hang, 10 % junk, 5 % partial rankings, with 60 ± 40 ms latency;
 *   2. outage: every call answers 500 until the breaker opens (agp_llm_circuit_state 1);
 *   3. recovery: chaos off; the breaker must close again within BREAKER_RESET_MS + 1 s, then fallbacks stop.
 *
 * The oracle is per request: every request tags its titles with `rq<index>`, so the double's recorded calls
 * can be attributed to the request that made them, and each fallback reason must be explained by what the
 * double actually served that request (see `unexplained`).
 */
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
/** LLM slots in the hung-refresh test: 64 slots leave 16 for background refreshes. */
const LLM_SLOTS = 64;
import { buildTestApp } from '../support/build-test-app.js';
import { startLlmDouble, type ChaosOptions, type LlmDouble, type LlmDoubleMode, type RecordedCall } from '../../testkit/llm-double.js';
import {
  metricByLabel,
  monitorLag,
  metricValue,
  percentile,
  reasonHistogram,
  rerankProblem,
  runLoad,
  scrape,
  sendOne,
  type LoadSample,
  type RerankBody,
} from '../../testkit/load.js';
import { startServerProcess, type ServerProcess } from '../../testkit/processes.js';
import { sleep } from '../../testkit/wait.js';

const DEADLINE_MS = 400;
const BREAKER_RESET_MS = 1_000;
const CONCURRENCY = 20;
const CHAOS_MS = 8_000;
const CHAOS: ChaosOptions = { error500: 0.2, error429: 0.05, hang: 0.05, junk: 0.1, partial: 0.05 };
/**
 * The bound, on the server's own clock (timingsMs.total). It is checked per request PLUS the event-loop
 * stall the server reported while that request was in flight (LagMonitor.during): on a 2-core machine that runs other
 * test files (and other people's work) at the same time, the process is sometimes simply not scheduled, and
 * a deadline timer cannot fire before the process runs. What remains must stay within 50 ms, so a service
 * that waits past its deadline (a retry or backoff not bounded by it, a hang not aborted) still fails.
 */
const SERVER_BOUND_MS = DEADLINE_MS + 50;
/** Client-side elapsed: the same, plus this process's own lag and 50 ms for loopback HTTP and scheduling. */
const CLIENT_BOUND_MS = DEADLINE_MS + 50 + 50;

let double: LlmDouble;
let server: ServerProcess;

beforeAll(async () => {
  double = await startLlmDouble({ latency: { meanMs: 60, jitterMs: 40 }, seed: 7 });
  server = await startServerProcess({
    env: {
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'k',
      LLM_MODEL: 'double-model',
      BREAKER_RESET_MS: String(BREAKER_RESET_MS),
      BREAKER_FAILURE_THRESHOLD: '5',
      LLM_MAX_RETRIES: '2',
      WORKER_ENABLED: 'false',
      MAX_EVENT_LOOP_DELAY_MS: '0',
    },
  });
});
afterAll(async () => {
  await server?.stop();
  await double?.close();
});

const TAG = /\brq(\d+)\b/;

function rerankBody(i: number) {
  const tag = `rq${i}`;
  return {
    userId: `chaos-${i}`,
    // A quarter use AGP (profile call, then rerank call), the rest LLM-Dir (one rerank call).
    method: i % 4 === 3 ? 'agp' : 'direct',
    deadlineMs: DEADLINE_MS,
    history: Array.from({ length: 3 }, (_, k) => ({ id: `h${k}`, title: `${tag} seen ${k} space opera` })),
    candidates: Array.from({ length: 8 }, (_, k) => ({ id: `c${k}`, title: `${tag} candidate ${k} drama` })),
  };
}

/** Modes after which a call's answer is a usable HTTP 200. */
const ANSWERED: ReadonlySet<LlmDoubleMode> = new Set(['ok', 'junk', 'partial', 'repairable']);

/**
 * Why a request's outcome is NOT explained by the calls the double served it (in arrival order), or null.
 * - no fallback: the last call was answered with a usable ranking (ok);
 * - unparseable: the last call was a rerank call answered with junk or a partial ranking;
 * - llm_error: the last call was a 500 (retries exhausted or no time left to retry) or a 429 whose
 *   Retry-After outlasts the deadline;
 * - timeout: the last call hung, or the deadline was actually reached;
 * - circuit_open: the failing step reached no LLM at all (no call, or only a successful profile call).
 */
function unexplained(body: RerankBody, method: string, calls: RecordedCall[]): string | null {
  const reason = body.fallback?.reason ?? null;
  const last = calls.at(-1);
  const modes = calls.map((c) => `${c.role}:${c.mode}`).join(',') || 'no calls';
  const profileOnly = method === 'agp' && calls.every((c) => c.role === 'profile') && (!last || ANSWERED.has(last.mode));
  const ok = (cond: boolean) => (cond ? null : `reason ${reason} after [${modes}] in ${body.timingsMs.total} ms`);
  switch (reason) {
    case null:
      return ok(last?.role === 'rerank' && last.mode === 'ok' && !calls.some((c) => c.mode === 'hang'));
    case 'unparseable':
      return ok(last?.role === 'rerank' && (last.mode === 'junk' || last.mode === 'partial'));
    case 'llm_error':
      return ok(last?.mode === 'error500' || last?.mode === 'error429');
    case 'timeout':
      return ok(last?.mode === 'hang' || body.timingsMs.total >= DEADLINE_MS - 5);
    case 'circuit_open':
      return ok(calls.length === 0 || profileOnly);
    default:
      return ok(false);
  }
}

describe('LLM chaos at steady load', () => {
  it('answers every request with a valid permutation, explains every fallback, meets the deadline, and recovers', async () => {
    // Warm-up without faults: the first requests of a fresh process run cold code (JIT, first connections);
    // chaos starts once the service is warm, as it would be in production.
    // The same connections carry the measured run.
    const dispatcher = new Agent({ connections: CONCURRENCY, pipelining: 1 });
    await runLoad({ origin: server.origin, dispatcher, concurrency: CONCURRENCY, durationMs: 1_500, pauseMs: 20, next: (i) => ({ path: '/v1/rerank', body: rerankBody(1_000_000 + i) }) });
    double.calls.length = 0;

    const lag = monitorLag(server.origin, 100);
    const stopLoad = new AbortController();
    const phase = { chaosEnd: 0, open: 0, off: 0, closed: 0 };
    const waitForState = async (want: number, withinMs: number) => {
      const until = performance.now() + withinMs;
      while (performance.now() < until) {
        const w = lag.latest();
        if (w && w.to > performance.now() - 150 && w.circuitState === want) return w.to;
        await sleep(20);
      }
      return Number.NaN;
    };

    const controller = (async () => {
      double.setChaos(CHAOS);
      await sleep(CHAOS_MS);
      phase.chaosEnd = performance.now();
      double.setChaos({ error500: 1 });
      phase.open = await waitForState(1, 10_000);
      await sleep(300); // stay open a while, well inside BREAKER_RESET_MS
      double.setChaos(undefined); // back to mode 'ok'
      phase.off = performance.now();
      phase.closed = await waitForState(0, BREAKER_RESET_MS + 5_000);
      await sleep(1_000);
      stopLoad.abort();
    })();

    const before = await scrape(server.origin);
    const run = await runLoad({
      origin: server.origin,
      dispatcher,
      concurrency: CONCURRENCY,
      signal: stopLoad.signal,
      durationMs: 40_000, // backstop only; the controller stops the run
      timeoutMs: 5_000,
      // Steady traffic, not a tight loop: fast circuit_open answers must not turn into a request storm.
      pauseMs: () => 10 + Math.random() * 20,
      next: (i) => ({ method: 'POST', path: '/v1/rerank', body: rerankBody(i) }),
    });
    await controller;
    await lag.stop();
    await dispatcher.close();
    const after = await scrape(server.origin);
    const samples = run.samples;

    // --- every request: 200 and a permutation of exactly its candidates
    expect(run.transportErrors).toBe(0);
    const broken = samples.map((s) => rerankProblem(s, rerankBody(s.index).candidates)).filter(Boolean);
    expect(broken).toEqual([]);
    expect(samples.length).toBeGreaterThan(300);
    const body = (s: LoadSample) => s.body as RerankBody;

    // --- attribute the double's calls to requests, and explain every outcome
    const callsOf = new Map<number, RecordedCall[]>();
    for (const c of double.calls) {
      const m = TAG.exec(c.messages.map((x) => x.content).join('\n'));
      if (!m) continue;
      const i = Number(m[1]);
      const list = callsOf.get(i) ?? [];
      list.push(c);
      callsOf.set(i, list);
    }
    const problems: string[] = [];
    for (const s of samples) {
      const calls = callsOf.get(s.index) ?? [];
      const why = unexplained(body(s), rerankBody(s.index).method, calls);
      if (why) problems.push(`#${s.index} ${rerankBody(s.index).method}: ${why}`);
      // A 429 asks for 1 s, more than the deadline: it must end the call, never be waited out.
      const at429 = calls.findIndex((c) => c.mode === 'error429');
      if (at429 >= 0 && calls.slice(at429 + 1).some((c) => c.role === calls[at429]?.role)) {
        problems.push(`#${s.index}: retried after a 429 whose Retry-After outlasts the deadline`);
      }
    }
    expect(problems.slice(0, 20)).toEqual([]);

    // --- each injected fault class shows up as its expected reason at least once during the chaos phase
    const chaosSamples = samples.filter((s) => s.endedAt <= phase.chaosEnd);
    const seen = (mode: LlmDoubleMode, reason: string) =>
      chaosSamples.some((s) => callsOf.get(s.index)?.at(-1)?.mode === mode && body(s).fallback?.reason === reason);
    expect({
      error500: seen('error500', 'llm_error'),
      error429: seen('error429', 'llm_error'),
      hang: seen('hang', 'timeout'),
      junk: seen('junk', 'unparseable'),
      partial: seen('partial', 'unparseable'),
    }).toEqual({ error500: true, error429: true, hang: true, junk: true, partial: true });
    // 500s are retried inside the deadline, and a retry can rescue the request.
    const rescued = chaosSamples.filter((s) => body(s).fallback === null && (callsOf.get(s.index) ?? []).some((c) => c.mode === 'error500'));
    expect(rescued.length).toBeGreaterThan(0);
    // Only reasons the faults explain; 20 concurrent never fill 64 LLM slots, so nothing is `overloaded`.
    const hist = reasonHistogram(samples);
    const chaosHist = reasonHistogram(chaosSamples);
    expect(Object.keys(hist).filter((r) => !['none', 'llm_error', 'timeout', 'unparseable', 'circuit_open'].includes(r))).toEqual([]);
    expect(chaosHist.none ?? 0).toBeGreaterThan(0);

    // --- deadline: no answer later than deadline + 50 ms beyond the event-loop stalls the processes suffered
    const late: string[] = [];
    for (const s of samples) {
      const { serverLagMs, clientLagMs } = lag.during(s.startedAt, s.endedAt);
      const total = body(s).timingsMs.total;
      if (total > SERVER_BOUND_MS + serverLagMs) late.push(`#${s.index} server ${total} ms (server lag ${serverLagMs.toFixed(0)} ms)`);
      if (s.elapsedMs > CLIENT_BOUND_MS + serverLagMs + clientLagMs) {
        late.push(`#${s.index} client ${s.elapsedMs.toFixed(0)} ms (lag server ${serverLagMs.toFixed(0)}, client ${clientLagMs.toFixed(0)} ms)`);
      }
    }
    expect(late).toEqual([]);
    const totals = samples.map((s) => body(s).timingsMs.total);
    const elapsed = samples.map((s) => s.elapsedMs);
    // Timeouts happen AT the deadline, not before it (the budget is used, not cut short).
    const timeouts = samples.filter((s) => body(s).fallback?.reason === 'timeout').map((s) => body(s).timingsMs.total);
    expect(timeouts.length).toBeGreaterThan(0);
    expect(Math.min(...timeouts)).toBeGreaterThanOrEqual(DEADLINE_MS - 5);

    // --- the breaker opened in the outage, fails fast while open, and closes again after chaos is off
    expect(phase.open).not.toBeNaN();
    const whileOpen = samples.filter((s) => s.startedAt >= phase.open && s.endedAt <= phase.off);
    expect(whileOpen.length).toBeGreaterThan(0);
    expect(whileOpen.filter((s) => body(s).fallback?.reason !== 'circuit_open' || body(s).usage.llmCalls !== 0)).toEqual([]);
    expect(phase.closed).not.toBeNaN();
    const recoveryMs = phase.closed - phase.off;
    expect(recoveryMs).toBeLessThanOrEqual(BREAKER_RESET_MS + 1_000);
    const afterClose = samples.filter((s) => s.startedAt >= phase.closed);
    expect(afterClose.length).toBeGreaterThan(20);
    expect(reasonHistogram(afterClose)).toEqual({ none: afterClose.length });
    expect(metricValue(after, 'agp_llm_circuit_state')).toBe(0);

    // --- the server's own accounting agrees with what clients saw
    const delta = (name: string) => {
      const a = metricByLabel(after, name, 'reason');
      const b = metricByLabel(before, name, 'reason');
      return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]).filter(([, v]) => v !== 0));
    };
    const { none: _none, ...fallbacks } = hist;
    expect(delta('agp_rerank_fallbacks_total')).toEqual(fallbacks);
    // No error-level log line: every fault was handled as a fallback, none as an unexpected failure.
    expect(server.output().split('\n').filter((l) => /"level":(50|60)/.test(l))).toEqual([]);

    const maxLag = lag.max();
    console.log(
      `[llm-chaos] ${samples.length} requests in ${(run.elapsedMs / 1000).toFixed(1)} s; chaos-phase reasons ${JSON.stringify(chaosHist)}; ` +
        `all reasons ${JSON.stringify(hist)}; server total p50/p99/max ${percentile(totals, 50)}/${percentile(totals, 99)}/${Math.max(...totals)} ms; ` +
        `client p50/p99/max ${percentile(elapsed, 50).toFixed(0)}/${percentile(elapsed, 99).toFixed(0)}/${Math.max(...elapsed).toFixed(0)} ms; ` +
        `max event-loop lag server ${maxLag.serverLagMs.toFixed(0)} ms, client ${maxLag.clientLagMs.toFixed(0)} ms; ` +
        `breaker closed ${recoveryMs.toFixed(0)} ms after chaos off`,
    );
  }, 55_000);

  it('a request that joins another request\'s profile generation still answers by its own deadline', async () => {
    // Found by this file: a coalesced waiter used to wait for the shared generation, which runs under the
    // deadline of whoever started it (here 5 s), and answered after ~1.5 s despite its 400 ms deadline.
    double.setChaos(undefined);
    double.setLatency(1_500);
    double.calls.length = 0;
    try {
      const req = (deadlineMs: number) => ({
        path: '/v1/rerank',
        body: { ...rerankBody(2_000_000), userId: 'coalesced-user', method: 'agp', deadlineMs },
      });
      const slow = sendOne(server.origin, req(5_000));
      await sleep(100);
      const joined = await sendOne(server.origin, req(DEADLINE_MS));
      const first = await slow;
      const j = joined.body as RerankBody;
      expect(rerankProblem(joined, rerankBody(2_000_000).candidates)).toBeNull();
      expect(j.fallback).toEqual({ reason: 'timeout' });
      expect(j.timingsMs.total).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
      // Far below the 1.5 s the shared generation takes (the bug answered at ~1,460 ms).
      expect(j.timingsMs.total).toBeLessThan(1_000);
      // The generation was still shared (one profile call), and the request that started it got its answer.
      expect((first.body as RerankBody).fallback).toBeNull();
      expect(double.calls.filter((c) => c.role === 'profile')).toHaveLength(1);
      console.log(`[llm-chaos] coalesced waiter answered in ${j.timingsMs.total} ms (deadline ${DEADLINE_MS} ms; shared generation 1500 ms)`);
    } finally {
      double.setLatency({ meanMs: 60, jitterMs: 40 });
    }
  }, 20_000);

  it('background profile refreshes stuck on a hung LLM leave LLM slots for requests someone waits for', async () => {
    // Found by scripts/soak.ts: with rotating histories, stale-while-revalidate starts a background refresh per
    // stale hit; when the LLM hangs each holds a concurrency slot for PROFILE_REFRESH_DEADLINE_MS (15 s), and
    // they filled all 64 slots, so foreground reranks (20 clients) fell back with `overloaded`.
    const USERS = 100;
    const hung = await startLlmDouble({ latency: 5 });
    // The breaker would open on the hung rerank calls and hide the slots behind circuit_open; when it probes
    // again, the probe needs a slot too, so the starvation delays recovery just the same. Keep it closed here.
    const t = await buildTestApp({
      env: { LLM_BASE_URL: hung.url, LLM_API_KEY: 'k', LLM_MODEL: 'double-model', BREAKER_FAILURE_THRESHOLD: '1000', LLM_MAX_CONCURRENCY: String(LLM_SLOTS) },
      jobs: false,
    });
    try {
      const post = (payload: object) => t.app.inject({ method: 'POST', url: '/v1/rerank', payload });
      const agp = (u: number, h: string) => ({
        userId: `bg-${u}`,
        method: 'agp',
        deadlineMs: 150,
        history: [{ id: `${h}${u}`, title: `Film ${h} ${u}` }],
        candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }],
      });
      const inBatches = async (n: number, f: (u: number) => Promise<unknown>) => {
        for (let u = 0; u < n; u += 10) await Promise.all(Array.from({ length: Math.min(10, n - u) }, (_, k) => f(u + k)));
      };
      await inBatches(USERS, (u) => post({ ...agp(u, 'a'), deadlineMs: 5_000 }));
      hung.setMode('hang');
      // Every user comes back with a changed history: served stale at once, and a refresh starts... and hangs.
      await inBatches(USERS, async (u) => expect((await post(agp(u, 'b'))).json().profile).toEqual({ cached: true, stale: true }));
      await sleep(100);
      const inflight = (await t.container.metrics.llmInflight.get()).values[0]?.value ?? 0;
      const hungRefreshes = hung.calls.filter((c) => c.role === 'profile' && c.mode === 'hang').length;
      hung.setMode('ok');
      const direct = await post({ userId: 'fg', method: 'direct', history: [{ id: 'h', title: 'H' }], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] });
      expect(direct.json().fallback).toBeNull();
      // The container gives background refreshes a quarter of the LLM slots.
      expect(hungRefreshes).toBe(LLM_SLOTS / 4);
      expect(inflight).toBeLessThanOrEqual(LLM_SLOTS / 4);
      console.log(`[llm-chaos] ${USERS} stale users on a hung LLM: ${hungRefreshes} background refreshes hold slots (${inflight} in flight); a foreground rerank still gets one`);
    } finally {
      await hung.close(); // fails the hung calls fast, so the drain in close() does not wait 15 s
      await t.close();
    }
  }, 30_000);
});
