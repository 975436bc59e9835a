/**
 * The shadow scheduler over a scripted reranker and the in-memory store: it never runs on the request path,
 * never changes what is served, bounds its queue and its concurrency, stops at the hourly LLM-call budget (shared
 * by replicas through the store), and counts every sampled request it did not score.
 */
import { describe, expect, it } from 'vitest';
import type { RerankInput, RerankOutput, Reranker } from '../../src/agp/reranker.js';
import { createExperimentServing, type LoadedExperiment } from '../../src/experiments/experiment-serving.js';
import { isSampled, type ExposureRecorder } from '../../src/experiments/exposure-recorder.js';
import type { ExposureRecord } from '../../src/experiments/ports.js';
import { createShadowScheduler, type ShadowOutcome, type ShadowSchedulerOptions } from '../../src/experiments/shadow-scheduler.js';
import type { ShadowStore } from '../../src/experiments/shadow-types.js';
import { createMemoryShadowStore } from '../../src/store/memory-shadow-store.js';

const candidates = Array.from({ length: 5 }, (_, i) => ({ id: `c${i}`, title: `t${i}` }));
const input: RerankInput = { userId: 'u1', history: [], candidates, domain: 'shop', method: 'baseline', deadlineMs: 1_000, includeProfile: false };
const ids = candidates.map((c) => c.id);

function output(order: number[], over: Partial<RerankOutput> = {}): RerankOutput {
  return {
    order, method: 'agp', promptVersion: 'v2', fallback: null, repaired: false, profile: null, usage: { llmCalls: 1, promptTokens: 1, completionTokens: 1 },
    timingsMs: { total: 1 }, cache: 'off', model: null, scores: order.map(() => 0), agreement: null, passes: { requested: 1, succeeded: 1 }, ...over,
  };
}

/** A reranker whose answers the test releases one by one; it records what it was asked. */
function gatedReranker() {
  const calls: RerankInput[] = [];
  const waiting: Array<() => void> = [];
  let inflight = 0;
  let maxInflight = 0;
  const reranker: Reranker = {
    async rerank(i) {
      calls.push(i);
      inflight += 1;
      maxInflight = Math.max(maxInflight, inflight);
      await new Promise<void>((resolve) => waiting.push(resolve));
      inflight -= 1;
      return output([4, 3, 2, 1, 0]);
    },
  };
  return { reranker, calls, release: () => waiting.splice(0).forEach((r) => r()), get waiting() { return waiting.length; }, get maxInflight() { return maxInflight; } };
}

const instant = (order = [4, 3, 2, 1, 0], over: Partial<RerankOutput> = {}): Reranker & { calls: RerankInput[] } => {
  const calls: RerankInput[] = [];
  return { calls, rerank: (i) => (calls.push(i), Promise.resolve(output(order, over))) };
};

function shadowExperiment(over: { trafficShare?: number; maxConcurrency?: number; llmCallsPerHour?: number; id?: string } = {}): LoadedExperiment {
  return {
    record: {
      id: over.id ?? 'sh-1', domain: 'shop', mode: 'shadow', arms: [{ name: 'cand', method: 'agp', promptVersion: 'v2' }], trafficShare: over.trafficShare ?? 1, guardrails: {},
      state: 'running', createdAt: 0, stoppedAt: null, stopReason: null, pValues: {},
      shadow: { maxConcurrency: over.maxConcurrency ?? 4, llmCallsPerHour: over.llmCallsPerHour ?? 1_000 },
    },
    arms: [{ name: 'cand', method: 'agp', prompt: { domain: 'shop', version: 'v2', text: 'candidate prompt', historyLength: 4 } }],
  };
}

function scheduler(reranker: Reranker, over: Partial<ShadowSchedulerOptions> & { now?: () => number } = {}) {
  const outcomes: Record<string, number> = {};
  const store = over.store ?? createMemoryShadowStore();
  const s = createShadowScheduler({
    reranker,
    store,
    clock: { now: over.now ?? (() => 1_700_000_000_000) },
    retention: { ttlSeconds: 3_600, maxRecords: 1_000, maxBytes: 1 << 20 },
    isRunning: () => true,
    flushMs: 10,
    onOutcome: (o: ShadowOutcome, n: number) => void (outcomes[o] = (outcomes[o] ?? 0) + n),
    ...over,
  });
  return { s, store, outcomes };
}

describe('shadow scheduler', () => {
  it('runs nothing on the request path: offer returns at once and the candidate starts on a later turn', async () => {
    const r = instant();
    const { s, store } = scheduler(r, { deadlineMs: 9_000 });
    s.offer(shadowExperiment(), 'req-1', input, () => ids);
    await Promise.resolve();
    await Promise.resolve();
    expect(r.calls).toHaveLength(0);
    await s.flush();
    expect(r.calls).toHaveLength(1);
    // The candidate arm's method and pinned prompt, never the request's signal.
    expect(r.calls[0]).toMatchObject({ method: 'agp', prompt: { version: 'v2' }, candidates });
    expect(r.calls[0]?.signal).not.toBe(input.signal);
    // Nobody waits for it: the longest deadline the service grants, not the caller's.
    expect(r.calls[0]?.deadlineMs).toBe(9_000);
    const state = await store.read('sh-1');
    expect(state.records).toEqual([{ requestId: 'req-1', served: ids, candidate: [4, 3, 2, 1, 0] }]);
    expect(state.counters).toMatchObject({ scored: 1, llmCalls: 1, tau: { count: 1, sum: -1 } });
  });

  it('serving under a shadow experiment serves and records exactly what it would without one', async () => {
    const got: ExposureRecord[] = [];
    const recorder: ExposureRecorder = { record: (e, sums) => void got.push({ ...e, ...(sums ? { sums } : {}) }), sampledOut: () => false, flush: async () => {}, pending: 0 };
    const served = instant([1, 0, 2, 3, 4]);
    const offered: string[][] = [];
    const shadow = { offer: (_e: LoadedExperiment, _r: string, _i: RerankInput, s: () => readonly string[]) => void offered.push([...s()]) };
    const base = { reranker: served, recorder, activePrompt: () => ({ domain: 'shop', version: 'v1', text: 'p', historyLength: 4 }) };
    const withShadow = createExperimentServing({ ...base, experiments: { forDomain: () => shadowExperiment() }, shadow });
    const without = createExperimentServing({ ...base, experiments: { forDomain: () => undefined } });
    const a = await withShadow.serve(input, { requestId: 'r1', topN: 3, at: 5 });
    const b = await without.serve(input, { requestId: 'r1', topN: 3, at: 5 });
    expect(a).toEqual(b);
    expect(a.experiment).toBeNull();
    expect(got[0]).toEqual(got[1]);
    expect(got[0]).toMatchObject({ experiment: null, served: ['c1', 'c0', 'c2'] });
    expect(offered).toEqual([['c1', 'c0', 'c2']]);
    // The served request was reranked once, as the request asked: the candidate is not the serving reranker's business.
    expect(served.calls.map((c) => c.method)).toEqual(['baseline', 'baseline']);
  });

  it('bounds the queue (dropped and counted) and the concurrency per experiment', async () => {
    const g = gatedReranker();
    const { s, store, outcomes } = scheduler(g.reranker, { maxQueue: 3 });
    const exp = shadowExperiment({ maxConcurrency: 2 });
    for (let i = 0; i < 10; i++) s.offer(exp, `q-${i}`, input, () => ids);
    // Offered in one turn: 3 queued, 7 dropped at once (the 2 slots are only taken on the next turn).
    expect(s.pending).toBe(3);
    expect(outcomes.queue_full).toBe(7);
    await new Promise((r) => setTimeout(r, 20));
    expect(g.waiting).toBe(2);
    for (let i = 10; i < 14; i++) s.offer(exp, `q-${i}`, input, () => ids);
    // One waits behind the 2 in flight: 2 more fit, 2 are dropped.
    expect(s.pending).toBe(3);
    expect(outcomes.queue_full).toBe(9);
    while (g.waiting > 0 || s.pending > 0) {
      g.release();
      await new Promise((r) => setTimeout(r, 5));
    }
    await s.flush();
    expect(g.maxInflight).toBe(2);
    const { counters } = await store.read('sh-1');
    expect(counters.scored).toBe(5);
    expect(counters.skipped.queueFull).toBe(9);
  });

  it('stops at the hourly LLM-call budget, over replicas sharing the store, and resumes the next hour', async () => {
    let now = Date.UTC(2026, 0, 1, 10, 15);
    const store = createMemoryShadowStore();
    const r = instant([4, 3, 2, 1, 0], { usage: { llmCalls: 2, promptTokens: 0, completionTokens: 0 } });
    const a = scheduler(r, { store, now: () => now });
    const b = scheduler(r, { store, now: () => now });
    const exp = shadowExperiment({ llmCallsPerHour: 7 });
    for (let i = 0; i < 6; i++) {
      (i % 2 ? a : b).s.offer(exp, `b-${i}`, input, () => ids);
      await (i % 2 ? a : b).s.flush();
    }
    let { counters } = await store.read('sh-1');
    // 2 calls a rerank: 4 reranks reach 8 ≥ 7; every later one is skipped, whichever replica it lands on.
    expect(counters).toMatchObject({ scored: 4, llmCalls: 8, skipped: { budget: 2 } });
    expect(await store.callsThisHour('sh-1', Math.floor(now / 3_600_000))).toBe(8);
    now += 3_600_000;
    a.s.offer(exp, 'next-hour', input, () => ids);
    await a.s.flush();
    ({ counters } = await store.read('sh-1'));
    expect(counters).toMatchObject({ scored: 5, llmCalls: 10 });
  });

  it('counts a candidate that fell back as failed, with its LLM calls, and records nothing', async () => {
    const r = instant([0, 1, 2, 3, 4], { fallback: { reason: 'timeout' }, usage: { llmCalls: 3, promptTokens: 0, completionTokens: 0 } });
    const { s, store, outcomes } = scheduler(r);
    s.offer(shadowExperiment(), 'f-1', input, () => ids);
    await s.flush();
    const state = await store.read('sh-1');
    expect(state.records).toEqual([]);
    expect(state.counters).toMatchObject({ scored: 0, llmCalls: 3, skipped: { failed: 1 } });
    expect(outcomes.failed).toBe(1);
  });

  it('samples by the requestId hash at the trafficShare, skips one-item lists, and drops a stopped experiment’s queue', async () => {
    const r = instant();
    let running = true;
    const { s, store } = scheduler(r, { isRunning: () => running });
    const exp = shadowExperiment({ trafficShare: 0.3 });
    const requestIds = Array.from({ length: 60 }, (_, i) => `s-${i}`);
    let servedCalls = 0;
    for (const id of requestIds) s.offer(exp, id, input, () => (servedCalls++, ids));
    await s.flush();
    const expected = requestIds.filter((id) => isSampled(id, 0.3));
    expect(expected.length).toBeGreaterThan(5);
    expect(expected.length).toBeLessThan(40);
    expect(servedCalls).toBe(expected.length); // the served ids are only built for a sampled request
    expect((await store.read('sh-1')).records.map((x) => x.requestId).sort()).toEqual([...expected].sort());

    s.offer(shadowExperiment({ id: 'one' }), 'x', input, () => ['c0']);
    running = false;
    s.offer(shadowExperiment({ id: 'stopped' }), 'y', input, () => ids);
    await s.flush();
    expect(r.calls).toHaveLength(expected.length);
    expect((await store.read('stopped')).counters.scored).toBe(0);
  });

  it('a failing store is counted, never thrown; close aborts the candidates in flight and ignores later offers', async () => {
    const broken: ShadowStore = { ...createMemoryShadowStore(), callsThisHour: () => Promise.reject(new Error('down')) };
    const errors: unknown[] = [];
    const { s, outcomes } = scheduler(instant(), { store: broken, onError: (e) => void errors.push(e) });
    s.offer(shadowExperiment(), 'e-1', input, () => ids);
    await s.flush();
    expect(outcomes.store_error).toBe(1);
    expect(errors).toHaveLength(1);

    let aborted = false;
    const hanging: Reranker = {
      rerank: (i) =>
        new Promise((resolve) => {
          i.signal?.addEventListener('abort', () => {
            aborted = true;
            resolve(output([0, 1, 2, 3, 4], { fallback: { reason: 'cancelled' as never } }));
          });
        }),
    };
    const h = scheduler(hanging);
    h.s.offer(shadowExperiment(), 'h-1', input, () => ids);
    await new Promise((r) => setTimeout(r, 10));
    await h.s.close();
    expect(aborted).toBe(true);
    h.s.offer(shadowExperiment(), 'h-2', input, () => ids);
    await h.s.flush();
    expect((await h.store.read('sh-1')).counters).toMatchObject({ scored: 0, skipped: { failed: 0 } });
  });
});
