/**
 * The serving pipeline: resolve the prompt, get the profile, rerank, and fall back to the baseline order
 * with a reason whenever the LLM is unconfigured, slow, failing or answers junk. The result is always a
 * permutation of exactly the candidates received.
 */
import type { CallContext, LlmMethod, PipelineOptions } from './pipeline.js';
import { identity, newContext, rankCandidates, withTextSanitiser } from './pipeline.js';
import type { ActivePrompt, Clock, LlmClient, Logger, PromptRegistry, RerankTelemetry } from './ports.js';
import { LlmCallError } from './ports.js';
import type { ProfileService } from './profile-service.js';
import { historyDigest, selectHistory } from './history.js';
import type { RankInput, RankResult } from './pipeline.js';
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
      const base: Omit<RerankOutput, 'timingsMs'> = {
        order: identity(input.candidates.length),
        method: input.method,
        promptVersion: prompt.version,
        fallback: null,
        repaired: false,
        profile: null,
        usage: ctx.usage,
        cache: 'off',
        model: null,
      };
      const elapsed = () => deps.clock.now() - started;
      if (input.method === 'baseline') return { ...base, timingsMs: { total: elapsed() } };
      if (!deps.llm.configured) {
        return { ...base, fallback: { reason: 'llm_unconfigured' }, timingsMs: { total: elapsed() } };
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
        const rankInput: RankInput = { method: input.method as LlmMethod, candidates: input.candidates, history, profile: profileText };
        const rank = (c: CallContext): Promise<RankResult> => rankCandidates(c, rankInput);
        const { result: ranked, cache } = deps.resultCache
          ? await deps.resultCache.run(ctx, { userId: input.userId, digest: cacheDigest(input, prompt.version, model, rankInput, settings, pipeline) }, rank)
          : { result: await rank(ctx), cache: 'off' as const };
        timings.rerank = deps.clock.now() - t1;
        timings.total = elapsed();
        if (ranked.outcome === 'unparseable') {
          return { ...base, profile, cache, fallback: { reason: 'unparseable' }, timingsMs: timings };
        }
        return { ...base, profile, cache, model: model ?? null, order: ranked.order, repaired: ranked.outcome === 'repaired', timingsMs: timings };
      } catch (err) {
        timings.total = elapsed();
        return { ...base, profile, fallback: { reason: toFallbackReason(err, ctx, deps.logger) }, timingsMs: timings };
      }
    },
  };
}

/** The result-cache key digest of one ranking step (ranking-cache.ts lists the parts). */
function cacheDigest(input: RerankInput, promptVersion: string, model: string | undefined, rank: RankInput, settings: string, opts: PipelineOptions): string {
  const contextDigest = rank.method === 'agp' ? rankingContextDigest(rank.profile) : historyDigest(rank.history);
  return rankingCacheDigest(
    // shuffles: 1 pass until the request carries `shuffles` (issue 12, passes).
    { domain: input.domain, promptVersion, model: model ?? '', method: rank.method, contextDigest, shuffles: 1, settings, candidates: rank.candidates },
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
