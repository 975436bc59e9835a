/**
 * The offline gate of a run: the candidate prompt and the active one are scored on the same held-out users
 * (users the candidate never trained on), and the candidate passes only when the paired bootstrap says it
 * is better by more than `gate.minDelta` at 95%: the lower bound of the CI of mean(candidate − active)
 * per-user NDCG@10 must clear it. Pairing by user removes the between-user variance, which is most of it.
 */
import { mean, pairedBootstrap } from '../agp/metrics.js';
import type { GateResult, GateSpec } from './ports.js';

/**
 * The gate's verdict on per-user NDCG@10 of the active and the candidate prompt (index i = the same user in
 * both). Deterministic for a given `seed` (the bootstrap's RNG). No users never passes, whatever minDelta.
 * @throws RangeError when the arrays differ in length or hold a non-finite score (a caller's bug, not input).
 */
export function gateVerdict(active: ArrayLike<number>, candidate: ArrayLike<number>, gate: GateSpec, seed = 0): Omit<GateResult, 'llmCalls'> {
  if (active.length !== candidate.length) {
    throw new RangeError(`the gate needs one score per held-out user for both prompts, got ${active.length} and ${candidate.length}`);
  }
  for (let i = 0; i < active.length; i++) {
    if (!Number.isFinite(active[i]) || !Number.isFinite(candidate[i])) throw new RangeError(`the gate got a non-finite score for user #${i}`);
  }
  const users = active.length;
  const { meanDiff, ci95 } = pairedBootstrap(candidate, active, { iterations: gate.bootstrapIterations, seed });
  return {
    passed: users > 0 && ci95[0] > gate.minDelta,
    users,
    activeNdcg: mean(active),
    candidateNdcg: mean(candidate),
    diff: meanDiff,
    ci95,
    minDelta: gate.minDelta,
  };
}
