/**
 * A RunScheduler double for the loop's admin tests: keeps one "job scheduler" per domain in memory, answers
 * nextRunAt from the schedule (every: now + everyMs; cron: a fixed instant; paused: none), and records every
 * call so a test can assert what reached the queue.
 */
import type { RunScheduler, Schedule } from '../../src/loop/ports.js';

/** The double, with what it was asked. */
export interface FakeRunScheduler extends RunScheduler {
  /** Domains with a job scheduler now. */
  readonly active: Map<string, Schedule>;
  readonly calls: Array<{ op: 'upsert' | 'remove' | 'runNow'; domain: string; runId?: string }>;
  /** Makes the next runNow reject (a queue outage). */
  failNextRunNow(): void;
}

/** When a cron schedule "fires next" in the double. */
export const FAKE_CRON_NEXT = Date.UTC(2030, 0, 1, 3, 0, 0);

/** Builds the double; `now` is the clock its nextRunAt counts from. */
export function createFakeRunScheduler(now: () => number = () => Date.now()): FakeRunScheduler {
  const active = new Map<string, Schedule>();
  const calls: FakeRunScheduler['calls'] = [];
  let failRunNow = false;
  const next = (s: Schedule | undefined): number | null => (!s ? null : s.everyMs !== undefined ? now() + s.everyMs : FAKE_CRON_NEXT);
  return {
    active,
    calls,
    failNextRunNow: () => {
      failRunNow = true;
    },
    upsert(schedule) {
      calls.push({ op: 'upsert', domain: schedule.domain });
      if (schedule.paused) active.delete(schedule.domain);
      else active.set(schedule.domain, schedule);
      return Promise.resolve({ nextRunAt: next(active.get(schedule.domain)) });
    },
    remove(domain) {
      calls.push({ op: 'remove', domain });
      active.delete(domain);
      return Promise.resolve();
    },
    nextRunAt: (domain) => Promise.resolve(next(active.get(domain))),
    runNow(domain, runId) {
      calls.push({ op: 'runNow', domain, runId });
      if (failRunNow) {
        failRunNow = false;
        return Promise.reject(new Error('queue unavailable'));
      }
      return Promise.resolve();
    },
  };
}
