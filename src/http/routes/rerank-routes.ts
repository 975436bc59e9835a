/**
 * POST /v1/rerank: validate, call the reranker, map the result. LLM faults arrive as `fallback`, never 5xx.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ExperimentServing, ServedRerank } from '../../experiments/experiment-serving.js';
import type { RerankInput } from '../../agp/reranker.js';
import type { Metrics } from '../../observability/metrics.js';
import { ErrorCodes, InvalidInputError } from '../../errors.js';
import type { ShufflesSettings } from '../../agp/rank-passes.js';
import { resolveShuffles } from '../../agp/rank-passes.js';
import type { ApiKeyService } from '../../api-keys/api-key-service.js';
import type { Reranker } from '../../agp/reranker.js';
import type { RouteRateLimit } from '../plugins/api-key-auth.js';
import { V1_SECURITY, RerankRequestSchema, RerankResponseSchema, errorResponses } from '../schemas.js';
import { requestSpan } from '../plugins/tracing-plugin.js';

/** Options the rerank route needs from config. */
export interface RerankRouteOptions {
  /** Serving, under an experiment when the user is in one; it also hands the exposure to the recorder. */
  serving: ExperimentServing;
  metrics: Metrics;
  clock: { now(): number };
  defaultDeadlineMs: number;
  maxDeadlineMs: number;
  /** Passes per request: RERANK_SHUFFLES_DEFAULT, _DOMAINS and _MAX. */
  shuffles: ShufflesSettings;
  /** Models a request may name (config.ts requestModels: LLM_MODELS and the configured rerank model). */
  models: ReadonlySet<string>;
  /** Per-route rate limit config for @fastify/rate-limit, when enabled. */
  rateLimit?: RouteRateLimit | undefined;
  /** API keys (when on): the daily LLM-call quota and per-key usage. */
  apiKeys?: ApiKeyService | undefined;
  /** Serves the baseline order past a key's quota: no experiment, no exposure, no LLM call. */
  baseline?: Reranker | undefined;
}


/** Past a key's daily LLM-call quota: the baseline order, reported as a `quota_exceeded` fallback of the asked method. */
async function quotaExceeded(baseline: Reranker, input: RerankInput): Promise<ServedRerank> {
  const out = await baseline.rerank({ ...input, method: 'baseline' });
  return { out: { ...out, method: input.method, fallback: { reason: 'quota_exceeded' } }, experiment: null, itemArms: null };
}

/** Registers POST /v1/rerank. */
export function registerRerankRoutes(app: FastifyInstance, opts: RerankRouteOptions): void {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/rerank',
    {
      schema: {
        summary: 'Rerank one user’s candidates',
        description:
          'Returns a permutation of exactly the given candidates. LLM faults never become errors: the baseline order is returned with `fallback.reason`.',
        tags: ['rerank'],
        operationId: 'rerank',
        security: V1_SECURITY,
        body: RerankRequestSchema,
        response: { 200: RerankResponseSchema, ...errorResponses },
      },
      ...(opts.rateLimit ? { config: { rateLimit: opts.rateLimit } } : {}),
    },
    async (req, reply) => {
      const body = req.body;
      const seen = new Set<string>();
      for (const c of body.candidates) {
        if (seen.has(c.id)) {
          throw new InvalidInputError(`candidates: duplicate id "${c.id.slice(0, 64)}"`, undefined, ErrorCodes.DUPLICATE_CANDIDATE);
        }
        seen.add(c.id);
      }
      if (body.model !== undefined && !opts.models.has(body.model)) {
        throw new InvalidInputError(`model: "${body.model}" is not one of the allowed models (LLM_MODELS)`, undefined, ErrorCodes.UNKNOWN_MODEL);
      }
      const deadlineMs = Math.min(body.deadlineMs ?? opts.defaultDeadlineMs, opts.maxDeadlineMs);

      // Abort LLM work when the caller goes away before we answer.
      const abort = new AbortController();
      const onClose = () => {
        if (!reply.raw.writableEnded) abort.abort();
      };
      reply.raw.once('close', onClose);
      const key = req.apiKey;
      const input: RerankInput = {
        userId: body.userId,
        history: body.history,
        candidates: body.candidates,
        domain: body.domain,
        method: body.method,
        deadlineMs,
        includeProfile: body.includeProfile,
        signal: abort.signal,
        shuffles: resolveShuffles(body.shuffles, body.domain, opts.shuffles),
        seed: req.id,
        model: body.model,
      };
      const overQuota = key !== null && opts.apiKeys !== undefined && opts.baseline !== undefined && (await opts.apiKeys.quotaExceeded(key));
      const { out, experiment, itemArms } = overQuota
        ? await quotaExceeded(opts.baseline as Reranker, input)
        : await opts.serving.serve(input, { requestId: req.id, topN: body.topN, at: opts.clock.now() });
      if (key && opts.apiKeys) opts.apiKeys.record(key.name, { reranks: 1, ...out.usage });

      const outcome = out.fallback ? 'fallback' : out.repaired ? 'repaired' : 'ok';
      opts.metrics.reranks.inc({ method: out.method, outcome });
      if (out.fallback) opts.metrics.fallbacks.inc({ reason: out.fallback.reason });
      const span = requestSpan(req);
      if (span) {
        span.setAttribute('agp.rerank.method', out.method);
        span.setAttribute('agp.rerank.outcome', outcome);
        span.setAttribute('agp.prompt_version', out.promptVersion);
        span.setAttribute('agp.result_cache', out.cache);
        span.setAttribute('agp.llm_calls', out.usage.llmCalls);
        if (out.fallback) span.setAttribute('agp.fallback.reason', out.fallback.reason);
      }

      const n = body.topN === undefined ? out.order.length : Math.min(body.topN, out.order.length);
      const ranking = new Array<{ id: string; rank: number; baseRank: number; score: number; arm?: string }>(n);
      for (let pos = 0; pos < n; pos++) {
        const idx = out.order[pos] as number;
        ranking[pos] = { id: (body.candidates[idx] as { id: string }).id, rank: pos + 1, baseRank: idx + 1, score: out.scores[idx] as number };
        if (itemArms) (ranking[pos] as { arm?: string }).arm = itemArms[pos];
      }
      return {
        ranking,
        method: out.method,
        promptVersion: out.promptVersion,
        fallback: out.fallback,
        repaired: out.repaired,
        agreement: out.agreement,
        passes: out.passes,
        profile: out.profile,
        usage: out.usage,
        timingsMs: out.timingsMs,
        cache: out.cache,
        model: out.model,
        experiment,
        requestId: req.id,
      };
    },
  );
}
