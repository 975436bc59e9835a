/**
 * Runs a shadow experiment's candidate reranks OFF the request path. Serving calls `offer()` after a 200 rerank
 * of the experiment's domain: it samples the request (the recorder's requestId hash, at the experiment's
 * trafficShare), queues it and returns at once; it never awaits, never throws and never changes the answer.
 *
 * Per experiment (a "lane"):
 * - a bounded FIFO queue (`maxQueue`); a request offered to a full queue is dropped and counted `queueFull`;
 * - at most `maxConcurrency` candidate reranks in flight on this replica (the experiment's setting);
 * - an LLM-call budget per clock hour over every replica: before each rerank the hour's calls are read from the
 *   store, and once they reach `llmCallsPerHour` the rest of the hour is skipped (`budget`) without another
 *   read. Calls are charged after a rerank, so the hour can overshoot by the calls of the reranks that were in
 *   flight when the budget ran out (at most maxConcurrency per replica).
 *
 * The first step of a queued request waits for the next turn of the event loop (setImmediate), so the rerank's
 * response has been handed to the socket before any shadow work starts. A candidate rerank that falls back (the
 * LLM failed, timed out or answered junk) is counted `failed`, with its LLM calls, and records nothing.
 * Skips are counted in memory and written at most once per `flushMs` (a full queue under load must not cost a
 * store write per request).
 */
import type { Clock } from '../agp/ports.js';
import type { RerankInput, RerankOutput, Reranker } from '../agp/reranker.js';
import type { LoadedExperiment } from './experiment-serving.js';
import { isSampled } from './exposure-recorder.js';
import { kendallTau, shadowRecordOf } from './shadow-scoring.js';
import { clockHour, SHADOW_DEFAULTS, SHADOW_SKIPS } from './shadow-types.js';
import type { ShadowEntry, ShadowRetention, ShadowSkip, ShadowStore } from './shadow-types.js';

/** What happened to a sampled request (bounded label values of the Prometheus counter). */
export type ShadowOutcome = 'scored' | 'budget' | 'queue_full' | 'failed' | 'store_error';
export const SHADOW_OUTCOMES: readonly ShadowOutcome[] = ['scored', 'budget', 'queue_full', 'failed', 'store_error'];

const OUTCOME_OF: Record<ShadowSkip, ShadowOutcome> = { budget: 'budget', queueFull: 'queue_full', failed: 'failed' };

/** What the scheduler is built from. */
export interface ShadowSchedulerOptions {
  /** The candidate's reranker: the serving pipeline (its own LLM client in the runtime, so it never takes serving's slots). */
  reranker: Reranker;
  store: ShadowStore;
  clock: Clock;
  retention: ShadowRetention;
  /** True while the experiment runs; checked as each queued request starts (a stopped one's queue is dropped). */
  isRunning(experimentId: string): boolean;
  /** Deadline of a candidate rerank, ms, when longer than the request's own (the runtime passes MAX_DEADLINE_MS). */
  deadlineMs?: number | undefined;
  /** Requests waiting per experiment (default 64). */
  maxQueue?: number | undefined;
  /** Skip counts are written at most this often, ms (default 1,000). */
  flushMs?: number | undefined;
  onOutcome?: ((outcome: ShadowOutcome, count: number) => void) | undefined;
  onLlmCalls?: ((count: number) => void) | undefined;
  /** A store failure (the outcome is also counted `store_error`). */
  onError?: ((err: unknown) => void) | undefined;
}

/** The scheduler. */
export interface ShadowScheduler {
  /**
   * Samples and queues a served request of a shadow experiment; `served` (the item ids served, best first) is
   * only called for a sampled request. Returns at once and never throws.
   */
  offer(experiment: LoadedExperiment, requestId: string, input: RerankInput, served: () => readonly string[]): void;
  /** Resolves once every queued request has run and the counts are written (tests, shutdown). */
  flush(): Promise<void>;
  /** Drops queued requests (uncounted), aborts those in flight, writes the counts; later offers are ignored. */
  close(): Promise<void>;
  /** Requests queued over every experiment. */
  readonly pending: number;
}

interface Job {
  experiment: LoadedExperiment;
  requestId: string;
  input: RerankInput;
  served: readonly string[];
}

interface Lane {
  id: string;
  queue: Job[];
  inflight: number;
  /** The clock hour whose budget this replica saw spent (no store read until the hour changes). */
  spentHour: number | null;
  counts: Record<ShadowSkip, number>;
  timer: ReturnType<typeof setTimeout> | undefined;
  pumpScheduled: boolean;
}

/** Builds the scheduler (one per API process). */
export function createShadowScheduler(opts: ShadowSchedulerOptions): ShadowScheduler {
  const maxQueue = opts.maxQueue ?? 64;
  const flushMs = opts.flushMs ?? 1_000;
  const lanes = new Map<string, Lane>();
  const active = new Set<Promise<void>>();
  const abort = new AbortController();
  let closed = false;

  const outcome = (o: ShadowOutcome, n = 1) => {
    try {
      opts.onOutcome?.(o, n);
    } catch {
      // a metrics bug must not stop scoring
    }
  };
  const fail = (err: unknown) => {
    outcome('store_error');
    try {
      opts.onError?.(err);
    } catch {
      // as above
    }
  };

  const laneOf = (id: string): Lane => {
    let lane = lanes.get(id);
    if (!lane) lanes.set(id, (lane = { id, queue: [], inflight: 0, spentHour: null, counts: { budget: 0, queueFull: 0, failed: 0 }, timer: undefined, pumpScheduled: false }));
    return lane;
  };
  const idle = (l: Lane) => l.queue.length === 0 && l.inflight === 0 && l.timer === undefined && SHADOW_SKIPS.every((k) => l.counts[k] === 0);
  const tidy = (l: Lane) => {
    if (idle(l) && !l.pumpScheduled && l.spentHour !== clockHour(opts.clock.now())) lanes.delete(l.id);
  };

  const writeCounts = async (lane: Lane) => {
    const skipped = lane.counts;
    if (SHADOW_SKIPS.every((k) => skipped[k] === 0)) return;
    lane.counts = { budget: 0, queueFull: 0, failed: 0 };
    try {
      await opts.store.add(lane.id, { hour: clockHour(opts.clock.now()), llmCalls: 0, skipped }, opts.retention);
    } catch (err) {
      fail(err);
    }
  };
  const skip = (lane: Lane, kind: ShadowSkip) => {
    lane.counts[kind] += 1;
    outcome(OUTCOME_OF[kind]);
    lane.timer ??= setTimeout(() => {
      lane.timer = undefined;
      void writeCounts(lane).finally(() => tidy(lane));
    }, flushMs);
    lane.timer.unref?.();
  };

  const rerank = async (job: Job): Promise<RerankOutput | null> => {
    const arm = job.experiment.arms[0];
    if (!arm) return null;
    try {
      // Not the request's signal: the caller is gone by now, and the candidate's work is ours.
      // Off the path nobody waits, so the candidate gets the longest deadline the service grants, not the caller's.
      const deadlineMs = Math.max(job.input.deadlineMs, opts.deadlineMs ?? 0);
      return await opts.reranker.rerank({ ...job.input, deadlineMs, method: arm.method, prompt: arm.prompt, signal: abort.signal });
    } catch {
      return null;
    }
  };

  const run = async (lane: Lane, job: Job): Promise<void> => {
    const rec = job.experiment.record;
    if (!opts.isRunning(rec.id)) return;
    const hour = clockHour(opts.clock.now());
    if (lane.spentHour !== hour) {
      lane.spentHour = null;
      let used: number;
      try {
        used = await opts.store.callsThisHour(rec.id, hour);
      } catch (err) {
        return fail(err);
      }
      if (used >= (rec.shadow?.llmCallsPerHour ?? SHADOW_DEFAULTS.llmCallsPerHour)) lane.spentHour = hour;
    }
    if (lane.spentHour === hour) return skip(lane, 'budget');
    const out = await rerank(job);
    if (closed) return; // aborted by close(): neither scored nor failed
    const calls = out?.usage.llmCalls ?? 0;
    if (calls > 0) opts.onLlmCalls?.(calls);
    let entry: ShadowEntry = { hour, llmCalls: calls, skipped: { failed: 1 } };
    if (out && out.fallback === null) {
      const order = out.order.map((i) => job.input.candidates[i]?.id ?? '');
      const record = shadowRecordOf(job.requestId, job.served, order);
      entry = { hour, llmCalls: calls, record: { value: record, tau: kendallTau(record.candidate) } };
    }
    outcome(entry.record ? 'scored' : 'failed');
    try {
      await opts.store.add(rec.id, entry, opts.retention);
    } catch (err) {
      fail(err);
    }
  };

  const pump = (lane: Lane) => {
    lane.pumpScheduled = false;
    while (!closed && lane.queue.length > 0) {
      const max = lane.queue[0]?.experiment.record.shadow?.maxConcurrency ?? SHADOW_DEFAULTS.maxConcurrency;
      if (lane.inflight >= max) break;
      const job = lane.queue.shift() as Job;
      lane.inflight += 1;
      const p: Promise<void> = run(lane, job)
        .catch(fail)
        .finally(() => {
          lane.inflight -= 1;
          active.delete(p);
          pump(lane);
          tidy(lane);
        });
      active.add(p);
    }
    tidy(lane);
  };

  const flush = async (): Promise<void> => {
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (active.size > 0) await Promise.allSettled([...active]);
      else if (![...lanes.values()].some((l) => l.queue.length > 0 || l.pumpScheduled)) break;
    }
    await Promise.all(
      [...lanes.values()].map((l) => {
        if (l.timer) clearTimeout(l.timer);
        l.timer = undefined;
        return writeCounts(l);
      }),
    );
  };

  return {
    get pending() {
      let n = 0;
      for (const l of lanes.values()) n += l.queue.length;
      return n;
    },
    offer(experiment, requestId, input, served) {
      try {
        if (closed || !isSampled(requestId, experiment.record.trafficShare)) return;
        const ids = served();
        // One item has no order to compare; nothing is spent on it.
        if (ids.length < 2) return;
        const lane = laneOf(experiment.record.id);
        if (lane.queue.length >= maxQueue) return skip(lane, 'queueFull');
        lane.queue.push({ experiment, requestId, input, served: ids });
        if (!lane.pumpScheduled) {
          lane.pumpScheduled = true;
          // The next turn of the event loop: the response is written before the first shadow step runs.
          setImmediate(() => pump(lane));
        }
      } catch {
        // offer() runs on the request path: a bug here must not fail a rerank.
      }
    },
    flush,
    async close() {
      closed = true;
      for (const l of lanes.values()) l.queue = [];
      abort.abort();
      await Promise.allSettled([...active]);
      await flush();
    },
  };
}
