/**
 * Position-based feedback (paper §2.3): where the ground truth landed versus where it should be (rank 1),
 * and what the reranker put above it. Computed without an LLM; the LLM only turns it into words.
 * This is the one feedback function: the trainer and offline evaluation both use it.
 */
import { rankOf } from './metrics.js';
import { applyOrder } from './permutation.js';
import { renderFeedbackText } from './optimizer-prompts.js';
import type { TextLimits } from './prompts.js';
import type { Item } from './types.js';

/** Position feedback for one user. */
export interface UserFeedback {
  userId: string;
  /** The best-placed ground-truth item (when absent from the candidates: its id and an empty title). */
  target: Item;
  /** 1-based position of the ground truth in the reranked list, or candidates.length + 1 if absent. */
  rank: number;
  /** AGP always wants the ground truth first. */
  desiredRank: 1;
  /** rank - 1: how many places too low it landed. */
  displacement: number;
  /** Items ranked above the ground truth, best first. */
  above: Item[];
  /** The profile the ranking was made from. */
  profile: string;
  /** The history items the profile was built from. */
  history: Item[];
  /** How many candidates were ranked; lets renderers tell "last" from "absent". */
  candidateCount?: number;
}

/**
 * Computes one user's position feedback from the final order.
 * `order` is a 0-based permutation of `candidates` (as returned by parseRanking); it is applied with
 * the same repair rules as serving, so a partial order never loses the target.
 */
export function positionFeedback(args: {
  userId: string;
  history: Item[];
  profile: string;
  candidates: Item[];
  order: number[];
  targetIds: string[];
}): UserFeedback {
  const ranked = applyOrder(args.candidates, args.order);
  const found = rankOf(
    ranked.map((c) => c.id),
    args.targetIds,
  );
  const rank = found ?? ranked.length + 1;
  const hit = found === null ? undefined : ranked[found - 1];
  const target: Item = hit
    ? { id: hit.id, title: hit.title, ...(hit.text !== undefined ? { text: hit.text } : {}) }
    : { id: args.targetIds[0] ?? '', title: '' };
  return {
    userId: args.userId,
    target,
    rank,
    desiredRank: 1,
    displacement: rank - 1,
    above: ranked.slice(0, rank - 1),
    profile: args.profile,
    history: args.history.slice(),
    candidateCount: args.candidates.length,
  };
}

/**
 * Compact text of one user's feedback for the summarise and reason prompts: the history used, the
 * profile, where the ground truth landed versus rank 1, and the titles ranked above it. User-derived
 * text is sanitised and the user id is left out (the optimiser must learn general rules; ids are personal).
 * The wording lives in optimizer-prompts.ts with the other optimiser prompt text.
 */
export function renderFeedback(fb: UserFeedback, limits?: TextLimits): string {
  return renderFeedbackText(fb, limits);
}

/**
 * Batch statistics for the acceptance rule: an edited prompt is kept only if `meanRank` (mean 1-based
 * rank of the ground truth, lower is better) improves. `failures` counts users not ranked first.
 * An empty batch gives meanRank 0 and 0 failures.
 */
export function batchRankStats(feedback: UserFeedback[]): { meanRank: number; failures: number } {
  if (feedback.length === 0) return { meanRank: 0, failures: 0 };
  let sum = 0;
  let failures = 0;
  for (const fb of feedback) {
    sum += fb.rank;
    if (fb.rank > fb.desiredRank) failures++;
  }
  return { meanRank: sum / feedback.length, failures };
}
