/**
 * Records exposures OFF the request path: `record()` samples, enqueues and returns at once; it never
 * awaits the store and never throws. A single drain loop writes the queue to the store in batches, one
 * batch in flight at a time, so a slow or dead store costs queue memory (bounded by `maxQueue`; beyond it
 * new exposures are dropped and counted), never rerank latency or errors.
 *
 * Sampling is deterministic per requestId (a hash, not a coin), so every replica and every retry of a
 * request agrees on whether it is kept.
 */
import { encodedExposure } from './exposure-codec.js';
import type { EncodedExposure, ExposureRecord, ExposureStore, SumsUpdate } from './ports.js';

/** What happened to an exposure handed to record() (bounded label values of the exposures metric). */
export type RecordOutcome = 'recorded' | 'sampled_out' | 'dropped' | 'failed' | 'sums_failed';
export const RECORD_OUTCOMES: readonly RecordOutcome[] = ['recorded', 'sampled_out', 'dropped', 'failed', 'sums_failed'];

/** Attempts at an experiment's running sums after the exposure was written (a Redis blip should not cost them). */
const SUMS_ATTEMPTS = 3;
/** Attempts at writing an exposure before it is counted `failed` and lost. */
const PUT_ATTEMPTS = 3;

/** The store and limits of a recorder. */
export interface ExposureRecorderOptions {
  store: ExposureStore;
  ttlSeconds: number;
  /** Fraction of requests kept, 0–1 (EXPOSURE_SAMPLE_RATE). */
  sampleRate: number;
  /** Most exposures waiting for the store (default 10,000). */
  maxQueue?: number;
  /** Most exposures per store write (default 100). */
  batchSize?: number;
  /**
   * How long a drain waits before its first write (default 0: the next turn of the event loop). Under light
   * or sequential traffic every exposure would otherwise be a batch of one, paying its own round trips and
   * socket wake-ups; waiting gathers the exposures of several requests into one batch (one auto-pipelined
   * write per phase on Redis). An event sent within this window of its response finds no exposure yet.
   */
  gatherMs?: number;
  /**
   * Counts outcomes (metrics); `failed` and `dropped` also mean the exposure is lost; `sums_failed`: it was
   * written but its experiment's running sums could not be updated after SUMS_ATTEMPTS tries.
   */
  onOutcome?: (outcome: RecordOutcome, count: number) => void;
}

/** What serving calls after every 200 rerank. */
export interface ExposureRecorder {
  /**
   * Samples and enqueues an exposure; returns immediately and never throws. `sums`: what the exposure adds
   * to its experiment's running sums, applied once the exposure is written (and only if it is: a retried
   * requestId or an erased user adds nothing).
   */
  record(exposure: ExposureRecord, sums?: SumsUpdate | null): void;
  /**
   * True, and counted `sampled_out`, when the requestId is outside the sample: the caller then builds no
   * exposure at all (record() would only count it).
   */
  sampledOut(requestId: string): boolean;
  /** Resolves once everything enqueued before the call has been written (or failed). */
  flush(): Promise<void>;
  /** Exposures waiting to be written. */
  readonly pending: number;
}

/** FNV-1a of the requestId mapped to [0, 1): a stable, well-spread sampling coordinate. */
export function sampleCoordinate(requestId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) {
    h ^= requestId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 2 ** 32;
}

/** True when the requestId is inside the sample. */
export function isSampled(requestId: string, sampleRate: number): boolean {
  return sampleRate >= 1 || (sampleRate > 0 && sampleCoordinate(requestId) < sampleRate);
}

/** Builds a recorder with its own queue and drain loop (one per process). */
export function createExposureRecorder(opts: ExposureRecorderOptions): ExposureRecorder {
  const maxQueue = opts.maxQueue ?? 10_000;
  const batchSize = opts.batchSize ?? 100;
  const gatherMs = opts.gatherMs ?? 0;
  const count = (outcome: RecordOutcome, n = 1) => {
    if (n > 0) opts.onOutcome?.(outcome, n);
  };
  /**
   * An exposure to write, or (`written`) one already written whose sums are still to be applied. Encoded at
   * record() (ports.ts EncodedExposure): a flat string waits out the gather, not the served list's objects.
   */
  interface Job {
    write: EncodedExposure;
    experimentId: string | null;
    sums: SumsUpdate | null;
    written: boolean;
    attempts: number;
  }
  let queue: Job[] = [];
  /**
   * Written exposures whose running sums are still to be applied. They leave with the NEXT batch's writes
   * (in the same turn, so in the same socket write on Redis; redis-write-coalescing.ts), not in a write of
   * their own: on a loopback socket every write costs the serving process a kernel round of the TCP stack,
   * and a batch of a few exposures paid two. Sums land one gather later, which no reader can tell from an
   * event arriving later (the per-user fold is order-free).
   */
  let deferred: Job[] = [];
  let draining: Promise<void> | undefined;

  const applySums = async (job: Job) => {
    if (!job.sums || job.experimentId === null) return;
    try {
      await opts.store.applySums(job.experimentId, job.sums);
    } catch {
      // Retried with the next batch, so a short blip costs nothing.
      if (job.attempts + 1 < SUMS_ATTEMPTS) deferred.push({ ...job, written: true, attempts: job.attempts + 1 });
      else count('sums_failed');
    }
  };

  const writeBatch = async (toWrite: Job[], sumsDue: Job[]) => {
    // Issued before the put, in the same turn: one socket write carries both.
    const sumsApplied = Promise.all(sumsDue.map(applySums));
    let written: readonly boolean[] = [];
    try {
      if (toWrite.length > 0) written = await opts.store.put(toWrite.map((j) => j.write), opts.ttlSeconds);
      // The rest were dropped by an erasure that came after they were served, or were already stored (a
      // retried write): not a failure, and they add nothing to any sums.
      count('recorded', written.filter(Boolean).length);
    } catch {
      // A transient fault (a timeout, a cluster node still connecting) should not cost the exposures: a put
      // is idempotent (the first write of a requestId wins), so the batch goes round again, at most
      // PUT_ATTEMPTS times. One corner stays: an exposure the failed attempt did write reads as "already
      // stored" on the retry, so its experiment sums are not added (counted nowhere; rare).
      for (const j of toWrite) {
        if (j.attempts + 1 < PUT_ATTEMPTS) queue.push({ ...j, attempts: j.attempts + 1 });
        else count('failed');
      }
    }
    await sumsApplied;
    toWrite.forEach((j, i) => {
      if (written[i] === true && j.sums && j.experimentId !== null) deferred.push({ ...j, written: true, attempts: 0 });
    });
  };

  // At least one round per drain, so sums deferred by the previous drain go out even when no exposure came.
  const drain = async () => {
    do {
      const sumsDue = deferred;
      deferred = [];
      const batch = queue.slice(0, batchSize);
      queue = queue.slice(batch.length);
      await writeBatch(batch, sumsDue);
    } while (queue.length > 0);
  };

  const startDrain = () => {
    draining ??= (async () => {
      // Yield first: the response is sent before the first store call is even built.
      await new Promise<void>((resolve) => (gatherMs > 0 ? setTimeout(resolve, gatherMs) : setImmediate(resolve)));
      await drain();
    })().finally(() => {
      draining = undefined;
      if (queue.length > 0 || deferred.length > 0) startDrain();
    });
  };

  return {
    get pending() {
      return queue.length;
    },
    record(exposure, sums) {
      try {
        if (!isSampled(exposure.requestId, opts.sampleRate)) return count('sampled_out');
        if (queue.length >= maxQueue) return count('dropped');
        queue.push({ write: encodedExposure(exposure), experimentId: exposure.experiment?.id ?? null, sums: sums ?? null, written: false, attempts: 0 });
        startDrain();
      } catch {
        // record() is called from serving: a bug in a metric callback must not fail a rerank.
      }
    },
    sampledOut(requestId) {
      if (isSampled(requestId, opts.sampleRate)) return false;
      count('sampled_out');
      return true;
    },
    async flush() {
      while (draining) await draining;
    },
  };
}
