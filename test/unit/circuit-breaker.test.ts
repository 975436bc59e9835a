import { describe, expect, it } from 'vitest';
import { BREAKER_STATE_VALUE, createCircuitBreaker } from '../../src/llm/circuit-breaker.js';
import type { BreakerState } from '../../src/llm/circuit-breaker.js';

function setup(failureThreshold = 3, resetMs = 1_000) {
  const clock = { t: 1_000_000, now() { return this.t; } };
  const changes: Array<[BreakerState, BreakerState]> = [];
  const breaker = createCircuitBreaker({
    failureThreshold,
    resetMs,
    clock,
    onStateChange: (s, p) => changes.push([s, p]),
  });
  const fail = (n: number) => {
    for (let i = 0; i < n; i++) breaker.tryAcquire()?.failure();
  };
  return { clock, breaker, changes, fail };
}

describe('circuit breaker', () => {
  it('stays closed below the threshold and opens at exactly failureThreshold consecutive failures', () => {
    const { breaker, changes, fail } = setup(3);
    fail(2);
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(2);
    fail(1);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual([['open', 'closed']]);
  });

  it('a success resets the consecutive count', () => {
    const { breaker, fail } = setup(3);
    fail(2);
    breaker.tryAcquire()?.success();
    fail(2);
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(2);
  });

  it('neutral releases neither count nor reset', () => {
    const { breaker, fail } = setup(3);
    fail(2);
    breaker.tryAcquire()?.release();
    expect(breaker.consecutiveFailures).toBe(2);
    fail(1);
    expect(breaker.state).toBe('open');
  });

  it('fails fast while open, until resetMs has elapsed', () => {
    const { breaker, clock, fail } = setup(1, 1_000);
    fail(1);
    expect(breaker.tryAcquire()).toBeNull();
    clock.t += 999;
    expect(breaker.tryAcquire()).toBeNull();
    expect(breaker.state).toBe('open');
    clock.t += 1;
    expect(breaker.state).toBe('half_open');
  });

  it('half-open lets exactly one probe through; success closes', () => {
    const { breaker, clock, changes, fail } = setup(1, 500);
    fail(1);
    clock.t += 500;
    const probe = breaker.tryAcquire();
    expect(probe?.probe).toBe(true);
    expect(breaker.tryAcquire()).toBeNull();
    probe?.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(0);
    expect(breaker.tryAcquire()?.probe).toBe(false);
    expect(changes.map(([s]) => s)).toEqual(['open', 'half_open', 'closed']);
  });

  it('a failed probe re-opens for another full resetMs', () => {
    const { breaker, clock, fail } = setup(1, 500);
    fail(1);
    clock.t += 500;
    breaker.tryAcquire()?.failure();
    expect(breaker.state).toBe('open');
    clock.t += 499;
    expect(breaker.tryAcquire()).toBeNull();
    clock.t += 1;
    expect(breaker.tryAcquire()?.probe).toBe(true);
  });

  it('a released probe lets the next caller probe', () => {
    const { breaker, clock, fail } = setup(1, 100);
    fail(1);
    clock.t += 100;
    breaker.tryAcquire()?.release();
    expect(breaker.state).toBe('half_open');
    expect(breaker.tryAcquire()?.probe).toBe(true);
  });

  it('ignores permits granted in an earlier state', () => {
    const { breaker, clock, fail } = setup(2, 100);
    const straggler = breaker.tryAcquire();
    const straggler2 = breaker.tryAcquire();
    fail(2);
    expect(breaker.state).toBe('open');
    straggler?.success(); // must not close an open breaker
    expect(breaker.state).toBe('open');
    clock.t += 100;
    const probe = breaker.tryAcquire();
    straggler2?.failure(); // must not re-open a probing breaker
    expect(breaker.state).toBe('half_open');
    probe?.success();
    expect(breaker.state).toBe('closed');
  });

  it('settling a permit twice counts once', () => {
    const { breaker } = setup(2);
    const p = breaker.tryAcquire();
    p?.failure();
    p?.failure();
    expect(breaker.consecutiveFailures).toBe(1);
    expect(breaker.state).toBe('closed');
  });

  it('encodes states for the gauge and rejects bad options', () => {
    expect(BREAKER_STATE_VALUE).toEqual({ closed: 0, open: 1, half_open: 2 });
    expect(() => createCircuitBreaker({ failureThreshold: 0, resetMs: 1 })).toThrow(RangeError);
    expect(() => createCircuitBreaker({ failureThreshold: 1, resetMs: -1 })).toThrow(RangeError);
  });
});
