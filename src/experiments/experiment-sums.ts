/**
 * What one exposure and one event transition add to an experiment's running sums, and how those sums turn
 * back into the per-arm running statistics the results are computed from (results.ts).
 *
 * Everything is a commutative increment (or a per-user fold that telescopes, user-level-fold.ts), so the
 * stored sums do not depend on the order in which exposures and events arrive, and a store needs no reads
 * to update them. An exposure starts with every outcome metric at 0 (no events yet), so recording it adds
 * only counts; each event batch that changes an exposure's positive counts replaces the exposure's old
 * metric values with its new ones.
 *
 * Field names (arm → field):
 * - `exposures`, `llmCalls`, `fallbacks`, `lat.<i>` (latency histogram bucket i, see LATENCY_BOUNDS_MS);
 * - `s.<metric>`, `s.<metric>.sq`: Σ and Σ² of the served list's metric over exposures;
 * - `b.<metric>`, `b.<metric>.sq`: the same for the exposure's baseline order (the counterfactual);
 * - user-level sums of the fold over the user totals `s.<metric>` and `b.<metric>` (USER_FIELDS).
 * Interleaving tallies live under the reserved arm {@link INTERLEAVE_TALLY} (not a valid arm name).
 */
import type { ArmStats } from './always-valid.js';
import type { ArmMethod, OutcomeMetric, OutcomeValues } from './experiment-types.js';
import { OUTCOME_METRICS } from './experiment-types.js';
import { exposureOutcome } from './outcome-metrics.js';
import type { ArmSums, ExperimentRecord, ExposureRecord, PositiveCounts, SumsUpdate, UserDelta } from './ports.js';
import type { ArmRunningStats, InterleavingTally } from './results.js';
import { USER_FIELDS } from './user-level-fold.js';

/** Reserved arm key of the interleaving tallies (arm names are [A-Za-z0-9_-], so it cannot collide). */
export const INTERLEAVE_TALLY = '~interleave';

/**
 * Upper bounds (ms) of the latency histogram an arm's p99 is read from. The p99 reported is the upper bound
 * of the bucket the 99th percentile falls in: conservative by at most one bucket (about 1.5×).
 */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 30_000, 60_000,
];

/** How one arm served one exposure (the guardrails' inputs). */
export interface ArmServing {
  arm: string;
  llmCalls: number;
  fellBack: boolean;
  latencyMs: number;
}

const served = (m: OutcomeMetric) => `s.${m}`;
const baseline = (m: OutcomeMetric) => `b.${m}`;
const sq = (field: string) => `${field}.sq`;

/** Bucket index of a latency (the last bucket is open-ended). */
export function latencyBucket(ms: number): number {
  const i = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? LATENCY_BOUNDS_MS.length : i;
}

/** The arms an exposure counts for: its A/B arm, or both arms of an interleaved list. */
export function exposureArms(exposure: ExposureRecord, experiment: Pick<ExperimentRecord, 'mode' | 'arms'>): string[] {
  if (!exposure.experiment) return [];
  if (experiment.mode === 'interleave') return experiment.arms.map((a) => a.name);
  return exposure.experiment.arm === null ? [] : [exposure.experiment.arm];
}

/**
 * The sums one recorded exposure adds: per arm that served it, one exposure with its LLM calls, fallback and
 * latency; the user's exposure count; and (interleaving) one tie, since no events have arrived yet.
 */
export function exposureSums(exposure: ExposureRecord, experiment: Pick<ExperimentRecord, 'mode' | 'arms'>, serving: readonly ArmServing[]): SumsUpdate {
  const increments: Record<string, Record<string, number>> = {};
  const users: UserDelta[] = [];
  for (const arm of exposureArms(exposure, experiment)) {
    const s = serving.find((x) => x.arm === arm);
    increments[arm] = {
      exposures: 1,
      llmCalls: s?.llmCalls ?? 0,
      fallbacks: s?.fellBack ? 1 : 0,
      [`lat.${latencyBucket(s?.latencyMs ?? 0)}`]: 1,
    };
    // Only the count moves: the fold carries the user's stored fields by 0 (user-level-fold.ts).
    users.push({ arm, count: 1, sums: {} });
  }
  if (experiment.mode === 'interleave') increments[INTERLEAVE_TALLY] = { ties: 1 };
  return { userId: exposure.userId, increments, users };
}

/** An arm's view of the exposure's positives: under interleaving only the items credited to it count. */
function creditedPositives(exposure: ExposureRecord, arm: string | null, counts: PositiveCounts): Set<string> {
  const out = new Set<string>();
  exposure.served.forEach((id, i) => {
    if ((counts.get(id) ?? 0) <= 0) return;
    if (arm === null || exposure.servedArms?.[i] === arm) out.add(id);
  });
  return out;
}

/** Interleaving outcome from positive counts: +1 treatment (second arm) win, −1 control win, 0 tie. */
function interleaveSign(exposure: ExposureRecord, arms: readonly string[], counts: PositiveCounts): number {
  let balance = 0;
  exposure.served.forEach((id, i) => {
    const n = counts.get(id) ?? 0;
    const arm = exposure.servedArms?.[i];
    if (arm === arms[1]) balance += n;
    else if (arm === arms[0]) balance -= n;
  });
  return Math.sign(balance);
}

const TALLY_FIELD = { 1: 'wins', 0: 'ties', [-1]: 'losses' } as Record<number, string>;

/** The metric values of one arm's view of an exposure, for its served list and its baseline order. */
export function armOutcomes(exposure: ExposureRecord, arm: string | null, counts: PositiveCounts): { served: OutcomeValues; baseline: OutcomeValues } {
  const all = creditedPositives(exposure, null, counts);
  return {
    served: exposureOutcome(exposure.served, arm === null ? all : creditedPositives(exposure, arm, counts)),
    baseline: exposureOutcome(exposure.baseline, all),
  };
}

/**
 * The sums an event transition changes: each arm's metric values move from their value under `before` to
 * their value under `after` (Σ, Σ² and the user's totals), and under interleaving the tally may move.
 * Null when nothing changes.
 */
export function eventSums(exposure: ExposureRecord, experiment: Pick<ExperimentRecord, 'mode' | 'arms'>, before: PositiveCounts, after: PositiveCounts): SumsUpdate | null {
  const interleaved = experiment.mode === 'interleave';
  const increments: Record<string, Record<string, number>> = {};
  const users: UserDelta[] = [];
  for (const arm of exposureArms(exposure, experiment)) {
    const view = interleaved ? arm : null;
    const [from, to] = [armOutcomes(exposure, view, before), armOutcomes(exposure, view, after)];
    const inc: Record<string, number> = {};
    const user: Record<string, number> = {};
    for (const m of OUTCOME_METRICS) {
      for (const [field, a, b] of [
        [served(m), from.served[m], to.served[m]],
        [baseline(m), from.baseline[m], to.baseline[m]],
      ] as const) {
        if (a === b) continue;
        inc[field] = b - a;
        inc[sq(field)] = b * b - a * a;
        user[field] = b - a;
      }
    }
    if (Object.keys(inc).length === 0) continue;
    increments[arm] = inc;
    users.push({ arm, count: 0, sums: user });
  }
  if (interleaved) {
    const names = experiment.arms.map((a) => a.name);
    const [s0, s1] = [interleaveSign(exposure, names, before), interleaveSign(exposure, names, after)];
    if (s0 !== s1) increments[INTERLEAVE_TALLY] = { [TALLY_FIELD[s0] as string]: -1, [TALLY_FIELD[s1] as string]: 1 };
  }
  return users.length === 0 && !increments[INTERLEAVE_TALLY] ? null : { userId: exposure.userId, increments, users };
}

/** p99 from the histogram fields of an arm: the upper bound of the bucket holding the 99th percentile. */
export function latencyP99FromSums(fields: Readonly<Record<string, number>>, exposures: number): number | null {
  if (!(exposures > 0)) return null;
  const rank = Math.ceil(0.99 * exposures);
  let seen = 0;
  for (let i = 0; i <= LATENCY_BOUNDS_MS.length; i++) {
    seen += fields[`lat.${i}`] ?? 0;
    // The open last bucket reports the last bound: deadlines are capped far below it.
    if (seen >= rank) return LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)] ?? null;
  }
  return null;
}

function armStats(f: Readonly<Record<string, number>>, field: string, count: number): ArmStats {
  return {
    count,
    sum: f[field] ?? 0,
    sumSq: f[sq(field)] ?? 0,
    perUser: {
      users: f[USER_FIELDS.users] ?? 0,
      sumUserSumSq: f[USER_FIELDS.sumSq(field)] ?? 0,
      sumUserCountSq: f[USER_FIELDS.countSq] ?? 0,
      sumUserCross: f[USER_FIELDS.cross(field)] ?? 0,
    },
  };
}

/** The per-arm running statistics (and interleaving tally) of an experiment from its stored sums. */
export function runningStatsFromSums(experiment: Pick<ExperimentRecord, 'mode' | 'arms'>, sums: ArmSums): { arms: ArmRunningStats[]; interleaving?: InterleavingTally } {
  const arms = experiment.arms.map((a): ArmRunningStats => {
    const f = sums[a.name] ?? {};
    const n = f.exposures ?? 0;
    const pick = (name: (m: OutcomeMetric) => string) =>
      Object.fromEntries(OUTCOME_METRICS.map((m) => [m, armStats(f, name(m), n)])) as Record<OutcomeMetric, ArmStats>;
    return {
      name: a.name,
      method: a.method as ArmMethod,
      promptVersion: a.promptVersion ?? null,
      users: f[USER_FIELDS.users] ?? 0,
      exposures: n,
      llmCalls: f.llmCalls ?? 0,
      fallbacks: f.fallbacks ?? 0,
      latencyP99Ms: latencyP99FromSums(f, n),
      served: pick(served),
      baseline: pick(baseline),
    };
  });
  if (experiment.mode !== 'interleave') return { arms };
  const t = sums[INTERLEAVE_TALLY] ?? {};
  return { arms, interleaving: { wins: t.wins ?? 0, losses: t.losses ?? 0, ties: t.ties ?? 0 } };
}
