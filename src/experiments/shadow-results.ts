/**
 * The results of a shadow experiment (`GET /admin/v1/experiments/{id}`, `shadow`), and the verdict the loop can
 * use as a cheap gate before a canary.
 *
 * - Agreement: Kendall's tau between the candidate's and the served order of each scored request's served
 *   items, averaged over every scored request (running sums, so it covers more than the retained records).
 * - Counterfactual: for each retained record whose exposure still exists, the outcome metrics of the served
 *   list and of the candidate's order of the same items, both scored against the positives observed on the
 *   SERVED list. Position-biased in favour of the served order (see SHADOW_COUNTERFACTUAL_NOTE); `ctr` is the
 *   same for both by construction (same items, same positives) and says how many lists got a positive.
 *
 * Every value is `{value, ci95}` with the always-valid confidence sequence of the A/B metrics (always-valid.ts),
 * over requests as units (no user ids are kept, so no user-level variance: repeat users make it optimistic).
 */
import { confidenceSequenceHalfWidth, meanEstimate, meanVariance, statsMean, type RunningStats } from './always-valid.js';
import type { Estimate, OutcomeMetric } from './experiment-types.js';
import { OUTCOME_METRICS } from './experiment-types.js';
import { exposureOutcome } from './outcome-metrics.js';
import type { ExperimentRecord, PositiveCounts } from './ports.js';
import { candidateIds } from './shadow-scoring.js';
import type { ShadowSettings, ShadowSkip, ShadowState, ShadowStore } from './shadow-types.js';

/** Says what the counterfactual is, in the payload itself, so nobody reads it as an unbiased result. */
export const SHADOW_COUNTERFACTUAL_NOTE =
  'biased: the positives were observed on the served list, where users saw the served order; items the served order put high got more attention, so this favours the served order and is a screening check, not an estimate of lift';

/** τ of the mixture behind tau's confidence sequence: agreement differences of about 0.1 are what matters. */
const TAU_MIXTURE = 0.1;

/** The three outcome metrics with their estimates. */
export type MetricEstimates = Record<OutcomeMetric, Estimate>;

/** The `shadow` block of a shadow experiment's results. */
export interface ShadowResults extends ShadowSettings {
  arm: { name: string; method: string; promptVersion: string | null };
  scored: number;
  skipped: Record<ShadowSkip, number>;
  llmCalls: number;
  /** Scored records retained for the counterfactual (at most SHADOW_MAX_RECORDS, newest first). */
  retained: number;
  agreement: { kendallTau: Estimate };
  counterfactual: {
    biased: true;
    note: string;
    /** Retained records whose exposure still exists (expired, sampled-out and erased ones are not counted). */
    exposures: number;
    exposuresWithPositives: number;
    served: MetricEstimates;
    candidate: MetricEstimates;
    /** Candidate − served per exposure (paired), in [−1, 1]. */
    diff: MetricEstimates;
  };
}

/** What the results are computed from. */
export interface ShadowResultsInput {
  record: Pick<ExperimentRecord, 'arms' | 'shadow'>;
  state: ShadowState;
  /** Per record of `state.records`, its exposure's positive counts, or null when the exposure is gone. */
  positives: ReadonlyArray<PositiveCounts | null>;
  /** Mixture τ (default 0.02, an NDCG@10 lift) and α of the metric estimates. */
  statistics?: { tau?: number | undefined; alpha?: number | undefined } | undefined;
}

const stats = (): RunningStats => ({ count: 0, sum: 0, sumSq: 0 });
const add = (s: RunningStats, x: number) => {
  s.count += 1;
  s.sum += x;
  s.sumSq += x * x;
};

/** A mean in [lo, hi] with its always-valid 95% confidence sequence; the whole range before any spread. */
function boundedEstimate(s: RunningStats, tau: number, alpha: number, lo: number, hi: number): Estimate {
  const value = statsMean(s);
  const v = meanVariance(s);
  if (s.count < 2 || !(v > 0)) return { value, ci95: [lo, hi] };
  const w = confidenceSequenceHalfWidth(v, tau * tau, alpha);
  return { value, ci95: [Math.max(lo, value - w), Math.min(hi, value + w)] };
}

const perMetric = <T>(f: (m: OutcomeMetric) => T): Record<OutcomeMetric, T> =>
  Object.fromEntries(OUTCOME_METRICS.map((m) => [m, f(m)])) as Record<OutcomeMetric, T>;

/** Builds the `shadow` block. */
export function shadowResults(input: ShadowResultsInput): ShadowResults {
  const { counters, records } = input.state;
  const arm = input.record.arms[0];
  const settings = input.record.shadow ?? { maxConcurrency: 0, llmCallsPerHour: 0 };
  const alpha = input.statistics?.alpha ?? 0.05;
  const tau = input.statistics?.tau ?? 0.02;
  const served = perMetric(stats);
  const candidate = perMetric(stats);
  const diff = perMetric(stats);
  let [exposures, withPositives] = [0, 0];
  records.forEach((rec, i) => {
    const counts = input.positives[i];
    if (!counts) return;
    const p = new Set([...counts].filter(([, n]) => n > 0).map(([id]) => id));
    const s = exposureOutcome(rec.served, p);
    const c = exposureOutcome(candidateIds(rec), p);
    exposures += 1;
    if (p.size > 0) withPositives += 1;
    for (const m of OUTCOME_METRICS) {
      add(served[m], s[m]);
      add(candidate[m], c[m]);
      add(diff[m], c[m] - s[m]);
    }
  });
  return {
    arm: { name: arm?.name ?? '', method: arm?.method ?? '', promptVersion: arm?.promptVersion ?? null },
    maxConcurrency: settings.maxConcurrency,
    llmCallsPerHour: settings.llmCallsPerHour,
    scored: counters.scored,
    skipped: { ...counters.skipped },
    llmCalls: counters.llmCalls,
    retained: records.length,
    agreement: { kendallTau: boundedEstimate(counters.tau, TAU_MIXTURE, alpha, -1, 1) },
    counterfactual: {
      biased: true,
      note: SHADOW_COUNTERFACTUAL_NOTE,
      exposures,
      exposuresWithPositives: withPositives,
      served: perMetric((m) => meanEstimate(served[m], { tau, alpha })),
      candidate: perMetric((m) => meanEstimate(candidate[m], { tau, alpha })),
      diff: perMetric((m) => boundedEstimate(diff[m], tau, alpha, -1, 1)),
    },
  };
}

/** Where the results read from. */
export interface ShadowReadDeps {
  store: ShadowStore;
  exposures: { positives(requestId: string): Promise<PositiveCounts | null> };
  /** Positive-count reads in flight at once (default 32). */
  concurrency?: number | undefined;
}

/**
 * Reads a shadow experiment's state and each retained record's positives (one read per record, `concurrency` at
 * a time: at the 50,000-record cap this is the cost of one results read, which is why the periodic look skips
 * shadow experiments).
 */
export async function readShadowResults(deps: ShadowReadDeps, record: ExperimentRecord, statistics?: ShadowResultsInput['statistics']): Promise<ShadowResults> {
  const state = await deps.store.read(record.id);
  const positives = new Array<PositiveCounts | null>(state.records.length).fill(null);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < state.records.length; i = next++) positives[i] = await deps.exposures.positives((state.records[i] as { requestId: string }).requestId);
  };
  await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 32, state.records.length) }, worker));
  return shadowResults({ record, state, positives, statistics });
}

/** The thresholds of {@link shadowVerdict}. */
export interface ShadowGate {
  /** Scored requests needed before a verdict (fewer: `sufficient: false`, not passed). */
  minScored: number;
  /** Lowest acceptable mean Kendall's tau against the served order (e.g. 0.2: the candidate broadly agrees). */
  minTau: number;
  /** Highest share of sampled reranks the candidate failed (fell back) on, of scored + failed (default 0.2). */
  maxFailedShare?: number | undefined;
  /** Lowest acceptable counterfactual NDCG@10 difference, candidate − served (biased towards served; unset: not checked). */
  minNdcgDelta?: number | undefined;
}

/** A verdict: passed or not, whether there was enough data to say, and why, with the numbers. */
export interface ShadowVerdict {
  passed: boolean;
  /** False while fewer than `minScored` requests were scored: wait, or treat as failed at a deadline. */
  sufficient: boolean;
  reason: string;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3));

/**
 * Shadow scoring as a gate: a candidate that fails on many requests, disagrees with the served ranking, or (when
 * asked) loses on the biased counterfactual, is stopped before it reaches a canary. Passing it proves nothing about
 * lift; only the canary can.
 */
export function shadowVerdict(results: Pick<ShadowResults, 'scored' | 'skipped' | 'agreement' | 'counterfactual'>, gate: ShadowGate): ShadowVerdict {
  const { scored } = results;
  const failed = results.skipped.failed;
  const attempts = scored + failed;
  const maxFailed = gate.maxFailedShare ?? 0.2;
  // A candidate that fails nearly always never reaches minScored: judge its failures as soon as there are enough attempts.
  if (attempts >= gate.minScored && failed / attempts > maxFailed) {
    return { passed: false, sufficient: true, reason: `the candidate failed on ${fmt(failed / attempts)} of ${attempts} sampled reranks (limit ${fmt(maxFailed)})` };
  }
  if (scored < gate.minScored) return { passed: false, sufficient: false, reason: `only ${scored} requests scored; ${gate.minScored} needed` };
  const tau = results.agreement.kendallTau.value;
  if (tau < gate.minTau) return { passed: false, sufficient: true, reason: `Kendall's tau with the served order is ${fmt(tau)} over ${scored} requests, below ${fmt(gate.minTau)}` };
  const delta = results.counterfactual.diff['ndcg@10'].value;
  if (gate.minNdcgDelta !== undefined && delta < gate.minNdcgDelta) {
    return {
      passed: false,
      sufficient: true,
      reason: `counterfactual NDCG@10 candidate − served is ${fmt(delta)} over ${results.counterfactual.exposures} exposures, below ${fmt(gate.minNdcgDelta)} (biased towards the served order)`,
    };
  }
  return { passed: true, sufficient: true, reason: `tau ${fmt(tau)} ≥ ${fmt(gate.minTau)} over ${scored} scored requests; failed ${fmt(attempts > 0 ? failed / attempts : 0)}` };
}
