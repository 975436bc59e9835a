/** The test kit's one poll loop and one percentile, which every suite, the bench and the soak rely on. */
import { describe, expect, it } from 'vitest';
import { percentile } from '../../testkit/load.js';
import { eventually } from '../../testkit/wait.js';

describe('eventually', () => {
  it('resolves with the first value the predicate accepts, polling until then', async () => {
    let calls = 0;
    const v = await eventually(() => ++calls, (n) => n >= 3, { intervalMs: 1 });
    expect(v).toBe(3);
    expect(calls).toBe(3);
  });

  it('treats a throw as "not yet" and keeps polling', async () => {
    let calls = 0;
    const v = await eventually(
      async () => {
        calls++;
        if (calls < 3) throw new Error('ECONNREFUSED');
        return 'up';
      },
      (s) => s === 'up',
      { intervalMs: 1 },
    );
    expect(v).toBe('up');
  });

  it('times out naming what it waited for, the last value, the last error and the detail', async () => {
    const started = Date.now();
    await expect(eventually(() => ({ state: 'running' }), (j) => j.state === 'completed', { what: 'the job', timeoutMs: 60, intervalMs: 5, detail: () => 'tail of output' })).rejects.toThrow(
      /^timed out after 60 ms waiting for the job; last value: \{"state":"running"\}\ntail of output$/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    await expect(eventually(() => Promise.reject(new Error('refused')), Boolean, { timeoutMs: 20, intervalMs: 5 })).rejects.toThrow(/last error: refused/);
  });

  it('accepts any truthy value by default', async () => {
    let n = 0;
    expect(await eventually(() => (++n > 2 ? 'ready' : ''), undefined, { intervalMs: 1 })).toBe('ready');
  });
});

describe('percentile', () => {
  it('is nearest-rank over values in any order', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 90)).toBe(9);
    expect(percentile(values, 99)).toBe(10);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile(Float64Array.from([2.5, 0.5]), 50)).toBe(0.5);
    expect(percentile([], 50)).toBeNaN();
  });
});
