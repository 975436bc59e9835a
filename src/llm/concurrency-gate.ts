/**
 * A bounded-wait concurrency gate: at most `maxConcurrency` holders at once, FIFO waiters, and every
 * waiter gives up after its own wait budget. p-limit has no bounded wait, hence this small hand-rolled one.
 *
 * A released slot is handed straight to the oldest waiter, so `inflight` never dips between holders.
 */

/** Thrown (rejected) when no slot became free within the wait budget. */
export class GateOverloadedError extends Error {
  override readonly name = 'GateOverloadedError';
  constructor(readonly waitedMs: number) {
    super(`no concurrency slot within ${waitedMs}ms`);
  }
}

export interface ConcurrencyGateOptions {
  maxConcurrency: number;
  /** Called whenever `inflight` changes (e.g. to drive a gauge). */
  onChange?: ((inflight: number, waiting: number) => void) | undefined;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export interface ConcurrencyGate {
  readonly maxConcurrency: number;
  /** Slots currently held. */
  readonly inflight: number;
  /** Callers queued for a slot. */
  readonly waiting: number;
  /** Takes a slot if one is free right now. */
  tryAcquire(): boolean;
  /**
   * Takes a slot, waiting at most `waitMs` (0 = do not wait) in FIFO order.
   * Rejects with GateOverloadedError on timeout, or with the signal's reason when it aborts first.
   */
  acquire(waitMs: number, signal?: AbortSignal): Promise<void>;
  /** Returns a slot taken by tryAcquire/acquire. */
  release(): void;
}

export function createConcurrencyGate(opts: ConcurrencyGateOptions): ConcurrencyGate {
  const max = opts.maxConcurrency;
  if (!Number.isInteger(max) || max < 1) throw new RangeError('maxConcurrency must be an integer >= 1');
  const onChange = opts.onChange;
  let inflight = 0;
  // A Set iterates in insertion order and deletes in O(1): a FIFO that tolerates removal from the middle.
  const waiters = new Set<Waiter>();

  const changed = () => onChange?.(inflight, waiters.size);

  const detach = (w: Waiter) => {
    waiters.delete(w);
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
  };

  const tryAcquire = (): boolean => {
    if (inflight >= max) return false;
    inflight++;
    changed();
    return true;
  };

  return {
    maxConcurrency: max,
    get inflight() {
      return inflight;
    },
    get waiting() {
      return waiters.size;
    },
    tryAcquire,
    acquire(waitMs, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      // Only jump the queue when nobody is waiting, to keep FIFO fairness.
      if (waiters.size === 0 && tryAcquire()) return Promise.resolve();
      const budget = Math.max(0, Math.floor(waitMs));
      if (budget === 0) return Promise.reject(new GateOverloadedError(0));
      return new Promise<void>((resolve, reject) => {
        const w: Waiter = { resolve, reject, timer: undefined, signal, onAbort: undefined };
        w.timer = setTimeout(() => {
          detach(w);
          changed();
          reject(new GateOverloadedError(budget));
        }, budget);
        if (signal) {
          w.onAbort = () => {
            detach(w);
            changed();
            reject(signal.reason);
          };
          signal.addEventListener('abort', w.onAbort, { once: true });
        }
        waiters.add(w);
        changed();
      });
    },
    release() {
      if (inflight <= 0) throw new Error('ConcurrencyGate.release() without a held slot');
      const next = waiters.values().next();
      if (!next.done) {
        // Hand the slot over: inflight stays the same.
        const w = next.value;
        detach(w);
        changed();
        w.resolve();
        return;
      }
      inflight--;
      changed();
    },
  };
}
