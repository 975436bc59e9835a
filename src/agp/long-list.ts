/**
 * Shared vocabulary of the long-list strategies (sliding-window.ts, top-down-partition.ts): a window is
 * ranked by a caller-supplied function, and every window succeeds or fails on its own. A window that fails
 * keeps its input order; the other windows' work stands (docs/quality.md, "Long lists").
 */
import type { ParseOutcome } from './types.js';

/** The long-list strategies, as RERANK_LONG_LIST spells them. */
export const LONG_LIST_STRATEGIES = ['sliding', 'topdown'] as const;
export type LongListStrategy = (typeof LONG_LIST_STRATEGIES)[number];

/**
 * What became of one window: a parse outcome, or `failed` when its LLM call failed with a non-fatal
 * error (the window then keeps its input order, like an unparseable one).
 */
export type WindowOutcome = ParseOutcome | 'failed';

/** The answer for one window: a 0-based permutation of its members (identity when it failed). */
export interface WindowAnswer {
  order: number[];
  outcome: WindowOutcome;
}

/**
 * Ranks one window. `members` are candidate indices in the order they are shown to the LLM; the answer's
 * `order` indexes into `members`. It throws only for faults that end the whole ranking (deadline gone).
 */
export type RankWindow = (members: readonly number[]) => Promise<WindowAnswer>;

/** A long list ranked window by window. */
export interface LongListResult {
  /** Full 0-based permutation of the candidates. */
  order: number[];
  /** Every window's outcome, in the order the windows were asked. */
  windows: WindowOutcome[];
  /** Sequential LLM rounds (windows of one round run concurrently). */
  rounds: number;
}

/**
 * The outcome of a whole ranking from its windows' outcomes: `unparseable` only when no window parsed
 * (the caller falls back), `repaired` when some window was repaired or failed while another parsed, else `ok`.
 */
export function combineOutcomes(windows: readonly WindowOutcome[]): ParseOutcome {
  if (windows.length === 0) return 'ok';
  if (!windows.some((w) => w === 'ok' || w === 'repaired')) return 'unparseable';
  return windows.every((w) => w === 'ok') ? 'ok' : 'repaired';
}

/** `members` reordered by a window's answer (indices into `members`). */
export function applyAnswer(members: readonly number[], answer: WindowAnswer): number[] {
  return answer.order.map((k) => members[k] as number);
}

/** The identity permutation of `n`. */
export function identityOrder(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
