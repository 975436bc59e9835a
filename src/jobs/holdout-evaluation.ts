/**
 * The offline gate's measurement (issue 11): one profile prompt (method `agp`) evaluated on a loop run's
 * held-out file with the same pipeline as `agp eval` and the trainer's validation, as NDCG@10 per real
 * user. A dataset row is one exposure (`userId` = `<user>#<requestId>`); a user's rows are averaged, so the
 * gate's paired bootstrap resamples users, not exposures (one busy user does not count a hundred times).
 */
import type { PipelineOptions } from '../agp/pipeline.js';
import type { Clock, LlmClient } from '../agp/ports.js';
import { evaluateMethods } from '../agp/evaluate.js';
import type { CandidateFormat } from '../agp/candidate-format.js';
import { loadDatasetRef } from './dataset-files.js';

/** What an evaluation runs with. */
export interface HoldoutEvaluationDeps {
  llm: LlmClient;
  pipeline: PipelineOptions;
  /** TRAINING_DATA_DIR: the held-out path is confined to it like any training file. */
  dataDir: string;
  /** Users evaluated at once (TRAINING_CONCURRENCY). */
  concurrency: number;
  candidateFormat?: CandidateFormat | undefined;
  clock?: Clock | undefined;
}

/** The real user of a row's userId (the builder's `<user>#<requestId>`; dataset-split.ts reads it the same way). */
export function realUserOf(userId: string): string {
  return userId.split('#', 1)[0] || userId;
}

/**
 * Evaluates `promptText` on the held-out file: mean NDCG@10 per real user, and the LLM calls it took.
 * LLM failures score the baseline order (what serving would show), as in `agp eval`.
 */
export async function evaluateHoldout(
  deps: HoldoutEvaluationDeps,
  promptText: string,
  historyLength: number,
  holdoutPath: string,
): Promise<{ perUser: Map<string, number>; llmCalls: number }> {
  const users = await loadDatasetRef({ path: holdoutPath }, deps.dataDir, 'holdout');
  const result = await evaluateMethods(users, ['agp'], {
    llm: deps.llm,
    pipeline: deps.pipeline,
    promptText,
    historyLength,
    concurrency: deps.concurrency,
    candidateFormat: deps.candidateFormat,
    clock: deps.clock,
    // Only the per-user values are used: the gate bootstraps the paired differences itself.
    bootstrapIterations: 1,
    keepPerUser: true,
  });
  const sums = new Map<string, { sum: number; n: number }>();
  for (const u of result.methods.agp?.perUser ?? []) {
    const key = realUserOf(u.userId);
    const s = sums.get(key) ?? { sum: 0, n: 0 };
    s.sum += u.scores['ndcg@10'];
    s.n += 1;
    sums.set(key, s);
  }
  return { perUser: new Map([...sums].map(([k, s]) => [k, s.sum / s.n])), llmCalls: result.usage.llmCalls };
}
