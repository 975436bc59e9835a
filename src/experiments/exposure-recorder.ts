/**
 * Records exposures OFF the request path: `record()` samples, enqueues and returns at once; it never
 * awaits the store and never throws. A single drain loop writes the queue to the store in batches, one
 * batch in flight at a time, so a slow or dead store costs queue memory (bounded by `maxQueue`; beyond it
 * new exposures are dropped and counted), never rerank latency or errors.
 *
 * Sampling is deterministic per requestId (a hash, not a coin), so every replica and every retry of a
 * request agrees on whether it is kept.
 */
import type { ExposureRecord, ExposureStore } from './ports.js';

/** What happened to an exposure handed to record() (bounded label values of the exposures metric). */
export type RecordOutcome = 'recorded' | 'sampled_out' | 'dropped' | 'failed';
export const RECORD_OUTCOMES: readonly RecordOutcome[] = ['recorded', 'sampled_out', 'dropped', 'failed'];

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
  /** Counts outcomes (metrics); `failed` and `dropped` also mean the exposure is lost. */
  onOutcome?: (outcome: RecordOutcome, count: number) => void;
}

/** What serving calls after every 200 rerank. */
export interface ExposureRecorder {
  /** Samples and enqueues an exposure; returns immediately and never throws. */
  record(exposure: ExposureRecord): void;
  /** Resolves once everything enqueued before the call has been written (or failed). */
  flush(): Promise<void>;
  /** Exposures waiting. */
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
  const count = (outcome: RecordOutcome, n = 1) => {
    if (n > 0) opts.onOutcome?.(outcome, n);
  };
  let queue: ExposureRecord[] = [];
  let draining: Promise<void> | undefined;

  const writeBatch = async (batch: ExposureRecord[]) => {
    try {
      const written = await opts.store.put(batch, opts.ttlSeconds);
      // The rest were dropped by an erasure that came after they were served, or were already stored (a
      // retried write): not a failure.
      count('recorded', written.filter(Boolean).length);
    } catch {
      count('failed', batch.length);
    }
  };

  const drain = async () => {
    while (queue.length > 0) {
      const batch = queue.slice(0, batchSize);
      queue = queue.slice(batch.length);
      await writeBatch(batch);
    }
  };

  const startDrain = () => {
    draining ??= (async () => {
      // Yield first: the response is sent before the first store call is even built.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await drain();
    })().finally(() => {
      draining = undefined;
      if (queue.length > 0) startDrain();
    });
  };

  return {
    get pending() {
      return queue.length;
    },
    record(exposure) {
      try {
        if (!isSampled(exposure.requestId, opts.sampleRate)) return count('sampled_out');
        if (queue.length >= maxQueue) return count('dropped');
        queue.push(exposure);
        startDrain();
      } catch {
        // record() is called from serving: a bug in a metric callback must not fail a rerank.
      }
    },
    async flush() {
      while (draining) await draining;
    },
  };
}
