/**
 * What the admin API shows of the loop's records: a schedule with when it fires next, its pin and its current
 * run; and a run summary. Pure shaping, no I/O.
 */
import type { LoopRun, Millis, Pin, RunOutcome, RunStep, Schedule } from './ports.js';

/** A run in a few fields (the schedule view's `currentRun`). */
export interface RunSummary {
  runId: string;
  trigger: LoopRun['trigger'];
  step: RunStep;
  startedAt: number;
  updatedAt: number;
  baseVersion: string;
  candidateVersion: string | null;
  experimentId: string | null;
  outcome: RunOutcome | null;
  reason: string | null;
  finishedAt: number | null;
}

/** A schedule as the admin API shows it: flat cadence fields, the effective decision interval, and its state. */
export interface ScheduleView {
  domain: string;
  everyMs: Millis | null;
  cron: string | null;
  tz: string | null;
  windowMs: Millis;
  params: Record<string, unknown>;
  gate: Schedule['gate'];
  /** decisionIntervalMs filled in with LOOP_DECISION_INTERVAL_MS when the schedule sets none. */
  rollout: Schedule['rollout'] & { decisionIntervalMs: Millis };
  paused: boolean;
  source: Schedule['source'];
  createdAt: number;
  updatedAt: number;
  /** When the queue fires it next (ISO 8601), or null (paused, or no queue). */
  nextRunAt: string | null;
  pinned: Pin | null;
  currentRun: RunSummary | null;
}

/** The summary of a run. */
export function runSummary(run: LoopRun): RunSummary {
  return {
    runId: run.runId,
    trigger: run.trigger,
    step: run.step,
    startedAt: run.startedAt,
    updatedAt: run.updatedAt,
    baseVersion: run.baseVersion,
    candidateVersion: run.candidateVersion ?? null,
    experimentId: run.experimentId ?? null,
    outcome: run.outcome ?? null,
    reason: run.reason ?? null,
    finishedAt: run.finishedAt ?? null,
  };
}

/** The view of a stored schedule. */
export function scheduleView(
  s: Schedule,
  state: { nextRunAt: number | null; pin: Pin | null; run: LoopRun | null; defaultDecisionIntervalMs: Millis },
): ScheduleView {
  const { decisionIntervalMs, ...rollout } = s.rollout;
  return {
    domain: s.domain,
    everyMs: s.everyMs ?? null,
    cron: s.cron ?? null,
    tz: s.tz ?? null,
    windowMs: s.windowMs,
    params: s.params,
    gate: s.gate,
    rollout: { ...rollout, decisionIntervalMs: decisionIntervalMs ?? state.defaultDecisionIntervalMs },
    paused: s.paused,
    source: s.source,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    nextRunAt: state.nextRunAt === null ? null : new Date(state.nextRunAt).toISOString(),
    pinned: state.pin,
    currentRun: state.run ? runSummary(state.run) : null,
  };
}

/** Key-sorted JSON of what a schedule says (not when or by whom it was written): equal means "no change". */
export function scheduleContent(s: Schedule): string {
  const { createdAt: _c, updatedAt: _u, source: _s, ...content } = s;
  return stableJson(content);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** One line describing a schedule for the audit trail: "every 6h, window 7d, canary 10%". */
export function describeSchedule(s: Schedule, fmt: (ms: Millis) => string): string {
  const cadence = s.everyMs !== undefined ? `every ${fmt(s.everyMs)}` : `cron "${s.cron}"${s.tz ? ` (${s.tz})` : ''}`;
  return `${cadence}, window ${fmt(s.windowMs)}, gate minDelta ${s.gate.minDelta}, canary ${Math.round(s.rollout.share * 1000) / 10}%${s.paused ? ', paused' : ''}`;
}
