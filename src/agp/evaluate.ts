/**
 * Offline evaluation of ranking methods on a labelled dataset: per-user scores, aggregate NDCG@10,
 * HR@1/3/5 and MRR with 95% bootstrap intervals, and paired differences against the baseline order.
 * The trainer's per-epoch validation calls this same code.
 *
 * Users may come from an array or be streamed (an async iterable read from a file): at most
 * `concurrency` users are in flight, and each finished user leaves only its metric values behind
 * (ScoreColumns), so memory does not grow with the users' size.
 */
import { abortChildren } from './abort-children.js';
import type { CandidateFormat } from './candidate-format.js';
import { formatCandidates } from './candidate-format.js';
import type { CallContext, PipelineOptions } from './pipeline.js';
import { generateProfile, identity, newContext, withTextSanitiser } from './pipeline.js';
import { rankWithPasses } from './rank-passes.js';
import type { Clock, LlmClient } from './ports.js';
import { LlmCallError, systemClock } from './ports.js';
import { selectHistory } from './history.js';
import type { RankingScores } from './metrics.js';
import { scoreRanking } from './metrics.js';
import type { MetricName, MetricSummary, PairedDiff } from './score-columns.js';
import { ScoreColumns } from './score-columns.js';
import type { UserRecord } from './dataset.js';
import type { LlmFailureReason } from './ports.js';
import type { Usage } from './types.js';
import { addUsage, emptyUsage } from './types.js';

/** Methods an evaluation can compare. `base` is the candidates' own order and calls no LLM. */
export const EVAL_METHODS = ['base', 'direct', 'cot', 'agp'] as const;
export type EvalMethod = (typeof EVAL_METHODS)[number];

/**
 * How a failed or unparseable answer is scored. `served`: with the baseline order, which is what the service
 * returns then. `paper`: as the authors' code scored it, with the target at the worst rank (it adds the list
 * length to the average rank of such a user), so the parser and the fallback earn no credit.
 */
export const EVAL_PROTOCOLS = ['served', 'paper'] as const;
export type EvalProtocol = (typeof EVAL_PROTOCOLS)[number];

export { METRIC_NAMES } from './score-columns.js';
export type { MetricName, MetricSummary, PairedDiff } from './score-columns.js';

/** How one user fared under one method. */
export interface UserEvaluation {
  userId: string;
  /** Final candidate ids, best first. */
  order: string[];
  scores: RankingScores;
  /**
   * `failed`: an LLM call failed. Under the `served` protocol, failed and unparseable users are scored with
   * the baseline order (what serving would return); under `paper`, with their targets at the worst rank.
   */
  outcome: 'base' | 'ok' | 'repaired' | 'unparseable' | 'failed';
  failure?: LlmFailureReason | undefined;
  /** The generated profile (agp only). */
  profile?: string | undefined;
}

/** Everything about one method. */
export interface MethodEvaluation {
  /** Every user's evaluation, in dataset order; empty unless `keepPerUser` was set. */
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
  /** How failed and unparseable answers were scored. */
  protocol: EvalProtocol;
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
  /** How candidates are written into ranking prompts (default `full`), as RERANK_CANDIDATE_FORMAT in serving. */
  candidateFormat?: CandidateFormat | undefined;
  /** How failed and unparseable answers are scored (default `served`). */
  protocol?: EvalProtocol | undefined;
  /** Bootstrap seed (default 0). */
  seed?: number | undefined;
  bootstrapIterations?: number | undefined;
  /** Budget for each user's LLM work, in ms (default 120 000). */
  userTimeoutMs?: number | undefined;
  clock?: Clock | undefined;
  signal?: AbortSignal | undefined;
  /** Called after each (user, method) pair completes, with the number of pairs done so far. */
  onUser?: ((done: number) => void) | undefined;
  /**
   * Keep every user's evaluation (order, outcome, profile) in `perUser` (default true). Off, only the
   * metric values are kept: what a streamed evaluation of a large file wants.
   */
  keepPerUser?: boolean | undefined;
  /**
   * Listwise passes over seeded shuffles of each user's candidates, aggregated by Borda count (default 1:
   * one pass over the baseline order). The shuffles are seeded by `seed` and the userId, so a run replays.
   */
  shuffles?: number | undefined;
}

/** Scores one user's final order (ids) against the ground truth. */
export function scoreUser(user: UserRecord, order: number[]): Pick<UserEvaluation, 'order' | 'scores'> {
  const ids = order.map((i) => user.candidates[i]?.id ?? '');
  return { order: ids, scores: scoreRanking(ids, user.targets) };
}

/**
 * The baseline order with the targets moved to the end: the `paper` protocol's order for an answer that
 * failed or could not be parsed. The best-placed target then sits at rank n - |targets| + 1, which is n for
 * the usual single target (the authors' `initial_len`).
 */
export function worstRankOrder(user: UserRecord): number[] {
  const targets = new Set(user.targets);
  const n = user.candidates.length;
  const isTarget = (i: number) => targets.has(user.candidates[i]?.id ?? '');
  const all = identity(n);
  return [...all.filter((i) => !isTarget(i)), ...all.filter(isTarget)];
}

/** Applies the protocol to one user's evaluation: under `paper`, a failed or unparseable answer scores worst. */
function applyProtocol(user: UserRecord, ev: UserEvaluation, protocol: EvalProtocol): UserEvaluation {
  if (protocol === 'served' || (ev.outcome !== 'failed' && ev.outcome !== 'unparseable')) return ev;
  return { ...ev, ...scoreUser(user, worstRankOrder(user)) };
}

async function rankOne(ctx: CallContext, user: UserRecord, method: EvalMethod, o: EvaluateOptions): Promise<UserEvaluation> {
  return applyProtocol(user, await rankServed(ctx, user, method, o), o.protocol ?? 'served');
}

async function rankServed(ctx: CallContext, user: UserRecord, method: EvalMethod, o: EvaluateOptions): Promise<UserEvaluation> {
  const n = user.candidates.length;
  if (method === 'base') return { userId: user.userId, ...scoreUser(user, identity(n)), outcome: 'base' };
  const history = selectHistory(user.history, o.historyLength);
  try {
    let profile: string | undefined;
    if (method === 'agp') {
      if (o.promptText === undefined) throw new TypeError('evaluateMethods: promptText is required for agp');
      profile = await generateProfile(ctx, o.promptText, history);
    }
    const candidates = formatCandidates(user.candidates, o.candidateFormat ?? 'full');
    const passes = { shuffles: o.shuffles ?? 1, seed: `${o.seed ?? 0}:${user.userId}` };
    const res = await rankWithPasses(ctx, { method, candidates, history, profile }, passes);
    return { userId: user.userId, ...scoreUser(user, res.order), outcome: res.outcome, profile };
  } catch (err) {
    if (!(err instanceof LlmCallError) || o.signal?.aborted) throw err;
    return { userId: user.userId, ...scoreUser(user, identity(n)), outcome: 'failed', failure: err.reason };
  }
}

/** What one method accumulates while users stream past. */
class MethodTally {
  readonly scores = new ScoreColumns();
  readonly perUser: UserEvaluation[] = [];
  readonly usage = emptyUsage();
  failures = 0;
  unparseable = 0;

  add(index: number, ev: UserEvaluation, usage: Usage, keep: boolean): void {
    this.scores.set(index, ev.scores);
    if (keep) this.perUser[index] = ev;
    if (ev.outcome === 'failed') this.failures += 1;
    if (ev.outcome === 'unparseable') this.unparseable += 1;
    addUsage(this.usage, usage);
  }
}

/**
 * Evaluates each method on every user. LLM failures fall back to the baseline order for that user
 * (counted in `failures`); aborts and non-LLM errors propagate (after the users in flight finish; no new
 * user is started).
 * @param users an array, or a stream read lazily: the next user is pulled only when a slot is free.
 */
export async function evaluateMethods(
  users: Iterable<UserRecord> | AsyncIterable<UserRecord>,
  methods: readonly EvalMethod[],
  o: EvaluateOptions,
): Promise<EvaluationResult> {
  const clock = o.clock ?? systemClock;
  const pipeline = withTextSanitiser(o.pipeline);
  const limit = Math.max(1, o.concurrency ?? 8);
  const keep = o.keepPerUser ?? true;
  const uniq = [...new Set(methods)];
  const tallies = new Map(uniq.map((m) => [m, new MethodTally()] as const));
  const inFlight = new Set<Promise<void>>();
  let fatal: { err: unknown } | undefined;
  let done = 0;
  let n = 0;

  // Each (user, method) gets its own child of the caller's signal: `concurrency` calls on one shared signal
  // would add as many abort listeners to it (MaxListenersExceededWarning from 11).
  const children = abortChildren(o.signal);
  const run = async (index: number, user: UserRecord, method: EvalMethod) => {
    const child = children.child();
    try {
      if (o.signal?.aborted) throw o.signal.reason ?? new Error('aborted');
      const ctx = newContext(o.llm, pipeline, clock.now() + (o.userTimeoutMs ?? 120_000), { signal: child.signal });
      const ev = await rankOne(ctx, user, method, o);
      tallies.get(method)?.add(index, ev, ctx.usage, keep);
      o.onUser?.(++done);
    } catch (err) {
      fatal ??= { err };
    } finally {
      child.release();
    }
  };

  try {
    outer: for await (const user of users) {
      const index = n++;
      for (const method of uniq) {
        while (inFlight.size >= limit) await Promise.race(inFlight);
        if (fatal) break outer;
        const p: Promise<void> = run(index, user, method).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    }
  } finally {
    // Also when the stream fails (a bad line): no call outlives the evaluation.
    await Promise.all(inFlight);
    children.dispose();
  }
  if (fatal) throw fatal.err;

  const boot = { seed: o.seed ?? 0, iterations: o.bootstrapIterations ?? 1000 };
  const usage = emptyUsage();
  const results: Partial<Record<EvalMethod, MethodEvaluation>> = {};
  const base = tallies.get('base');
  for (const [method, t] of tallies) {
    addUsage(usage, t.usage);
    results[method] = {
      perUser: t.perUser,
      aggregate: t.scores.aggregate(boot),
      vsBase: base && method !== 'base' ? t.scores.pairedWith(base.scores, boot) : undefined,
      failures: t.failures,
      unparseable: t.unparseable,
      usage: t.usage,
    };
  }
  return { n, protocol: o.protocol ?? 'served', methods: results, usage };
}

/** The machine-readable summary printed by `agp eval --json`. */
export interface EvaluationSummary {
  n: number;
  protocol: EvalProtocol;
  methods: Partial<Record<EvalMethod, Record<MetricName | 'ndcg@10_ci95', number | [number, number]>>>;
  /** Users whose LLM call failed or whose answer was unparseable, per LLM method: what the protocol scored. */
  failures: Partial<Record<EvalMethod, { failed: number; unparseable: number }>>;
}

/**
 * `{n, protocol, methods:{<m>:{"ndcg@10","ndcg@10_ci95":[lo,hi],"hr@1","hr@3","hr@5","mrr"}},
 * failures:{<m>:{failed, unparseable}}}`.
 */
export function summarizeEvaluation(r: EvaluationResult): EvaluationSummary {
  const methods: EvaluationSummary['methods'] = {};
  const failures: EvaluationSummary['failures'] = {};
  for (const [m, ev] of Object.entries(r.methods) as Array<[EvalMethod, MethodEvaluation]>) {
    if (m !== 'base') failures[m] = { failed: ev.failures, unparseable: ev.unparseable };
    methods[m] = {
      'ndcg@10': ev.aggregate['ndcg@10'].mean,
      'ndcg@10_ci95': ev.aggregate['ndcg@10'].ci95,
      'hr@1': ev.aggregate['hr@1'].mean,
      'hr@3': ev.aggregate['hr@3'].mean,
      'hr@5': ev.aggregate['hr@5'].mean,
      mrr: ev.aggregate.mrr.mean,
    };
  }
  return { n: r.n, protocol: r.protocol, methods, failures };
}
