/**
 * A/B assignment: which users are in an experiment and which arm each one sees.
 *
 * One SHA-256 of (experiment id, userId) gives two independent uniform numbers: the first decides
 * membership (`< trafficShare`), the second picks the arm by weight. Because the arm is drawn from
 * different bits than membership, raising the share only adds users; nobody already in changes arm.
 * The experiment id is part of the key so that two experiments in a row do not reuse the same split
 * (the users who saw the losing arm last time would otherwise see it again).
 * node:crypto is a Node built-in, not an adapter; src/agp uses it the same way (rng.ts, trace.ts).
 */
import { createHash } from 'node:crypto';
import type { ArmDefinition, ExperimentDefinition } from './experiment-types.js';

/** 2^48: each uniform is built from 6 bytes of the digest, exactly representable in a double. */
const TWO_48 = 2 ** 48;

/** Two independent uniforms in [0, 1) for (experiment, user): `[membership, arm]`. */
export function assignmentUniforms(experimentId: string, userId: string): [number, number] {
  // A NUL separator keeps ("ab", "c") and ("a", "bc") apart; neither id can contain one usefully.
  const digest = createHash('sha256').update(experimentId).update('\u0000').update(userId).digest();
  return [digest.readUIntBE(0, 6) / TWO_48, digest.readUIntBE(6, 6) / TWO_48];
}

/**
 * Index of the arm a uniform `u` in [0, 1) falls into when arms are laid end to end by weight.
 * @throws RangeError when there are no arms or a weight is negative, non-finite, or all are zero.
 */
export function armIndexByWeight(arms: readonly Pick<ArmDefinition, 'weight'>[], u: number): number {
  if (arms.length === 0) throw new RangeError('an experiment needs at least one arm');
  let total = 0;
  for (const a of arms) {
    const w = a.weight ?? 1;
    if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`arm weight must be a finite number >= 0, got ${w}`);
    total += w;
  }
  if (!(total > 0)) throw new RangeError('arm weights must not all be zero');
  const target = u * total;
  let acc = 0;
  for (let i = 0; i < arms.length; i++) {
    acc += arms[i]?.weight ?? 1;
    if (target < acc) return i;
  }
  // Only reachable through rounding at u → 1: the last arm with a positive weight owns the end.
  for (let i = arms.length - 1; i >= 0; i--) if ((arms[i]?.weight ?? 1) > 0) return i;
  return arms.length - 1;
}

/** Where a user lands: outside the experiment (normal serving), or in one arm (ab) / the mix (interleave). */
export type Assignment =
  | { inExperiment: false }
  | { inExperiment: true; mode: 'ab'; armIndex: number; arm: string }
  | { inExperiment: true; mode: 'interleave' };

/**
 * Assigns a user to an experiment. Deterministic: the same (experiment, user) always gets the same answer.
 * Under `interleave` every user in the share sees both arms mixed, so only membership is decided here.
 * @throws RangeError on a trafficShare outside [0, 1] or invalid weights.
 */
export function assignUser(experiment: ExperimentDefinition, userId: string): Assignment {
  const share = experiment.trafficShare ?? 1;
  if (!(share >= 0 && share <= 1)) throw new RangeError(`trafficShare must be in [0, 1], got ${share}`);
  const [member, armU] = assignmentUniforms(experiment.id, userId);
  if (!(member < share)) return { inExperiment: false };
  if (experiment.mode === 'interleave') return { inExperiment: true, mode: 'interleave' };
  const armIndex = armIndexByWeight(experiment.arms, armU);
  return { inExperiment: true, mode: 'ab', armIndex, arm: experiment.arms[armIndex]?.name ?? '' };
}
