/**
 * One training batch, applied to the run state: (1) profiles + reranks, (2) position feedback,
 * (2b) optional per-user reasons, (3–5) summarise → edit → verify, then the batch log.
 */
import type { TrainingCheckpoint } from './checkpoint.js';
import type { StepEnv } from './trainer-steps.js';
import { collectReasons, optimiseBatch, runBatchUsers } from './trainer-steps.js';
import type { UserRecord } from './dataset.js';

/**
 * Runs batch `state.batch` of `state.epoch` and advances the state past it. Throws (leaving the state
 * untouched) on aborts, budget exhaustion and non-LLM errors.
 * @returns `dead` when every user of the batch failed.
 */
export async function runEpochBatch(env: StepEnv, state: TrainingCheckpoint, users: UserRecord[]): Promise<{ dead: boolean }> {
  const runs = await runBatchUsers(env, users, state.prompt);
  let ok = runs.filter((r) => r.feedback !== null);
  let feedback = ok.map((r) => r.feedback as NonNullable<(typeof r)['feedback']>);
  let reasons: Record<string, string> | undefined;
  if (env.params.reasons === 'llm' && feedback.length > 0) {
    const got = await collectReasons(env, state.prompt, feedback);
    reasons = got.reasons;
    ok = ok.filter((r) => !got.dropped.has(r.user.userId));
    feedback = feedback.filter((f) => !got.dropped.has(f.userId));
  }
  const dropped = users.length - ok.length;
  const log = { epoch: state.epoch, batch: state.batch, users: users.length, dropped };

  if (ok.length === 0) {
    state.batches.push({ ...log, meanRank: 0, notFirst: 0, decision: 'skipped_no_users', attempts: 0, note: 'every user failed' });
    state.epochAcc.droppedUsers += dropped;
    state.deadBatches += 1;
    state.batch += 1;
    return { dead: true };
  }
  const outcome = await optimiseBatch(
    env,
    state.prompt,
    feedback,
    reasons,
    ok.map((r) => r.user),
  );
  // Commit only after every step of the batch succeeded.
  state.deadBatches = 0;
  state.epochAcc.droppedUsers += dropped;
  for (const r of ok) {
    state.epochAcc.ndcgSum += r.ndcg;
    state.epochAcc.ndcgCount += 1;
  }
  state.batches.push({
    ...log,
    meanRank: outcome.meanRankBefore,
    notFirst: feedback.filter((f) => f.rank > f.desiredRank).length,
    decision: outcome.decision,
    attempts: outcome.attempts,
    meanRankAfter: outcome.meanRankAfter,
    note: outcome.note,
  });
  if (outcome.accepted) {
    state.acceptedEdits.push({ epoch: state.epoch, batch: state.batch, meanRankBefore: outcome.meanRankBefore, ...outcome.accepted });
  }
  state.prompt = outcome.prompt;
  state.batch += 1;
  return { dead: false };
}
