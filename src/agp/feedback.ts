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

/**
 * Paper eq. 4 for one ground-truth item i of G(u): its actual position r̂(i, u), its target position
 * r_target(i, u), and what pushed it down.
 */
export interface TargetFeedback {
  /** The ground-truth item (when absent from the candidates: its id and an empty title). */
  target: Item;
  /** 1-based position in the reranked list, or candidates.length + 1 if absent. */
  rank: number;
  /**
   * Where it should be: the ideal list puts all |G(u)| targets first, so the j-th best-placed target's
   * target position is j (1 for the only target, as in the authors' code).
   */
  desiredRank: number;
  /** rank - desiredRank: how many places too low it landed (the non-target items above it). */
  displacement: number;
  /** Non-target items ranked above it, best first (other targets above it are not misplacements). */
  above: Item[];
}

/** Position feedback for one user. The top-level target fields describe the best-placed target. */
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
  /**
   * Every target's own feedback, best-placed first (paper eq. 4: one pair per i ∈ G(u)). With one target it
   * repeats the fields above.
   */
  targets: TargetFeedback[];
  /** The profile the ranking was made from. */
  profile: string;
  /** The history items the profile was built from. */
  history: Item[];
  /** How many candidates were ranked; lets renderers tell "last" from "absent". */
  candidateCount?: number;
}

const copyItem = (it: Item): Item => ({ id: it.id, title: it.title, ...(it.text !== undefined ? { text: it.text } : {}) });

/**
 * Computes one user's position feedback from the final order.
 * `order` is a 0-based permutation of `candidates` (as returned by parseRanking); it is applied with
 * the same repair rules as serving, so a partial order never loses the target.
 *
 * Paper eq. 4, F(u) = {(r̂(i, u), r_target(i, u)) | i ∈ G(u)}, gives EVERY ground-truth item its own pair,
 * so `targets` has one entry per target id: a user whose second target sank to rank 7 gets that signal
 * even when the first target was ranked first. The top-level fields stay those of the best-placed target,
 * because the trainer's acceptance rule (mean rank of the ground truth, the authors' `verify_steps`) and
 * NDCG@10 with one relevant item both read that one.
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
  const ids = [...new Set(args.targetIds)];
  const targetSet = new Set(ids);
  const positions = new Map<string, number>();
  ranked.forEach((c, i) => {
    if (targetSet.has(c.id) && !positions.has(c.id)) positions.set(c.id, i + 1);
  });
  const absentRank = ranked.length + 1;
  // Best-placed first; absent targets last, in the order they were given.
  const byRank = ids
    .map((id, given) => ({ id, given, rank: positions.get(id) ?? absentRank }))
    .sort((a, b) => a.rank - b.rank || a.given - b.given);
  const targets: TargetFeedback[] = byRank.map(({ id, rank }, j) => {
    const hit = rank < absentRank ? ranked[rank - 1] : undefined;
    return {
      target: hit ? copyItem(hit) : { id, title: '' },
      rank,
      desiredRank: j + 1,
      displacement: rank - (j + 1),
      above: ranked.slice(0, rank - 1).filter((c) => !targetSet.has(c.id)),
    };
  });
  const found = rankOf(
    ranked.map((c) => c.id),
    args.targetIds,
  );
  const rank = found ?? absentRank;
  const best = targets[0];
  return {
    userId: args.userId,
    target: best?.target ?? { id: args.targetIds[0] ?? '', title: '' },
    rank,
    desiredRank: 1,
    displacement: rank - 1,
    above: ranked.slice(0, rank - 1),
    targets,
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
