/**
 * The serving pipeline: resolve the prompt, get the profile, rerank, and fall back to the baseline order
 * with a reason whenever the LLM is unconfigured, slow, failing or answers junk. The result is always a
 * permutation of exactly the candidates received.
 */
import type { CallContext, LlmMethod, PipelineOptions } from './pipeline.js';
import { identity, newContext, withTextSanitiser } from './pipeline.js';
import type { PassCount } from './rank-passes.js';
import { positionScores, rankWithPasses } from './rank-passes.js';
import type { ActivePrompt, Clock, LlmClient, Logger, PromptRegistry, RerankTelemetry } from './ports.js';
import { LlmCallError } from './ports.js';
import type { ProfileService } from './profile-service.js';
import { historyDigest, selectHistory } from './history.js';
import type { CandidateFormat } from './candidate-format.js';
import { formatCandidates } from './candidate-format.js';
import type { RankInput } from './pipeline.js';
import { pipelineSettingsDigest, rankingCacheDigest, rankingContextDigest, type ResultCache, type ResultCacheStatus } from './ranking-cache.js';
import type { Candidate, FallbackReason, Item, Method, Usage } from './types.js';

/** One rerank request, already validated. */
export interface RerankInput {
  userId: string;
  history: Item[];
  candidates: Candidate[];
  domain: string;
  method: Method;
  /** Caller budget in ms, already capped by the server maximum. */
  deadlineMs: number;
  includeProfile: boolean;
  signal?: AbortSignal | undefined;
  /** A specific prompt version instead of the domain's active one (an experiment arm pins one). */
  prompt?: ActivePrompt | undefined;
  /** Listwise passes over seeded shuffles of the candidates, aggregated by Borda count (default 1). */
  shuffles?: number | undefined;
  /** Seed of those shuffles: the requestId, so a request can be reproduced (default ''). */
  seed?: string | undefined;
  /** The rerank model for this request (already checked against LLM_MODELS); default: the configured one. */
  model?: string | undefined;
}

/**
 * Profile details reported to the caller. The response's `profile` is null whenever the answer used no
 * profile: methods without one (`baseline`, `direct`, `cot`), `agp` with an empty history, and `agp` answers
 * that fell back before a profile existed (`llm_unconfigured`, or a profile call that failed).
 */
export interface ProfileReport {
  cached: boolean;
  stale?: boolean;
  text?: string;
}

/** Result of one rerank; `order` is a full 0-based permutation of the input candidates. */
export interface RerankOutput {
  order: number[];
  method: Method;
  promptVersion: string;
  fallback: { reason: FallbackReason } | null;
  repaired: boolean;
  profile: ProfileReport | null;
  usage: Usage;
  timingsMs: { total: number; profile?: number; rerank?: number };
  /**
   * scores[i]: candidate i's score (by candidate INDEX, not position) in [0, 1], higher = more relevant:
   * normalised Borda points over the successful passes (src/agp/rank-passes.ts), which with one pass is
   * (n − 1 − pos) / (n − 1). Fallback and baseline answers score the baseline position.
   */
  scores: number[];
  /** How much the passes agreed, in [0, 1]; null with fewer than 2 successful passes (and on fallback). */
  agreement: number | null;
  /** Passes asked for and passes that produced a usable ranking (0 on fallback and for `baseline`). */
  passes: PassCount;
  /** Where the ranked order came from (ranking-cache.ts); `usage` counts no call for a `hit` or `coalesced` ranking. */
  cache: ResultCacheStatus;
  /** The model that produced the ranking; null when no model did (baseline, fallback). */
  model: string | null;
}

/** Dependencies of the reranker. */
export interface RerankerDeps {
  llm: LlmClient;
  registry: PromptRegistry;
  profiles: ProfileService;
  clock: Clock;
  logger: Logger;
  telemetry?: RerankTelemetry;
  pipeline: PipelineOptions;
  /** How candidates are written into ranking prompts (RERANK_CANDIDATE_FORMAT; default full). */
  candidateFormat?: CandidateFormat | undefined;
  /** The configured rerank model (LLM_RERANK_MODEL or LLM_MODEL): reported, and part of the cache key. */
  rerankModel?: string | undefined;
  /** The result cache; undefined when RERANK_CACHE_TTL_SECONDS is 0. */
  resultCache?: ResultCache | undefined;
}

/** The serving pipeline. */
export interface Reranker {
  rerank(input: RerankInput): Promise<RerankOutput>;
}

/** Creates the serving reranker. */
export function createReranker(deps: RerankerDeps): Reranker {
  const pipeline = withTextSanitiser(deps.pipeline);
  const settings = pipelineSettingsDigest(pipeline);
  return {
    async rerank(input) {
      const started = deps.clock.now();
      const prompt = input.prompt ?? deps.registry.resolve(input.domain);
      const model = input.model ?? deps.rerankModel;
      // A request's model applies to the rerank calls only: profiles stay with the profile model (README).
      const opts = input.model ? { ...pipeline, models: { ...pipeline.models, rerank: input.model } } : pipeline;
      const ctx = newContext(deps.llm, opts, started + input.deadlineMs, {
        signal: input.signal,
        telemetry: deps.telemetry,
      });
      const order = identity(input.candidates.length);
      // Fallback answers score the baseline position; built only when one is returned (not on the hot path).
      const fallbackScores = () => positionScores(order);
      const base: Omit<RerankOutput, 'timingsMs' | 'scores'> = {
        order,
        method: input.method,
        promptVersion: prompt.version,
        fallback: null,
        repaired: false,
        profile: null,
        usage: ctx.usage,
        agreement: null,
        passes: { requested: input.method === 'baseline' ? 0 : (input.shuffles ?? 1), succeeded: 0 },
        cache: 'off',
        model: null,
      };
      const elapsed = () => deps.clock.now() - started;
      if (input.method === 'baseline') return { ...base, scores: fallbackScores(), timingsMs: { total: elapsed() } };
      if (!deps.llm.configured) {
        return { ...base, scores: fallbackScores(), fallback: { reason: 'llm_unconfigured' }, timingsMs: { total: elapsed() } };
      }

      const timings: RerankOutput['timingsMs'] = { total: 0 };
      let profile: ProfileReport | null = null;
      try {
        const history = selectHistory(input.history, prompt.historyLength);
        let profileText: string | undefined;
        // An empty history has nothing to describe: no profile call, and the candidates are ranked with no
        // profile ("(no profile)" in the rank prompt). `profile` stays null, as for every answer that used none.
        if (input.method === 'agp' && history.length > 0) {
          const t0 = deps.clock.now();
          const got = await deps.profiles.getProfile(ctx, prompt, input.userId, input.domain, history);
          timings.profile = deps.clock.now() - t0;
          profileText = got.text;
          profile = { cached: got.cached, ...(got.stale ? { stale: true } : {}) };
          if (input.includeProfile) profile.text = got.text;
        }
        const t1 = deps.clock.now();
        const rankInput: RankInput = {
          method: input.method as LlmMethod,
          candidates: formatCandidates(input.candidates, deps.candidateFormat ?? 'full'),
          history,
          profile: profileText,
        };
        const shuffles = input.shuffles ?? 1;
        const rank = (c: CallContext) => rankWithPasses(c, rankInput, { shuffles, seed: input.seed ?? '' });
        // Scores, agreement and passes are cached with the order (CachedRanking carries extra fields).
        const { result: ranked, cache } = deps.resultCache
          ? await deps.resultCache.run(ctx, { userId: input.userId, digest: cacheDigest(input, prompt.version, model, rankInput, shuffles, settings, pipeline) }, rank)
          : { result: await rank(ctx), cache: 'off' as const };
        timings.rerank = deps.clock.now() - t1;
        timings.total = elapsed();
        if (ranked.outcome === 'unparseable') {
          return { ...base, scores: fallbackScores(), profile, cache, fallback: { reason: 'unparseable' }, timingsMs: timings };
        }
        return {
          ...base,
          profile,
          cache,
          model: model ?? null,
          order: ranked.order,
          repaired: ranked.outcome === 'repaired',
          scores: ranked.scores,
          agreement: ranked.agreement,
          passes: ranked.passes,
          timingsMs: timings,
        };
      } catch (err) {
        timings.total = elapsed();
        const reason = toFallbackReason(err, ctx, deps.logger);
        return { ...base, scores: fallbackScores(), profile, fallback: { reason }, timingsMs: timings };
      }
    },
  };
}

/** The result-cache key digest of one ranking step (ranking-cache.ts lists the parts). */
function cacheDigest(input: RerankInput, promptVersion: string, model: string | undefined, rank: RankInput, shuffles: number, settings: string, opts: PipelineOptions): string {
  const contextDigest = rank.method === 'agp' ? rankingContextDigest(rank.profile) : historyDigest(rank.history);
  return rankingCacheDigest(
    { domain: input.domain, promptVersion, model: model ?? '', method: rank.method, contextDigest, shuffles, settings, candidates: rank.candidates },
    opts.limits,
    opts.sanitiser,
  );
}

function toFallbackReason(err: unknown, ctx: CallContext, logger: Logger): FallbackReason {
  if (err instanceof LlmCallError) return err.reason;
  if (ctx.signal?.aborted) return 'timeout';
  // Anything else is a bug on our side; the caller still gets a valid baseline answer.
  logger.error(unexpectedErrorFields(err), 'unexpected rerank failure');
  return 'llm_error';
}

/**
 * Log fields for an unexpected error: its name and where it was thrown (the reason), and its message as
 * `errorText`. The message may quote what the LLM answered (prom-client's "Value is not a valid number: …"
 * once quoted a usage field verbatim), so the logger redacts `errorText` unless LOG_USER_TEXT is on
 * (src/observability/logger.ts). The frames are read after the message, so a message cannot fake them.
 */
export function unexpectedErrorFields(err: unknown): { errorName: string; where?: string; errorText: string } {
  if (!(err instanceof Error)) return { errorName: typeof err, errorText: String(err) };
  const head = `${err.name}: ${err.message}`;
  const frames = err.stack?.startsWith(head) ? err.stack.slice(head.length) : '';
  const where = /^\s*at (.{1,300})$/m.exec(frames)?.[1];
  return { errorName: err.name, ...(where ? { where } : {}), errorText: err.message };
}
