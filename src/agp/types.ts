/**
 * Domain vocabulary shared by serving, training and offline evaluation.
 * Pure types: nothing here does I/O.
 */

/** An item the user interacted with (history) or may be shown (candidate). Titles and texts are untrusted. */
export interface Item {
  id: string;
  title: string;
  text?: string | undefined;
}

/** A candidate from the baseline recommender, in its order. `score` is the baseline's own score, if any. */
export interface Candidate extends Item {
  score?: number | undefined;
}

/** Ranking methods the service offers. `baseline` never calls the LLM. */
export const METHODS = ['agp', 'direct', 'cot', 'baseline'] as const;
export type Method = (typeof METHODS)[number];

/** Why a response fell back to the baseline order. The set is part of the public API. */
export const FALLBACK_REASONS = [
  'llm_unconfigured',
  'timeout',
  'llm_error',
  'unparseable',
  'overloaded',
  'circuit_open',
  /** The API key used its daily LLM-call quota (API keys, docs/operate.md). */
  'quota_exceeded',
] as const;
export type FallbackReason = (typeof FALLBACK_REASONS)[number];

/** What an LLM call is for; used for per-role models and per-role accounting. */
export const LLM_ROLES = ['profile', 'rerank', 'summarise', 'edit', 'reason'] as const;
export type LlmRole = (typeof LLM_ROLES)[number];

/** Outcome of parsing one ranking answer. */
export type ParseOutcome = 'ok' | 'repaired' | 'unparseable';

/** Token and call accounting for one request or one training step. */
export interface Usage {
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
}

/** A fresh zeroed usage record. */
export function emptyUsage(): Usage {
  return { llmCalls: 0, promptTokens: 0, completionTokens: 0 };
}

/** Adds `b` into `a` in place and returns `a`. */
export function addUsage(a: Usage, b: Usage): Usage {
  a.llmCalls += b.llmCalls;
  a.promptTokens += b.promptTokens;
  a.completionTokens += b.completionTokens;
  return a;
}

/** The default number of history items used when a prompt carries no training metadata. */
export const DEFAULT_HISTORY_LENGTH = 10;

/** The version name of the prompt compiled into the service. */
export const BUILTIN_PROMPT_VERSION = 'builtin-v0';

/** The domain used when a request names none. */
export const DEFAULT_DOMAIN = 'default';

/**
 * Label problems found in one ranking answer: labels repeated after their first mention, labels that match
 * no candidate (out of range, unknown id), and candidates the answer never ranked (appended in baseline
 * order when repaired; counted even when the answer was unparseable).
 */
export interface LabelIssues {
  duplicate: number;
  unknown: number;
  missing: number;
}

/** The kinds of LabelIssues, in one order (metric labels, reports). */
export const LABEL_ISSUE_KINDS = ['duplicate', 'unknown', 'missing'] as const satisfies ReadonlyArray<keyof LabelIssues>;
