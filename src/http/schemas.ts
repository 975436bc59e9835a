/**
 * Zod schemas for every public route: the single source of request validation, response serialisation
 * and openapi/openapi.json.
 */
import { z } from 'zod';
import { FALLBACK_REASONS, METHODS } from '../agp/types.js';
import { isWellFormedText } from '../agp/text-identity.js';

/** Hard input limits (part of the contract). */
export const LIMITS = {
  userIdMax: 256,
  historyMax: 200,
  candidatesMax: 100,
  idMax: 256,
  /** Titles above the prompt cap are truncated in the prompt, not rejected; this only bounds memory. */
  titleMax: 4096,
  textMax: 16_384,
} as const;

/**
 * A schema for an identifier: 1..max UTF-16 units, well-formed. A lone surrogate (`"alice\ud800"`) is rejected: it reads as
 * U+FFFD once encoded, so it would name another user's data in every UTF-8 system downstream.
 */
export const identifier = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine(isWellFormedText, { message: 'must be well-formed UTF-16 (no unpaired surrogate)' });

const itemId = identifier(LIMITS.idMax).describe('Item id, unique within the list.');
const title = z.string().max(LIMITS.titleMax).describe('Untrusted display title; truncated in prompts.');
const text = z.string().max(LIMITS.textMax).optional().describe('Optional untrusted description; truncated in prompts.');

export const HistoryItemSchema = z.object({ id: itemId, title, text }).meta({ id: 'HistoryItem' });

export const CandidateSchema = z
  .object({ id: itemId, title, text, score: z.number().optional().describe("The baseline recommender's score.") })
  .meta({ id: 'Candidate' });

export const RerankRequestSchema = z
  .object({
    userId: identifier(LIMITS.userIdMax),
    history: z.array(HistoryItemSchema).max(LIMITS.historyMax).describe('Oldest first; the last N are used.'),
    candidates: z
      .array(CandidateSchema)
      .min(1)
      .max(LIMITS.candidatesMax)
      .describe("The baseline recommender's top-k, in its order. Ids must be unique."),
    domain: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/).default('default'),
    topN: z.number().int().min(1).optional().describe('Return only the first N.'),
    method: z.enum(METHODS).default('agp'),
    deadlineMs: z.number().int().min(1).optional().describe("Caller's budget; capped by the server maximum."),
    includeProfile: z.boolean().default(false),
    shuffles: z
      .number()
      .int()
      .min(1)
      .max(5)
      .optional()
      .describe(
        'Listwise passes over seeded shuffles of the candidates (seeded by the requestId), run in parallel and aggregated by Borda count to cancel position bias. Default: the domain default (RERANK_SHUFFLES_DOMAINS) or RERANK_SHUFFLES_DEFAULT; values above RERANK_SHUFFLES_MAX are clamped to it.',
      ),
    model: z
      .string()
      .regex(/^[^\p{Cc},]{1,200}$/u, 'must be 1–200 characters without control characters or commas')
      .optional()
      .describe('The model that ranks, one of the server allow-list LLM_MODELS (else 400 UNKNOWN_MODEL); default: the configured rerank model. Profiles keep the profile model.'),
  })
  .meta({ id: 'RerankRequest' });

export const FallbackReasonSchema = z
  .enum(FALLBACK_REASONS)
  .describe(
    'Why the baseline order was served: the LLM is not configured, timed out, failed, answered unparseably, was overloaded or its circuit is open; or `quota_exceeded`: the API key used its daily LLM-call quota (no LLM call was made).',
  )
  .meta({ id: 'FallbackReason' });

export const RerankResponseSchema = z
  .object({
    ranking: z.array(
      z.object({
        id: z.string(),
        rank: z.number().int().min(1).describe('1-based position after reranking.'),
        baseRank: z.number().int().min(1).describe('1-based position in the request.'),
        arm: z.string().optional().describe('Under an interleaving experiment: the arm that contributed this item.'),
        score: z
          .number()
          .min(0)
          .max(1)
          .describe(
            'Relevance in [0, 1], higher is better: the normalised Borda points over the successful passes, sum of (n − 1 − position) / (passes × (n − 1)); with one pass (n − 1 − position) / (n − 1); 1 when n = 1. Rounded to 4 decimals. A fallback scores the baseline position. Under interleaving, the control arm’s score.',
          ),
      }),
    ),
    agreement: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe('How much the passes agreed: mean pairwise Kendall’s tau mapped to [0, 1] as (tau + 1) / 2. Null with fewer than 2 successful passes.'),
    passes: z
      .object({ requested: z.number().int().min(0), succeeded: z.number().int().min(0) })
      .describe('Passes run (after clamping to RERANK_SHUFFLES_MAX; 0 for baseline) and passes that produced a usable ranking.'),
    experiment: z
      .object({ id: z.string(), arm: z.string().nullable().describe('The A/B arm served; null under interleaving (see ranking[i].arm).') })
      .nullable()
      .describe('The experiment this answer was served under, or null (no running experiment, or the user is outside its traffic share).'),
    method: z.enum(METHODS),
    promptVersion: z.string(),
    fallback: z.object({ reason: FallbackReasonSchema }).nullable(),
    repaired: z.boolean().describe("True when the LLM's answer was usable only after repair."),
    profile: z
      .object({ cached: z.boolean(), stale: z.boolean().optional(), text: z.string().optional() })
      .nullable()
      .describe(
        'Null when the answer used no profile: methods without one (baseline, direct, cot), agp with an empty history (no profile call), and agp answers that fell back before a profile existed (e.g. llm_unconfigured).',
      ),
    usage: z.object({
      llmCalls: z.number().int().min(0),
      promptTokens: z.number().int().min(0),
      completionTokens: z.number().int().min(0),
    }),
    timingsMs: z.object({ total: z.number(), profile: z.number().optional(), rerank: z.number().optional() }),
    cache: z
      .enum(['hit', 'miss', 'coalesced', 'off'])
      .describe(
        'Where the ranking came from: `hit` the result cache and `coalesced` an identical ranking in flight (no LLM call counted in `usage` for it), `miss` the LLM, `off` no result cache (RERANK_CACHE_TTL_SECONDS=0, or no LLM ranking: baseline, fallback before ranking).',
      ),
    model: z.string().nullable().describe('The model that produced the ranking (also for a cached one); null when none did (baseline, fallback).'),
    requestId: z.string(),
  })
  .meta({ id: 'RerankResponse' });

export const ErrorResponseSchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable code.'),
      message: z.string(),
      requestId: z.string(),
    }),
  })
  .meta({ id: 'ErrorResponse' });

export const DeleteProfilesParamsSchema = z.object({ userId: identifier(LIMITS.userIdMax) });
export const DeleteProfilesResponseSchema = z.object({ userId: z.string(), deleted: z.number().int().min(0) });

export const HealthResponseSchema = z.object({ status: z.literal('ok') });
export const ReadyResponseSchema = z.object({
  status: z.enum(['ready', 'degraded', 'not_ready']),
  checks: z.object({
    redis: z.enum(['ok', 'down', 'not_configured']),
    /** `lost`: active versions vanished from storage (Redis emptied); serving the built-in prompt. */
    prompts: z.enum(['loaded', 'lost', 'not_loaded']),
    llm: z.enum(['configured', 'unconfigured']),
  }),
  activePrompts: z.record(z.string(), z.string()),
});

/**
 * Error responses of POST /v1/rerank: 400 validation, 413 body over BODY_LIMIT_BYTES, 415 not JSON,
 * 429 RATE_LIMIT_MAX, 503 load shedding (MAX_EVENT_LOOP_DELAY_MS).
 */
export const errorResponses = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  413: ErrorResponseSchema,
  415: ErrorResponseSchema,
  429: ErrorResponseSchema,
  503: ErrorResponseSchema,
} as const;

/** Every route, probes included, is shed with 503 + Retry-After under event-loop pressure. */
export const overloadedResponse = { 503: ErrorResponseSchema } as const;

/** Routes without authentication, stated explicitly (the admin routes require `adminBearer`). */
export const PUBLIC: Array<Record<string, string[]>> = [];

/** /v1 routes: open by default, `apiKey` (Bearer) once API keys are on (API_KEYS, API_KEYS_FILE). */
export const V1_SECURITY: Array<Record<string, string[]>> = [{}, { apiKey: [] }];

/** 401 of the /v1 routes when API keys are on. */
export const unauthorizedResponse = { 401: ErrorResponseSchema } as const;

export type RerankRequest = z.infer<typeof RerankRequestSchema>;
export type RerankResponse = z.infer<typeof RerankResponseSchema>;
