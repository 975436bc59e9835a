/**
 * Schedule rules (src/loop/schedule-spec.ts): durations both ways, crons as BullMQ's parser reads them, and
 * every refusal of a PUT body with the field it names; defaults and createdAt on replace.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import type { Schedule } from '../../src/loop/ports.js';
import {
  SCHEDULE_DEFAULTS,
  formatDuration,
  parseDuration,
  scheduleFromDraft,
  validateCron,
  type ScheduleContext,
  type ScheduleDraft,
} from '../../src/loop/schedule-spec.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);
const ctx = (over: Partial<ScheduleContext> = {}): ScheduleContext => ({
  domain: 'movies',
  now: NOW,
  existing: null,
  source: 'api',
  exposureTtlMs: 7 * DAY,
  defaultDecisionIntervalMs: 60_000,
  ...over,
});

/** The InvalidInputError message `fn` throws (fails the test when it throws something else or nothing). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return (err as Error).message;
  }
  throw new Error('expected an InvalidInputError');
}
const refuse = (draft: Partial<ScheduleDraft>, over: Partial<ScheduleContext> = {}) =>
  refusal(() => scheduleFromDraft({ every: '1d', window: '7d', ...draft } as ScheduleDraft, ctx(over)));

describe('parseDuration / formatDuration', () => {
  it('reads every unit and integer milliseconds', () => {
    expect(parseDuration('90s', 'x')).toBe(90_000);
    expect(parseDuration('30m', 'x')).toBe(1_800_000);
    expect(parseDuration('6h', 'x')).toBe(21_600_000);
    expect(parseDuration('7d', 'x')).toBe(7 * DAY);
    expect(parseDuration('1w', 'x')).toBe(7 * DAY);
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(parseDuration('1.5h', 'x')).toBe(5_400_000);
    expect(parseDuration(' 2d ', 'x')).toBe(2 * DAY);
    expect(parseDuration(60_000, 'x')).toBe(60_000);
    expect(parseDuration(0, 'x')).toBe(0);
  });

  it('refuses anything else, naming the field', () => {
    for (const bad of ['', '7', 'd', '7 days', '-1s', '1y', '1e3s', 'P1D'] as const) expect(refusal(() => parseDuration(bad, 'window'))).toMatch(/^window must be a duration/);
    for (const bad of [-1, 1.5, Number.NaN, Infinity]) expect(refusal(() => parseDuration(bad, 'rollout.maxDuration'))).toMatch(/^rollout\.maxDuration must be a whole number/);
    expect(refusal(() => parseDuration(null as unknown as string, 'every'))).toMatch(/^every must be a duration/);
    expect(refusal(() => parseDuration('400d', 'window'))).toBe('window must be at most 366d, got 400d');
  });

  it('formats with the largest exact unit, and round-trips', () => {
    expect(formatDuration(7 * DAY)).toBe('7d');
    expect(formatDuration(21_600_000)).toBe('6h');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1_800_000)).toBe('30m');
    expect(formatDuration(1_500)).toBe('1500ms');
    expect(formatDuration(0)).toBe('0s');
    for (const ms of [1, 999, 60_000, 5_400_000, 36 * 3_600_000, 8 * DAY]) expect(parseDuration(formatDuration(ms), 'x')).toBe(ms);
  });
});

describe('validateCron', () => {
  it('accepts five fields and macros and returns the next firing, in tz when given', () => {
    expect(validateCron('0 3 * * *', undefined, NOW)).toBeGreaterThan(NOW);
    expect(validateCron('@daily', 'UTC', NOW)).toBe(Date.UTC(2025, 0, 2));
    // 09:00 in New York on 2025-01-01 is 14:00 UTC (EST, UTC-5).
    expect(validateCron('0 9 * * *', 'America/New_York', NOW)).toBe(Date.UTC(2025, 0, 1, 14));
    expect(validateCron('*/5 * * * *', undefined, NOW)).toBe(NOW + 5 * 60_000);
  });

  it('refuses seconds, wrong field counts, bad values, crons that never fire and unknown zones', () => {
    expect(refusal(() => validateCron('*/10 * * * * *'))).toMatch(/must have 5 fields.*a seconds field is not allowed/);
    expect(refusal(() => validateCron('5'))).toMatch(/must have 5 fields.*it has 1/);
    expect(refusal(() => validateCron('0 0 * * * * *'))).toMatch(/it has 7/);
    expect(refusal(() => validateCron('61 * * * *'))).toMatch(/^cron "61 \* \* \* \*" is invalid: .*61/);
    expect(refusal(() => validateCron('0 0 30 2 *'))).toMatch(/^cron "0 0 30 2 \*" is invalid/);
    expect(refusal(() => validateCron('@often'))).toMatch(/is invalid/);
    expect(refusal(() => validateCron(''))).toMatch(/non-empty/);
    expect(refusal(() => validateCron('0 3 * * *', 'Mars/Olympus'))).toMatch(/^tz "Mars\/Olympus" is not a known IANA time zone/);
  });
});

describe('scheduleFromDraft', () => {
  it('fills the defaults and keeps the cadence, window, params and source', () => {
    const s = scheduleFromDraft({ every: '1d', window: '7d', params: { epochs: 2 } }, ctx());
    expect(s).toEqual({
      everyMs: DAY,
      domain: 'movies',
      windowMs: 7 * DAY,
      params: { epochs: 2 },
      gate: { ...SCHEDULE_DEFAULTS.gate },
      rollout: { ...SCHEDULE_DEFAULTS.rollout },
      paused: false,
      source: 'api',
      createdAt: NOW,
      updatedAt: NOW,
    });
    expect(SCHEDULE_DEFAULTS.gate).toEqual({ minDelta: 0, holdoutShare: 0.2, minHoldoutUsers: 20, bootstrapIterations: 2000 });
    expect(SCHEDULE_DEFAULTS.rollout).toEqual({ share: 0.1, maxDurationMs: 7 * DAY });
  });

  it('takes a cron with tz, every explicit gate and rollout field, and keeps createdAt of the schedule it replaces', () => {
    const existing = { createdAt: NOW - DAY } as Schedule;
    const s = scheduleFromDraft(
      {
        cron: ' 0 3 * * 1 ',
        tz: 'Europe/Paris',
        window: 3 * DAY,
        gate: { minDelta: -0.01, holdoutShare: 0.3, minHoldoutUsers: 5, bootstrapIterations: 500 },
        rollout: { share: 1, maxDuration: '2d', decisionInterval: '5m', guardrails: { maxFallbackRate: 0.2, minExposures: 50 } },
        paused: true,
      },
      ctx({ existing, source: 'config', now: NOW + 1 }),
    );
    expect(s).toMatchObject({ cron: '0 3 * * 1', tz: 'Europe/Paris', windowMs: 3 * DAY, paused: true, source: 'config', createdAt: NOW - DAY, updatedAt: NOW + 1 });
    expect(s.everyMs).toBeUndefined();
    expect(s.gate).toEqual({ minDelta: -0.01, holdoutShare: 0.3, minHoldoutUsers: 5, bootstrapIterations: 500 });
    expect(s.rollout).toEqual({ share: 1, maxDurationMs: 2 * DAY, decisionIntervalMs: 300_000, guardrails: { maxFallbackRate: 0.2, minExposures: 50 } });
  });

  it('refuses a bad cadence', () => {
    expect(refuse({ cron: '0 3 * * *' })).toBe('give either every or cron, not both');
    expect(refusal(() => scheduleFromDraft({ window: '7d' }, ctx()))).toBe('give every (e.g. "1d") or cron (e.g. "0 3 * * *")');
    expect(refuse({ every: '30s' })).toBe('every must be at least 1m (LOOP_MIN_EVERY_MS), got 30s');
    expect(refuse({ every: 59_999 })).toBe('every must be at least 1m (LOOP_MIN_EVERY_MS), got 59999ms');
    // LOOP_MIN_EVERY_MS lowers the floor (a test world); the default is one minute.
    expect(scheduleFromDraft({ every: '3s', window: '1d' }, { ...ctx(), minEveryMs: 1_000 }).everyMs).toBe(3_000);
    expect(refusal(() => scheduleFromDraft({ every: '500ms', window: '1d' }, { ...ctx(), minEveryMs: 1_000 }))).toBe('every must be at least 1s (LOOP_MIN_EVERY_MS), got 500ms');
    expect(refuse({ every: 'daily' })).toMatch(/^every must be a duration/);
    expect(refuse({ tz: 'UTC' })).toMatch(/^tz applies to cron only/);
    expect(refusal(() => scheduleFromDraft({ cron: '0 3 * *', window: '1d' }, ctx()))).toMatch(/^cron "0 3 \* \*" must have 5 fields/);
    expect(refusal(() => scheduleFromDraft({ cron: '0 3 * * *', tz: 'Nowhere', window: '1d' }, ctx()))).toMatch(/^tz "Nowhere" is not a known/);
    expect(scheduleFromDraft({ every: '1m', window: '1d' }, ctx()).everyMs).toBe(60_000);
  });

  it('refuses a window that is empty or older than the exposures kept', () => {
    expect(refuse({ window: 0 })).toBe('window must be longer than 0');
    expect(refuse({ window: '8d' })).toBe('window (8d) is longer than the exposure TTL (7d, EXPOSURE_TTL_SECONDS): older exposures are gone');
    expect(scheduleFromDraft({ every: '1d', window: '7d' }, ctx()).windowMs).toBe(7 * DAY);
  });

  it('refuses rollout values out of range', () => {
    for (const share of [0, -0.1, 1.01, Number.NaN]) expect(refuse({ rollout: { share } })).toMatch(/^rollout\.share must be a number in \(0, 1\]/);
    expect(refuse({ rollout: { maxDuration: 0 } })).toBe('rollout.maxDuration must be longer than 0');
    expect(refuse({ rollout: { maxDuration: '10m', decisionInterval: '1h' } })).toBe(
      'rollout.maxDuration (10m) is shorter than the decision interval (1h): the canary would end before its first decision',
    );
    expect(refuse({ rollout: { maxDuration: '30s' } })).toMatch(/^rollout\.maxDuration \(30s\) is shorter than the decision interval \(1m, LOOP_DECISION_INTERVAL_MS\)/);
    expect(refuse({ rollout: { decisionInterval: '10ms' } })).toBe('rollout.decisionInterval must be at least 1s, got 10ms');
    expect(refuse({ rollout: { guardrails: { maxFallbackRate: 2 } } })).toMatch(/^rollout\.guardrails\.maxFallbackRate must be a number in \[0, 1\]/);
    expect(refuse({ rollout: { guardrails: { minExposures: 0.5 } } })).toMatch(/^rollout\.guardrails\.minExposures must be an integer/);
  });

  it('refuses gate values out of range', () => {
    for (const minDelta of [Number.NaN, Infinity, 1.5, -2]) expect(refuse({ gate: { minDelta } })).toMatch(/^gate\.minDelta must be a number in \[-1, 1\]/);
    for (const holdoutShare of [0, 0.95, -1]) expect(refuse({ gate: { holdoutShare } })).toMatch(/^gate\.holdoutShare must be a number in \(0, 0\.9\]/);
    for (const minHoldoutUsers of [0, 2.5]) expect(refuse({ gate: { minHoldoutUsers } })).toMatch(/^gate\.minHoldoutUsers must be an integer in \[1, /);
    for (const bootstrapIterations of [99, 100_001, 1000.5]) {
      expect(refuse({ gate: { bootstrapIterations } })).toMatch(/^gate\.bootstrapIterations must be an integer in \[100, 100000\]/);
    }
    expect(scheduleFromDraft({ every: '1d', window: '1d', gate: { holdoutShare: 0.9, bootstrapIterations: 100 } }, ctx()).gate.holdoutShare).toBe(0.9);
  });

  it('runs the trainer parameter check and refuses params that are not an object', () => {
    const seen: unknown[] = [];
    const checkParams = (p: Record<string, unknown>) => {
      seen.push(p);
      if (p.epochs === -1) throw new InvalidInputError('params.epochs must be ≥ 1');
    };
    expect(refuse({ params: { epochs: -1 } }, { checkParams })).toBe('params.epochs must be ≥ 1');
    scheduleFromDraft({ every: '1d', window: '1d' }, ctx({ checkParams }));
    expect(seen).toEqual([{ epochs: -1 }, {}]);
    expect(refuse({ params: [] as unknown as Record<string, unknown> })).toBe('params must be an object of trainer parameters');
  });
});
