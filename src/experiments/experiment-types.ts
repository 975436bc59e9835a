/**
 * The vocabulary of online experiments (issue 10): what an experiment is, what one exposure's outcome is,
 * and the shapes the results are reported in. Types only, so the stores, the routes and the statistics
 * agree on one definition without importing each other.
 */

/**
 * How traffic is split: each user sees one arm (`ab`), or every list mixes two arms (`interleave`); `shadow`
 * serves nobody differently and scores one candidate arm off the request path (shadow-types.ts).
 */
export type ExperimentMode = 'ab' | 'interleave' | 'shadow';

/** The ranking method an arm serves. `baseline` makes no LLM call, so a holdout also saves cost. */
export type ArmMethod = 'agp' | 'direct' | 'cot' | 'baseline';

/** The positive event types; `impression` is recorded but never counts as a positive. */
export const POSITIVE_EVENT_TYPES = ['click', 'add_to_cart', 'purchase'] as const;

/** Every event type `POST /v1/events` accepts. */
export const EVENT_TYPES = ['impression', ...POSITIVE_EVENT_TYPES] as const;

/** One of {@link EVENT_TYPES}. */
export type EventType = (typeof EVENT_TYPES)[number];

/** One arm as configured. */
export interface ArmDefinition {
  name: string;
  method: ArmMethod;
  promptVersion?: number | string | undefined;
  /** Relative share of the experiment's users (ab only); default 1. */
  weight?: number | undefined;
}

/** What the assignment needs to know about an experiment. */
export interface ExperimentDefinition {
  id: string;
  domain: string;
  mode: ExperimentMode;
  arms: readonly ArmDefinition[];
  /** Share of the domain's users who are in the experiment at all, in [0, 1]; default 1. */
  trafficShare?: number | undefined;
}

/** The three per-exposure outcome metrics the issue defines, by their wire names. */
export const OUTCOME_METRICS = ['ctr', 'mrr', 'ndcg@10'] as const;

/** One of {@link OUTCOME_METRICS}. */
export type OutcomeMetric = (typeof OUTCOME_METRICS)[number];

/** The value of each outcome metric for one exposure. */
export type OutcomeValues = Record<OutcomeMetric, number>;

/** An estimate with its always-valid 95% confidence sequence at the current sample. */
export interface Estimate {
  value: number;
  ci95: [number, number];
}

/** What the statistics conclude: which arm is better, or not yet known. */
export type Decision = 'treatment' | 'control' | 'inconclusive';
