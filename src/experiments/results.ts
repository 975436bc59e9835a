/**
 * The results of `GET /admin/v1/experiments/{id}`, computed from running statistics alone, so a store
 * that keeps counters (count, sum, sum of squares per arm and metric, and optionally the per-user sums of
 * always-valid.ts for a user-level variance) can answer without re-reading exposures. The first arm is the control; under `ab` every other arm is compared with it, under
 * `interleave` there are exactly two arms and the second is the treatment.
 */
import type { ArmStats, LookOptions, SequentialTest } from './always-valid.js';
import { compareMeans, comparePreference, meanEstimate } from './always-valid.js';
import type { ArmMethod, Decision, Estimate, ExperimentMode, OutcomeMetric } from './experiment-types.js';
import { OUTCOME_METRICS } from './experiment-types.js';
import type { GuardrailBreach, GuardrailLimits } from './guardrails.js';
import { armRates, checkGuardrails } from './guardrails.js';

/** The running counters of one arm. */
export interface ArmRunningStats {
  name: string;
  method: ArmMethod;
  promptVersion: number | string | null;
  users: number;
  exposures: number;
  llmCalls: number;
  fallbacks: number;
  latencyP99Ms: number | null;
  /** Per-exposure outcome metrics of the served lists (with per-user sums for a user-level variance). */
  served: Record<OutcomeMetric, ArmStats>;
  /** The same metrics of the same exposures' baseline order (the counterfactual). */
  baseline: Record<OutcomeMetric, ArmStats>;
}

/** Interleaving tallies: `wins` are the treatment's (second arm's), `losses` the control's. */
export interface InterleavingTally {
  wins: number;
  losses: number;
  ties: number;
}

/** Everything the results are computed from. */
export interface ResultsInput {
  mode: ExperimentMode;
  arms: readonly ArmRunningStats[];
  interleaving?: InterleavingTally | undefined;
  /** Always-valid p-values returned by the previous look, by treatment arm name, so they only ever fall. */
  previousPValues?: Readonly<Record<string, number>> | undefined;
  guardrails?: GuardrailLimits | undefined;
  /** Mixture tuning (α, τ) and the minimum sample; defaults as in always-valid.ts. */
  statistics?: LookOptions | undefined;
}

/** Says what the baseline-order numbers are, in the payload itself, so nobody reads them as a result. */
export const BASELINE_ORDER_LABEL =
  'counterfactual: the served exposures scored as if the baseline order had been shown; position-biased (users could only click what they were shown, where it was shown), not an unbiased estimate';

/** One arm of the results. */
export interface ArmResult {
  name: string;
  method: ArmMethod;
  promptVersion: number | string | null;
  users: number;
  exposures: number;
  llmCallsPerExposure: number;
  fallbackRate: number;
  latencyP99Ms: number | null;
  metrics: Record<OutcomeMetric, Estimate>;
  baselineOrder: Record<OutcomeMetric, Estimate> & { label: string };
}

/** The `ab` comparison of one treatment arm with the control on NDCG@10. */
export interface AbComparison {
  metric: 'ndcg@10';
  control: { arm: string; value: number };
  treatment: { arm: string; value: number };
  diff: number;
  ci95: [number, number];
  decision: Decision;
  /** Always-valid p-value; store it and pass it back as `previousPValues[treatment]`. */
  pValue: number;
}

/** The `interleave` comparison: treatment wins against control wins. */
export interface InterleaveComparison extends InterleavingTally {
  control: string;
  treatment: string;
  preference: number;
  ci95: [number, number];
  decision: Decision;
  pValue: number;
}

/** The results payload. */
export interface ExperimentResults {
  arms: ArmResult[];
  comparison: AbComparison | InterleaveComparison | null;
  /** With more than two `ab` arms: each treatment against the control, α split evenly (Bonferroni). */
  comparisons?: AbComparison[];
  guardrailBreaches: GuardrailBreach[];
}

function estimates(stats: Record<OutcomeMetric, ArmStats>, opts: LookOptions | undefined): Record<OutcomeMetric, Estimate> {
  const out = {} as Record<OutcomeMetric, Estimate>;
  for (const m of OUTCOME_METRICS) out[m] = meanEstimate(stats[m], opts);
  return out;
}

function armResult(a: ArmRunningStats, opts: LookOptions | undefined): ArmResult {
  const { fallbackRate, llmCallsPerExposure } = armRates(a);
  return {
    name: a.name,
    method: a.method,
    promptVersion: a.promptVersion,
    users: a.users,
    exposures: a.exposures,
    llmCallsPerExposure,
    fallbackRate,
    latencyP99Ms: a.latencyP99Ms,
    metrics: estimates(a.served, opts),
    baselineOrder: { ...estimates(a.baseline, opts), label: BASELINE_ORDER_LABEL },
  };
}

function abComparison(control: ArmRunningStats, treatment: ArmRunningStats, test: SequentialTest): AbComparison {
  const c = control.served['ndcg@10'];
  const t = treatment.served['ndcg@10'];
  return {
    metric: 'ndcg@10',
    control: { arm: control.name, value: c.count > 0 ? c.sum / c.count : 0 },
    treatment: { arm: treatment.name, value: t.count > 0 ? t.sum / t.count : 0 },
    diff: test.estimate,
    ci95: test.ci95,
    decision: test.decision,
    pValue: test.pValue,
  };
}

/**
 * Builds the results payload.
 * @throws RangeError when `interleave` does not have exactly two arms.
 */
export function experimentResults(input: ResultsInput): ExperimentResults {
  const opts = input.statistics;
  const arms = input.arms.map((a) => armResult(a, opts));
  const guardrailBreaches = input.guardrails ? checkGuardrails(input.arms, input.guardrails) : [];
  const [control, ...treatments] = input.arms;
  const previous = (name: string) => input.previousPValues?.[name];
  if (input.mode === 'interleave') {
    const treatment = treatments[0];
    if (control === undefined || treatment === undefined || treatments.length !== 1) {
      throw new RangeError(`interleaving needs exactly two arms, got ${input.arms.length}`);
    }
    const tally = input.interleaving ?? { wins: 0, losses: 0, ties: 0 };
    const test = comparePreference(tally.wins, tally.losses, { ...opts, previousPValue: previous(treatment.name) });
    const comparison: InterleaveComparison = {
      control: control.name,
      treatment: treatment.name,
      ...tally,
      preference: test.estimate,
      ci95: test.ci95,
      decision: test.decision,
      pValue: test.pValue,
    };
    return { arms, comparison, guardrailBreaches };
  }
  if (control === undefined || treatments.length === 0) return { arms, comparison: null, guardrailBreaches };
  const alpha = (opts?.alpha ?? 0.05) / treatments.length;
  const comparisons = treatments.map((t) =>
    abComparison(control, t, compareMeans(control.served['ndcg@10'], t.served['ndcg@10'], { ...opts, alpha, previousPValue: previous(t.name) })),
  );
  return { arms, comparison: comparisons[0] ?? null, ...(comparisons.length > 1 ? { comparisons } : {}), guardrailBreaches };
}
