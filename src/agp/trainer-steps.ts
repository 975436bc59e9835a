/**
 * The steps of one AGP training batch: profile + rerank every user (concurrently), position feedback,
 * optional per-user reasons, ONE summarise call, ONE edit call, and the authors' acceptance rule (re-run
 * the batch; keep the edit only if the ground truth's mean rank strictly improves).
 */
import type { LimitFunction } from 'p-limit';
import type { PipelineOptions } from './pipeline.js';
import { callLlm, generateProfile, newContext, rankCandidates } from './pipeline.js';
import type { ChatMessage, Clock, LlmClient, LlmFailureReason, LlmRequest, LlmResponse } from './ports.js';
import { LlmCallError } from './ports.js';
import type { UserFeedback } from './feedback.js';
import { batchRankStats, positionFeedback } from './feedback.js';
import { selectHistory } from './history.js';
import { ndcgAtK } from './metrics.js';
import { sanitizeText } from './untrusted-text.js';
import { buildEditMessages, buildReasonMessages, buildSummariseMessages, parseEditedPrompt, parseInstruction } from './optimizer-prompts.js';
import type { UserRecord } from './dataset.js';
import type { BatchDecision, TrainingCounters } from './checkpoint.js';
import type { TrainingParams } from './training-params.js';

/** Thrown by the metered client when the run's call or token budget is spent. Not an LlmCallError. */
export class BudgetExceededError extends Error {
  override readonly name = 'BudgetExceededError';
  constructor(readonly kind: 'calls' | 'tokens') {
    super(`training ${kind === 'calls' ? 'LLM call' : 'token'} budget exhausted`);
  }
}

/** Live accounting shared by the metered client and the trainer. */
export interface Meter {
  counters: TrainingCounters;
  /** Which phase new calls are attributed to (training and validation never overlap in time). */
  phase: 'train' | 'validate';
}

/**
 * Counts every call (by role and phase) and enforces the budgets: a call that would exceed
 * `maxLlmCalls`, or any call once `maxTokens` is reached, throws BudgetExceededError instead.
 */
export function createMeteredLlm(inner: LlmClient, meter: Meter, limits: { maxLlmCalls?: number | undefined; maxTokens?: number | undefined }): LlmClient {
  return {
    get configured() {
      return inner.configured;
    },
    async complete(req: LlmRequest): Promise<LlmResponse> {
      const c = meter.counters;
      if (limits.maxLlmCalls !== undefined && c.llmCalls >= limits.maxLlmCalls) throw new BudgetExceededError('calls');
      if (limits.maxTokens !== undefined && c.promptTokens + c.completionTokens >= limits.maxTokens) {
        throw new BudgetExceededError('tokens');
      }
      c.llmCalls += 1;
      c.byRole[req.role] += 1;
      c.byPhase[meter.phase] += 1;
      if (meter.phase === 'train') c.trainByRole[req.role] += 1;
      try {
        const res = await inner.complete(req);
        c.promptTokens += res.promptTokens;
        c.completionTokens += res.completionTokens;
        return res;
      } catch (err) {
        if (err instanceof LlmCallError) {
          c.failedCalls += 1;
          c.promptTokens += err.usage?.promptTokens ?? 0;
          c.completionTokens += err.usage?.completionTokens ?? 0;
        }
        throw err;
      }
    },
  };
}

/** What a batch step needs. */
export interface StepEnv {
  llm: LlmClient;
  pipeline: PipelineOptions;
  params: TrainingParams;
  clock: Clock;
  signal: AbortSignal;
  limit: LimitFunction;
}

/** One user's pass with a prompt. `feedback` is null when an LLM call failed (the user is dropped). */
export interface UserRun {
  user: UserRecord;
  feedback: UserFeedback | null;
  failure?: LlmFailureReason | undefined;
  ndcg: number;
}

/**
 * Runs `fn` over the items with the shared limiter. LlmCallErrors are the caller's to catch inside `fn`;
 * anything else (abort, budget, crash) stops queued items from starting and is rethrown once every
 * started item has settled, so no call outlives the step.
 */
export async function settleAll<T, R>(env: StepEnv, items: T[], fn: (x: T) => Promise<R>): Promise<R[]> {
  let fatal: { err: unknown } | undefined;
  const settled = await Promise.allSettled(
    items.map((x) =>
      env.limit(async () => {
        if (fatal) throw fatal.err;
        env.signal.throwIfAborted();
        try {
          return await fn(x);
        } catch (err) {
          fatal ??= { err };
          throw err;
        }
      }),
    ),
  );
  if (fatal) throw fatal.err;
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
}

/**
 * An LlmCallError from a user's call drops that user, as in the authors' code. Anything else, and any
 * error while the run is being cancelled or shut down (the adapter reports an aborted call as `timeout`),
 * propagates: an interrupted batch must be redone on resume, not recorded as finished with failed users.
 */
function rethrowUnlessUserFailure(env: StepEnv, err: unknown): asserts err is LlmCallError {
  if (env.signal.aborted) throw env.signal.reason ?? err;
  if (!(err instanceof LlmCallError)) throw err;
}

/**
 * Profile → rerank → position feedback for every user of a batch, with `prompt`. The feedback carries one
 * entry per target (paper eq. 4), which the summarise and reason prompts show; the acceptance rule and the
 * batch's NDCG read the best-placed target, as the authors' code does.
 */
export function runBatchUsers(env: StepEnv, users: UserRecord[], prompt: string): Promise<UserRun[]> {
  return settleAll(env, users, async (user) => {
    const ctx = newContext(env.llm, env.pipeline, env.clock.now() + env.params.userTimeoutMs, { signal: env.signal });
    const history = selectHistory(user.history, env.params.historyLength);
    try {
      const profile = await generateProfile(ctx, prompt, history);
      const res = await rankCandidates(ctx, { method: 'agp', candidates: user.candidates, history, profile });
      const feedback = positionFeedback({
        userId: user.userId,
        history,
        profile,
        candidates: user.candidates,
        order: res.order,
        targetIds: user.targets,
      });
      return { user, feedback, ndcg: ndcgAtK(feedback.rank) };
    } catch (err) {
      rethrowUnlessUserFailure(env, err);
      return { user, feedback: null, failure: err.reason, ndcg: 0 };
    }
  });
}

function optimizerContext(env: StepEnv) {
  return newContext(env.llm, env.pipeline, env.clock.now() + env.params.optimizerTimeoutMs, { signal: env.signal });
}

/**
 * The authors' per-user "reason" calls (reasons: 'llm'): one call per user not ranked first. A user whose
 * reason call fails is dropped from the batch, as in the authors' code.
 */
export async function collectReasons(
  env: StepEnv,
  prompt: string,
  feedback: UserFeedback[],
): Promise<{ reasons: Record<string, string>; dropped: Set<string> }> {
  const reasons: Record<string, string> = {};
  const dropped = new Set<string>();
  await settleAll(env, feedback.filter((f) => f.rank > f.desiredRank), async (fb) => {
    try {
      const text = await callLlm(optimizerContext(env), 'reason', buildReasonMessages(prompt, fb), {
        maxTokens: env.params.optimizerMaxTokens,
      });
      reasons[fb.userId] = text.trim();
    } catch (err) {
      rethrowUnlessUserFailure(env, err);
      dropped.add(fb.userId);
    }
  });
  return { reasons, dropped };
}

/** Added to the summarise request on a retry, so the optimiser proposes something different. */
function retryNote(rejected: string[]): ChatMessage {
  const tried = rejected.map((r) => `- "${sanitizeText(r, 400)}"`).join('\n');
  return {
    role: 'user',
    content: `These instructions were already tried on this batch and did not lower the average rank of the chosen items:\n${tried}\nPropose a different instruction.`,
  };
}

/** Outcome of the summarise → edit → verify step of one batch. */
export interface EditOutcome {
  decision: BatchDecision;
  prompt: string;
  attempts: number;
  meanRankBefore: number;
  meanRankAfter?: number | undefined;
  /** Present when an edit was accepted. */
  accepted?: { attempt: number; instruction: string; before: string; after: string; meanRankAfter: number | null };
  note?: string | undefined;
}

/** Mean rank of `runs` restricted to users present in `keep`. */
function meanRankOf(runs: UserFeedback[], keep: Set<string>): number {
  return batchRankStats(runs.filter((f) => keep.has(f.userId))).meanRank;
}

/**
 * Summarise the batch's feedback into one instruction, apply it with one edit call, and verify it.
 * With `verifySteps` 0 a usable edit is accepted as is; otherwise the batch is re-run with the new prompt
 * and the edit kept only if the mean ground-truth rank (over users that succeeded in both passes) is
 * strictly lower, with up to `verifySteps` summarise/edit attempts.
 */
export async function optimiseBatch(
  env: StepEnv,
  prompt: string,
  feedback: UserFeedback[],
  reasons: Record<string, string> | undefined,
  users: UserRecord[],
): Promise<EditOutcome> {
  const before = batchRankStats(feedback);
  const out: EditOutcome = { decision: 'edit_unusable', prompt, attempts: 0, meanRankBefore: before.meanRank };
  if (before.failures === 0) return { ...out, decision: 'skipped_all_first', note: 'every user already ranks the ground truth first' };
  const tries = Math.max(1, env.params.verifySteps);
  const rejected: string[] = [];
  const notes: string[] = [];
  const fail = (decision: BatchDecision, attempt: number, why: string) => {
    out.decision = decision;
    notes.push(`attempt ${attempt}: ${why}`);
    out.note = notes.join('; ');
  };
  const maxTokens = env.params.optimizerMaxTokens;
  for (let attempt = 1; attempt <= tries; attempt++) {
    out.attempts = attempt;
    env.signal.throwIfAborted();
    let instruction: string;
    let answer: string;
    try {
      const msgs = buildSummariseMessages(prompt, feedback, reasons);
      if (rejected.length > 0) msgs.push(retryNote(rejected));
      instruction = parseInstruction(await callLlm(optimizerContext(env), 'summarise', msgs, { maxTokens }));
      if (instruction === '') {
        fail('edit_unusable', attempt, 'empty instruction');
        continue;
      }
      answer = await callLlm(optimizerContext(env), 'edit', buildEditMessages(prompt, instruction), { maxTokens });
    } catch (err) {
      rethrowUnlessUserFailure(env, err);
      fail('optimizer_failed', attempt, `${err.reason}: ${err.message}`);
      continue;
    }
    const parsed = parseEditedPrompt(answer, prompt);
    if (!parsed.ok) {
      fail('edit_unusable', attempt, parsed.reason);
      rejected.push(instruction);
      continue;
    }
    if (env.params.verifySteps === 0) {
      return { ...out, decision: 'accepted', prompt: parsed.text, accepted: { attempt, instruction, before: prompt, after: parsed.text, meanRankAfter: null } };
    }
    const rerun = await runBatchUsers(env, users, parsed.text);
    const after = rerun.flatMap((r) => (r.feedback ? [r.feedback] : []));
    const both = new Set(after.map((f) => f.userId));
    const rankBefore = meanRankOf(feedback, both);
    const rankAfter = meanRankOf(after, both);
    out.meanRankAfter = rankAfter;
    if (both.size > 0 && rankAfter < rankBefore) {
      return {
        ...out,
        decision: 'accepted',
        prompt: parsed.text,
        meanRankBefore: rankBefore,
        accepted: { attempt, instruction, before: prompt, after: parsed.text, meanRankAfter: rankAfter },
      };
    }
    fail('rejected', attempt, `mean rank ${rankBefore.toFixed(2)} → ${rankAfter.toFixed(2)} (not lower)`);
    rejected.push(instruction);
  }
  return out;
}
