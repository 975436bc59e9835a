import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GateOverloadedError, createConcurrencyGate } from '../../src/llm/concurrency-gate.js';

describe('concurrency gate', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('admits up to maxConcurrency immediately and counts them', () => {
    const gate = createConcurrencyGate({ maxConcurrency: 2 });
    expect(gate.tryAcquire()).toBe(true);
    expect(gate.tryAcquire()).toBe(true);
    expect(gate.tryAcquire()).toBe(false);
    expect(gate.inflight).toBe(2);
    gate.release();
    expect(gate.inflight).toBe(1);
    expect(gate.tryAcquire()).toBe(true);
  });

  it('with waitMs 0 rejects at once when full', async () => {
    const gate = createConcurrencyGate({ maxConcurrency: 1 });
    await gate.acquire(0);
    await expect(gate.acquire(0)).rejects.toBeInstanceOf(GateOverloadedError);
    expect(gate.waiting).toBe(0);
  });

  it('hands released slots to waiters in FIFO order without dropping inflight', async () => {
    const gate = createConcurrencyGate({ maxConcurrency: 1 });
    await gate.acquire(0);
    const order: string[] = [];
    const a = gate.acquire(1_000).then(() => order.push('a'));
    const b = gate.acquire(1_000).then(() => order.push('b'));
    expect(gate.waiting).toBe(2);
    gate.release();
    expect(gate.inflight).toBe(1);
    expect(gate.waiting).toBe(1);
    await a;
    gate.release();
    await b;
    expect(order).toEqual(['a', 'b']);
    expect(gate.inflight).toBe(1);
    expect(gate.waiting).toBe(0);
  });

  it('gives up after waitMs with GateOverloadedError and leaves the queue', async () => {
    const gate = createConcurrencyGate({ maxConcurrency: 1 });
    gate.tryAcquire();
    const p = gate.acquire(20);
    const settled = vi.fn();
    p.catch(settled);
    await vi.advanceTimersByTimeAsync(19);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await expect(p).rejects.toBeInstanceOf(GateOverloadedError);
    expect(gate.waiting).toBe(0);
    // the timed-out waiter must not receive the slot later
    gate.release();
    expect(gate.inflight).toBe(0);
  });

  it('rejects a waiter whose signal aborts, with the signal reason', async () => {
    const gate = createConcurrencyGate({ maxConcurrency: 1 });
    gate.tryAcquire();
    const ctl = new AbortController();
    const p = gate.acquire(10_000, ctl.signal);
    ctl.abort(new Error('client went away'));
    await expect(p).rejects.toThrow('client went away');
    expect(gate.waiting).toBe(0);
    await expect(gate.acquire(10, AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });

  it('reports changes and refuses a release without a slot', async () => {
    const seen: Array<[number, number]> = [];
    const gate = createConcurrencyGate({ maxConcurrency: 1, onChange: (i, w) => seen.push([i, w]) });
    gate.tryAcquire();
    const p = gate.acquire(100);
    gate.release();
    await p;
    gate.release();
    expect(seen).toEqual([
      [1, 0],
      [1, 1],
      [1, 0],
      [0, 0],
    ]);
    expect(() => gate.release()).toThrow();
    expect(() => createConcurrencyGate({ maxConcurrency: 0 })).toThrow(RangeError);
  });
});
