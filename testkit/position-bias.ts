/**
 * A position-biased listwise ranker for the LLM double: with a known probability `p` per rerank call, the
 * answer puts the first `top` items of the PROMPT first, in prompt order, over their true relevance (the
 * rest follow in the honest order). Listwise LLM rankers are known to behave like this ("lost in the
 * middle", primacy bias); shuffled passes aggregated by Borda count (src/agp/rank-passes.ts) cancel it.
 *
 * Whether a call is biased is a hash of its prompt and the seed, not a draw from a shared stream, so a
 * run replays exactly whatever the order in which concurrent calls arrive.
 */
import { createHash } from 'node:crypto';

/** How biased the simulated ranker is. */
export interface PositionBias {
  /** Probability that one rerank call answers with the prompt's first `top` items first. */
  p: number;
  /** Items taken from the top of the prompt when biased (default 3). */
  top?: number | undefined;
  /** Mixed into the per-call hash (default 0). */
  seed?: number | undefined;
}

/** A uniform [0, 1) number from the prompt text and the seed. */
export function promptUniform(promptText: string, seed = 0): number {
  return createHash('sha256').update(`${seed}\u0000${promptText}`).digest().readUInt32BE(0) / 4294967296;
}

/**
 * The ranking a biased model returns: `honest` (candidate labels, best first) unless this call is biased,
 * else the first `top` labels in prompt order followed by the rest of `honest`.
 * @param promptOrder the candidate labels as they appear in the prompt
 */
export function biasedRanking(promptOrder: readonly number[], honest: readonly number[], bias: PositionBias, promptText: string): number[] {
  if (promptUniform(promptText, bias.seed) >= bias.p) return [...honest];
  const head = promptOrder.slice(0, bias.top ?? 3);
  const inHead = new Set(head);
  return [...head, ...honest.filter((n) => !inHead.has(n))];
}
