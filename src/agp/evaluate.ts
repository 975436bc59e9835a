/**
 * Offline evaluation of ranking methods on a labelled dataset: per-user scores, aggregate NDCG@10,
 * HR@1/3/5 and MRR with 95% bootstrap intervals, and paired differences against the baseline order.
 * The trainer's per-epoch validation calls this same code.
 */
import pLimit from 'p-limit';
import { abortChildren } from './abort-children.js';
import type { CallContext, PipelineOptions } from './pipeline.js';
import { generateProfile, identity, newContext, rankCandidates } from './pipeline.js';
import type { Clock, LlmClient } from './ports.js';
import { LlmCallError, systemClock } from './ports.js';
import { selectHistory } from './history.js';
import type { RankingScores } from './metrics.js';
import { bootstrapCi, mean, pairedBootstrap, scoreRanking } from './metrics.js';
import type { UserRecord } from './dataset.js';
import type { LlmFailureReason } from './ports.js';
import type { Usage } from './types.js';
import { addUsage, emptyUsage } from './types.js';

/** Methods an evaluation can compare. `base` is the candidates' own order and calls no LLM. */
export const EVAL_METHODS = ['base', 'direct', 'cot', 'agp'] as const;
export type EvalMethod = (typeof EVAL_METHODS)[number];

/** The aggregated metrics, in report order. */
export const METRIC_NAMES = ['ndcg@10', 'hr@1', 'hr@3', 'hr@5', 'mrr'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** How one user fared under one method. */
export interface UserEvaluation {
  userId: string;
  /** Final candidate ids, best first. */
  order: string[];
  scores: RankingScores;
  /** `failed`: an LLM call failed and the baseline order was scored (what serving would return). */
  outcome: 'base' | 'ok' | 'repaired' | 'unparseable' | 'failed';
  failure?: LlmFailureReason | undefined;
  /** The generated profile (agp only). */
  profile?: string | undefined;
}

/** Mean and percentile-bootstrap 95% interval. */
export interface MetricSummary {
  mean: number;
  ci95: [number, number];
}

/** Paired difference method − base over the same users. */
export interface PairedDiff {
  meanDiff: number;
  ci95: [number, number];
  pValue: number;
}

/** Everything about one method. */
export interface MethodEvaluation {
  perUser: UserEvaluation[];
  aggregate: Record<MetricName, MetricSummary>;
  /** Absent for `base` itself, and when `base` was not evaluated. */
  vsBase?: Record<MetricName, PairedDiff> | undefined;
  failures: number;
  unparseable: number;
  usage: Usage;
}

/** Result of `evaluateMethods`. */
export interface EvaluationResult {
  n: number;
  methods: Partial<Record<EvalMethod, MethodEvaluation>>;
  usage: Usage;
}

/** Settings of one evaluation. */
export interface EvaluateOptions {
  llm: LlmClient;
  pipeline: PipelineOptions;
  /** The profile-generation prompt (required when `agp` is evaluated). */
  promptText?: string | undefined;
  /** History items given to the LLM (the last N). */
  historyLength: number;
  /** Users evaluated at once (default 8). */
  concurrency?: number | undefined;
  /** Bootstrap seed (default 0). */
  seed?: number | undefined;
  bootstrapIterations?: number | undefined;
  /** Budget for each user's LLM work, in ms (default 120 000). */
  userTimeoutMs?: number | undefined;
  clock?: Clock | undefined;
  signal?: AbortSignal | undefined;
  /** Called after each (user, method) pair completes. */
  onUser?: ((done: number, total: number) => void) | undefined;
}

/** Scores one user's final order (ids) against the ground truth. */
export function scoreUser(user: UserRecord, order: number[]): Pick<UserEvaluation, 'order' | 'scores'> {
  const ids = order.map((i) => user.candidates[i]?.id ?? '');
  return { order: ids, scores: scoreRanking(ids, user.targets) };
}

async function rankOne(ctx: CallContext, user: UserRecord, method: EvalMethod, o: EvaluateOptions): Promise<UserEvaluation> {
  const n = user.candidates.length;
  if (method === 'base') return { userId: user.userId, ...scoreUser(user, identity(n)), outcome: 'base' };
  const history = selectHistory(user.history, o.historyLength);
  try {
    let profile: string | undefined;
    if (method === 'agp') {
      if (o.promptText === undefined) throw new TypeError('evaluateMethods: promptText is required for agp');
      profile = await generateProfile(ctx, o.promptText, history);
    }
    const res = await rankCandidates(ctx, { method, candidates: user.candidates, history, profile });
    return { userId: user.userId, ...scoreUser(user, res.order), outcome: res.outcome, profile };
  } catch (err) {
    if (!(err instanceof LlmCallError) || o.signal?.aborted) throw err;
    return { userId: user.userId, ...scoreUser(user, identity(n)), outcome: 'failed', failure: err.reason };
  }
}

/** Aggregates per-user scores: mean and bootstrap 95% CI of every metric. */
export function aggregateScores(perUser: UserEvaluation[], seed = 0, iterations = 1000): Record<MetricName, MetricSummary> {
  const out = {} as Record<MetricName, MetricSummary>;
  for (const m of METRIC_NAMES) {
    const xs = perUser.map((u) => u.scores[m]);
    out[m] = { mean: mean(xs), ci95: bootstrapCi(xs, { seed, iterations }) };
  }
  return out;
}

/**
 * Evaluates each method on every user. LLM failures fall back to the baseline order for that user
 * (counted in `failures`); aborts and non-LLM errors propagate.
 */
export async function evaluateMethods(
  users: UserRecord[],
  methods: readonly EvalMethod[],
  o: EvaluateOptions,
): Promise<EvaluationResult> {
  const clock = o.clock ?? systemClock;
  const limit = pLimit(Math.max(1, o.concurrency ?? 8));
  const uniq = [...new Set(methods)];
  const total = users.length * uniq.length;
  let done = 0;
  const usage = emptyUsage();
  const results: Partial<Record<EvalMethod, MethodEvaluation>> = {};
  const jobs = uniq.flatMap((method) => users.map((user) => ({ method, user })));
  // After a fatal error (abort, budget, crash) queued users are not started; running ones finish.
  let fatal: { err: unknown } | undefined;
  // Each (user, method) gets its own child of the caller's signal: `concurrency` calls on one shared signal
  // would add as many abort listeners to it (MaxListenersExceededWarning from 11).
  const children = abortChildren(o.signal);
  const settled = await Promise.allSettled(
    jobs.map(({ method, user }) =>
      limit(async () => {
        if (fatal) throw fatal.err;
        if (o.signal?.aborted) throw o.signal.reason ?? new Error('aborted');
        const child = children.child();
        const ctx = newContext(o.llm, o.pipeline, clock.now() + (o.userTimeoutMs ?? 120_000), { signal: child.signal });
        try {
          const ev = await rankOne(ctx, user, method, o);
          o.onUser?.(++done, total);
          return { method, ev, usage: ctx.usage };
        } catch (err) {
          fatal ??= { err };
          throw err;
        } finally {
          child.release();
        }
      }),
    ),
  ).finally(() => children.dispose());
  if (fatal) throw fatal.err;
  const seed = o.seed ?? 0;
  const iterations = o.bootstrapIterations ?? 1000;
  for (const method of uniq) {
    const mine = settled
      .map((s) => (s as PromiseFulfilledResult<{ method: EvalMethod; ev: UserEvaluation; usage: Usage }>).value)
      .filter((r) => r.method === method);
    const perUser = mine.map((r) => r.ev);
    const mUsage = mine.reduce((acc, r) => addUsage(acc, r.usage), emptyUsage());
    addUsage(usage, mUsage);
    results[method] = {
      perUser,
      aggregate: aggregateScores(perUser, seed, iterations),
      failures: perUser.filter((u) => u.outcome === 'failed').length,
      unparseable: perUser.filter((u) => u.outcome === 'unparseable').length,
      usage: mUsage,
    };
  }
  const base = results.base;
  if (base) {
    for (const method of uniq) {
      const r = results[method];
      if (!r || method === 'base') continue;
      const vs = {} as Record<MetricName, PairedDiff>;
      for (const m of METRIC_NAMES) {
        vs[m] = pairedBootstrap(
          r.perUser.map((u) => u.scores[m]),
          base.perUser.map((u) => u.scores[m]),
          { seed, iterations },
        );
      }
      r.vsBase = vs;
    }
  }
  return { n: users.length, methods: results, usage };
}

/** The machine-readable summary printed by `agp eval --json`. */
export interface EvaluationSummary {
  n: number;
  methods: Partial<Record<EvalMethod, Record<MetricName | 'ndcg@10_ci95', number | [number, number]>>>;
}

/** `{n, methods:{<m>:{"ndcg@10","ndcg@10_ci95":[lo,hi],"hr@1","hr@3","hr@5","mrr"}}}`. */
export function summarizeEvaluation(r: EvaluationResult): EvaluationSummary {
  const methods: EvaluationSummary['methods'] = {};
  for (const [m, ev] of Object.entries(r.methods) as Array<[EvalMethod, MethodEvaluation]>) {
    methods[m] = {
      'ndcg@10': ev.aggregate['ndcg@10'].mean,
      'ndcg@10_ci95': ev.aggregate['ndcg@10'].ci95,
      'hr@1': ev.aggregate['hr@1'].mean,
      'hr@3': ev.aggregate['hr@3'].mean,
      'hr@5': ev.aggregate['hr@5'].mean,
      mrr: ev.aggregate.mrr.mean,
    };
  }
  return { n: r.n, methods };
}
