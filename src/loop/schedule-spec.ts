/**
 * The rules of a retraining schedule: durations ("90s", "30m", "6h", "7d", "1w" or integer ms), crons, and
 * the whole PUT body (or a LOOP_SCHEDULES entry) turned into a stored `Schedule` with its defaults filled
 * in. Every refusal is an InvalidInputError naming the field as the caller wrote it ("rollout.share"), so the
 * admin API's 400 and a bad chart value at start-up say the same thing.
 *
 * Crons are checked with cron-parser, the parser BullMQ's job schedulers use, so a cron accepted here is one
 * BullMQ can fire; it is pure (no I/O), hence allowed in this room.
 */
import cronParser from 'cron-parser';
import { InvalidInputError } from '../errors.js';
import type { Cadence, GateSpec, Millis, RolloutSpec, Schedule } from './ports.js';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** Units a duration is shown in, largest first ("w" is accepted but "7d" reads better than "1w"). */
const SHOWN_UNITS = ['d', 'h', 'm', 's'] as const;

/** Longest duration accepted anywhere in a schedule: a year and a day; anything longer is a typo. */
export const MAX_DURATION_MS: Millis = 366 * UNITS.d!;
/** A schedule cannot fire more often than once a minute (a run builds a dataset and trains). */
export const MIN_EVERY_MS: Millis = 60_000;
/** The canary's decision loop reads the experiment at most once a second. */
export const MIN_DECISION_INTERVAL_MS: Millis = 1_000;

/** The defaults of a schedule's gate and rollout (a field left out of the PUT body takes its default). */
export const SCHEDULE_DEFAULTS: { readonly gate: Readonly<GateSpec>; readonly rollout: Readonly<Omit<RolloutSpec, 'guardrails' | 'decisionIntervalMs'>> } = Object.freeze({
  gate: Object.freeze({ minDelta: 0, holdoutShare: 0.2, minHoldoutUsers: 20, bootstrapIterations: 2_000 }),
  rollout: Object.freeze({ share: 0.1, maxDurationMs: 7 * UNITS.d! }),
});

const invalid = (message: string) => new InvalidInputError(message);

/**
 * A duration in ms from integer ms or a string "<number><unit>" (ms, s, m, h, d, w; "1.5h" is 90m).
 * Range checks beyond "0 … 366d" are the caller's (each field has its own bounds).
 * @throws InvalidInputError naming `field` when `v` is neither.
 */
export function parseDuration(v: string | number, field: string): Millis {
  let ms: number;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw invalid(`${field} must be a whole number of milliseconds ≥ 0 or a duration like "90s", "30m", "6h", "7d", got ${v}`);
    ms = v;
  } else if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(v);
    const unit = m === null ? undefined : UNITS[m[2] as string];
    if (m === null || unit === undefined) {
      throw invalid(`${field} must be a duration like "90s", "30m", "6h", "7d" or "1w" (or whole milliseconds as a number), got ${JSON.stringify(v.slice(0, 40))}`);
    }
    ms = Math.round(Number(m[1]) * unit);
  } else {
    throw invalid(`${field} must be a duration like "90s", "30m", "6h", "7d" or a number of milliseconds`);
  }
  if (ms > MAX_DURATION_MS) throw invalid(`${field} must be at most ${formatDuration(MAX_DURATION_MS)}, got ${formatDuration(ms)}`);
  return ms;
}

/** A duration for people: the largest unit that divides it exactly ("7d", "6h", "90s", "1500ms"). */
export function formatDuration(ms: Millis): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms === 0) return '0s';
  for (const u of SHOWN_UNITS) {
    const size = UNITS[u]!;
    if (ms % size === 0) return `${ms / size}${u}`;
  }
  return `${ms}ms`;
}

/** True when `tz` is an IANA time zone this runtime knows (the one BullMQ's cron-parser will use). */
function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a cron as BullMQ will read it: five fields (minute hour day-of-month month day-of-week) or a
 * macro (@hourly, @daily, @weekly, @monthly, @yearly), an IANA `tz` when given, and a cron that fires at all.
 * A six-field cron (seconds) is refused: schedules fire at most once a minute. Returns the next firing
 * after `now` (ms), for a caller that wants to show it.
 * @throws InvalidInputError naming the cron or the time zone.
 */
export function validateCron(expr: string, tz?: string, now: number = Date.now()): number {
  if (typeof expr !== 'string' || expr.trim() === '' || expr.length > 200) throw invalid('cron must be a non-empty string of at most 200 characters');
  if (tz !== undefined && (typeof tz !== 'string' || tz === '' || !isTimeZone(tz))) {
    throw invalid(`tz ${JSON.stringify(String(tz).slice(0, 60))} is not a known IANA time zone (e.g. "Europe/Paris", "UTC")`);
  }
  const text = expr.trim();
  const fields = text.split(/\s+/).length;
  if (!text.startsWith('@') && fields !== 5) {
    const why = fields === 6 ? 'a seconds field is not allowed (a schedule fires at most once a minute)' : `it has ${fields}`;
    throw invalid(`cron "${text}" must have 5 fields (minute hour day-of-month month day-of-week): ${why}`);
  }
  let first: number;
  let second: number;
  try {
    const it = cronParser.parseExpression(text, { currentDate: new Date(now), ...(tz === undefined ? {} : { tz }) });
    first = it.next().getTime();
    second = it.next().getTime();
  } catch (err) {
    // cron-parser's messages are short and name the field ("Constraint error, got value 61 expected range 0-59").
    throw invalid(`cron "${text}" is invalid: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Five fields cannot fire twice within a minute; kept as a guard should the parser ever read seconds.
  if (second - first < MIN_EVERY_MS) throw invalid(`cron "${text}" fires more often than once a minute`);
  return first;
}

/** The PUT /admin/v1/schedules/{domain} body (and one LOOP_SCHEDULES entry without its `domain`). */
export interface ScheduleDraft {
  every?: string | number | undefined;
  cron?: string | undefined;
  tz?: string | undefined;
  window: string | number;
  params?: Record<string, unknown> | undefined;
  gate?: Partial<GateSpec> | undefined;
  rollout?:
    | {
        share?: number | undefined;
        maxDuration?: string | number | undefined;
        decisionInterval?: string | number | undefined;
        guardrails?: RolloutSpec['guardrails'];
      }
    | undefined;
  paused?: boolean | undefined;
}

/** What `scheduleFromDraft` needs besides the draft. */
export interface ScheduleContext {
  domain: string;
  now: number;
  /** The stored schedule this one replaces (its createdAt is kept), or null. */
  existing: Schedule | null;
  source: Schedule['source'];
  /** EXPOSURE_TTL_SECONDS in ms: a window longer than this would ask for exposures already gone. */
  exposureTtlMs: Millis;
  /** LOOP_DECISION_INTERVAL_MS, used when the draft has no rollout.decisionInterval (checked against maxDuration). */
  defaultDecisionIntervalMs?: Millis | undefined;
  /** The trainer's parameter check (throws InvalidInputError); params are not checked without it. */
  checkParams?: ((params: Record<string, unknown>) => void) | undefined;
  /** LOOP_MIN_EVERY_MS: the shortest `every` accepted (default MIN_EVERY_MS; a test world lowers it). */
  minEveryMs?: Millis | undefined;
}

function numberIn(v: unknown, field: string, lo: number, hi: number, opts: { loOpen?: boolean; integer?: boolean } = {}): number {
  const ok =
    typeof v === 'number' && Number.isFinite(v) && (opts.loOpen ? v > lo : v >= lo) && v <= hi && (!opts.integer || Number.isInteger(v));
  if (!ok) {
    const range = `${opts.loOpen ? '(' : '['}${lo}, ${hi}]`;
    throw invalid(`${field} must be ${opts.integer ? 'an integer' : 'a number'} in ${range}, got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v as number;
}

function gateFrom(draft: ScheduleDraft['gate']): GateSpec {
  const d = SCHEDULE_DEFAULTS.gate;
  return {
    minDelta: numberIn(draft?.minDelta ?? d.minDelta, 'gate.minDelta', -1, 1),
    holdoutShare: numberIn(draft?.holdoutShare ?? d.holdoutShare, 'gate.holdoutShare', 0, 0.9, { loOpen: true }),
    minHoldoutUsers: numberIn(draft?.minHoldoutUsers ?? d.minHoldoutUsers, 'gate.minHoldoutUsers', 1, 1_000_000, { integer: true }),
    bootstrapIterations: numberIn(draft?.bootstrapIterations ?? d.bootstrapIterations, 'gate.bootstrapIterations', 100, 100_000, { integer: true }),
  };
}

function guardrailsFrom(g: RolloutSpec['guardrails']): RolloutSpec['guardrails'] {
  if (g === undefined) return undefined;
  // Same bounds as an experiment's guardrails (src/http/experiment-schemas.ts): the canary is one.
  const out: NonNullable<RolloutSpec['guardrails']> = {};
  const big = Number.MAX_SAFE_INTEGER;
  if (g.maxFallbackRate !== undefined) out.maxFallbackRate = numberIn(g.maxFallbackRate, 'rollout.guardrails.maxFallbackRate', 0, 1);
  if (g.maxLatencyP99Ms !== undefined) out.maxLatencyP99Ms = numberIn(g.maxLatencyP99Ms, 'rollout.guardrails.maxLatencyP99Ms', 1, big);
  if (g.maxLlmCallsPerExposure !== undefined) out.maxLlmCallsPerExposure = numberIn(g.maxLlmCallsPerExposure, 'rollout.guardrails.maxLlmCallsPerExposure', 0, big);
  if (g.minExposures !== undefined) out.minExposures = numberIn(g.minExposures, 'rollout.guardrails.minExposures', 1, big, { integer: true });
  return out;
}

function rolloutFrom(draft: ScheduleDraft['rollout'], defaultDecisionIntervalMs: Millis | undefined): RolloutSpec {
  const share = numberIn(draft?.share ?? SCHEDULE_DEFAULTS.rollout.share, 'rollout.share', 0, 1, { loOpen: true });
  const maxDurationMs = draft?.maxDuration === undefined ? SCHEDULE_DEFAULTS.rollout.maxDurationMs : parseDuration(draft.maxDuration, 'rollout.maxDuration');
  if (maxDurationMs <= 0) throw invalid('rollout.maxDuration must be longer than 0');
  let decisionIntervalMs: Millis | undefined;
  if (draft?.decisionInterval !== undefined) {
    decisionIntervalMs = parseDuration(draft.decisionInterval, 'rollout.decisionInterval');
    if (decisionIntervalMs < MIN_DECISION_INTERVAL_MS) {
      throw invalid(`rollout.decisionInterval must be at least ${formatDuration(MIN_DECISION_INTERVAL_MS)}, got ${formatDuration(decisionIntervalMs)}`);
    }
  }
  const interval = decisionIntervalMs ?? defaultDecisionIntervalMs;
  if (interval !== undefined && maxDurationMs < interval) {
    throw invalid(
      `rollout.maxDuration (${formatDuration(maxDurationMs)}) is shorter than the decision interval (${formatDuration(interval)}${decisionIntervalMs === undefined ? ', LOOP_DECISION_INTERVAL_MS' : ''}): the canary would end before its first decision`,
    );
  }
  const guardrails = guardrailsFrom(draft?.guardrails);
  return { share, maxDurationMs, ...(decisionIntervalMs === undefined ? {} : { decisionIntervalMs }), ...(guardrails === undefined ? {} : { guardrails }) };
}

/**
 * A stored schedule from a PUT body (or a LOOP_SCHEDULES entry): the cadence, the window, the gate and the
 * rollout checked and defaulted. A PUT replaces: fields left out take their defaults, not the previous
 * schedule's values; only `createdAt` is kept from `ctx.existing`.
 * @throws InvalidInputError with a message naming the field and the rule it breaks.
 */
export function scheduleFromDraft(draft: ScheduleDraft, ctx: ScheduleContext): Schedule {
  const hasEvery = draft.every !== undefined;
  const hasCron = draft.cron !== undefined;
  if (hasEvery === hasCron) throw invalid(hasEvery ? 'give either every or cron, not both' : 'give every (e.g. "1d") or cron (e.g. "0 3 * * *")');
  let cadence: Cadence;
  if (hasEvery) {
    if (draft.tz !== undefined) throw invalid('tz applies to cron only; every counts from when the schedule was written');
    const everyMs = parseDuration(draft.every!, 'every');
    const minEvery = ctx.minEveryMs ?? MIN_EVERY_MS;
    if (everyMs < minEvery) throw invalid(`every must be at least ${formatDuration(minEvery)} (LOOP_MIN_EVERY_MS), got ${formatDuration(everyMs)}`);
    cadence = { everyMs };
  } else {
    const cron = String(draft.cron).trim();
    validateCron(cron, draft.tz, ctx.now);
    cadence = draft.tz === undefined ? { cron } : { cron, tz: draft.tz };
  }

  const windowMs = parseDuration(draft.window, 'window');
  if (windowMs <= 0) throw invalid('window must be longer than 0');
  if (windowMs > ctx.exposureTtlMs) {
    throw invalid(
      `window (${formatDuration(windowMs)}) is longer than the exposure TTL (${formatDuration(ctx.exposureTtlMs)}, EXPOSURE_TTL_SECONDS): older exposures are gone`,
    );
  }

  const params = draft.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw invalid('params must be an object of trainer parameters');
  ctx.checkParams?.(params);

  if (draft.paused !== undefined && typeof draft.paused !== 'boolean') throw invalid('paused must be true or false');
  return {
    ...cadence,
    domain: ctx.domain,
    windowMs,
    params,
    gate: gateFrom(draft.gate),
    rollout: rolloutFrom(draft.rollout, ctx.defaultDecisionIntervalMs),
    paused: draft.paused ?? false,
    source: ctx.source,
    createdAt: ctx.existing?.createdAt ?? ctx.now,
    updatedAt: ctx.now,
  };
}
