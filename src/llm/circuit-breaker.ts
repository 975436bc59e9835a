/**
 * Consecutive-failure circuit breaker with a single half-open probe.
 *
 *   closed --(failureThreshold consecutive failures)--> open --(resetMs elapsed)--> half_open
 *   half_open --(probe succeeds)--> closed;  half_open --(probe fails)--> open
 *
 * Callers take a permit and settle it exactly once: success(), failure(), or release() for outcomes
 * that say nothing about the endpoint's health (our own queue was full, the caller aborted).
 * Permits granted in an earlier state are ignored when they settle, so a straggler from the closed
 * era can neither close an open breaker nor re-open a probing one.
 * The open → half_open transition is evaluated lazily (on `state` / `tryAcquire`), so no timers are kept.
 */
import type { Clock } from '../agp/ports.js';
import { systemClock } from '../agp/ports.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** Gauge encoding (agp_llm_circuit_state): 0 closed, 1 open, 2 half-open. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = Object.freeze({
  closed: 0,
  open: 1,
  half_open: 2,
});

export interface CircuitBreakerOptions {
  failureThreshold: number;
  resetMs: number;
  clock?: Clock | undefined;
  onStateChange?: ((state: BreakerState, previous: BreakerState) => void) | undefined;
}

/** The right to make one call; settle it once. Later settlements are ignored. */
export interface BreakerPermit {
  /** True when this permit is the half-open probe. */
  readonly probe: boolean;
  success(): void;
  failure(): void;
  /** Neutral outcome: the call said nothing about the endpoint's health. */
  release(): void;
}

export interface CircuitBreaker {
  readonly state: BreakerState;
  /** Consecutive failures counted in the closed state. */
  readonly consecutiveFailures: number;
  /** A permit, or null when open (or half-open with the probe already out): fail fast. */
  tryAcquire(): BreakerPermit | null;
}

export function createCircuitBreaker(opts: CircuitBreakerOptions): CircuitBreaker {
  const { failureThreshold, resetMs } = opts;
  if (!Number.isInteger(failureThreshold) || failureThreshold < 1) {
    throw new RangeError('failureThreshold must be an integer >= 1');
  }
  if (!(resetMs >= 0)) throw new RangeError('resetMs must be >= 0');
  const clock = opts.clock ?? systemClock;
  const onStateChange = opts.onStateChange;

  let state: BreakerState = 'closed';
  /** Bumped on every transition; permits carry the epoch they were granted in. */
  let epoch = 0;
  let failures = 0;
  let openedAt = 0;
  let probeOut = false;

  const transition = (next: BreakerState) => {
    const previous = state;
    state = next;
    epoch++;
    probeOut = false;
    if (next === 'open') openedAt = clock.now();
    if (next === 'closed') failures = 0;
    onStateChange?.(next, previous);
  };

  const refresh = () => {
    if (state === 'open' && clock.now() - openedAt >= resetMs) transition('half_open');
  };

  const settle = (permitEpoch: number, probe: boolean, outcome: 'success' | 'failure' | 'release') => {
    if (permitEpoch !== epoch) return; // granted in an earlier state: stale
    if (probe) {
      if (outcome === 'success') transition('closed');
      else if (outcome === 'failure') transition('open');
      else probeOut = false; // let the next caller probe
      return;
    }
    // closed-state permit
    if (outcome === 'success') failures = 0;
    else if (outcome === 'failure' && ++failures >= failureThreshold) transition('open');
  };

  const makePermit = (probe: boolean): BreakerPermit => {
    const permitEpoch = epoch;
    let settled = false;
    const once = (outcome: 'success' | 'failure' | 'release') => () => {
      if (settled) return;
      settled = true;
      settle(permitEpoch, probe, outcome);
    };
    return { probe, success: once('success'), failure: once('failure'), release: once('release') };
  };

  return {
    get state() {
      refresh();
      return state;
    },
    get consecutiveFailures() {
      return failures;
    },
    tryAcquire() {
      refresh();
      if (state === 'closed') return makePermit(false);
      if (state === 'open' || probeOut) return null;
      probeOut = true;
      return makePermit(true);
    },
  };
}
