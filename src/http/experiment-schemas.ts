/**
 * Wire schemas of the experiments API (issue 10): POST /v1/events, DELETE /v1/users/{userId} and
 * /admin/v1/experiments. Each event of a batch is validated on its own by the domain
 * (src/experiments/event-validation.ts), so one bad event is `rejected` with a code instead of failing the
 * batch; the body schema checks only the envelope (an object with 1–1,000 events).
 */
import { z } from 'zod';
import { METHODS } from '../agp/types.js';
import { MAX_EVENTS_PER_CALL } from '../experiments/event-validation.js';
import { EVENT_TYPES } from '../experiments/ports.js';
import { OUTCOME_METRICS } from '../experiments/experiment-types.js';
import { BASELINE_ORDER_LABEL } from '../experiments/results.js';
import { SHADOW_COUNTERFACTUAL_NOTE } from '../experiments/shadow-results.js';
import { SHADOW_DEFAULTS, SHADOW_MAX } from '../experiments/shadow-types.js';

const DOMAIN = z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/);
const ARM_NAME = z.string().min(1).max(32).regex(/^[A-Za-z0-9_-]+$/, 'arm names use letters, digits, _ and -');

/** One outcome event, as documented; validated per event by the domain. */
export const OutcomeEventSchema = z
  .object({
    requestId: z.string().describe('The `requestId` of the rerank response that showed the item.'),
    itemId: z.string().describe('A served item id of that response.'),
    type: z.enum(EVENT_TYPES).describe('click, add_to_cart and purchase are positive; impression is not.'),
    eventId: z.string().optional().describe('Your id for the event; deduplication uses it when given, else (requestId, itemId, type).'),
    ts: z.number().optional().describe('Epoch ms; at most 5 minutes ahead and no older than EXPOSURE_TTL_SECONDS.'),
  })
  .meta({ id: 'OutcomeEvent' });

export const EventsRequestSchema = z
  .object({
    events: z
      .array(z.unknown())
      .min(1)
      .max(MAX_EVENTS_PER_CALL)
      .describe(`1–${MAX_EVENTS_PER_CALL} events, each an OutcomeEvent; an event that is not valid is rejected on its own (see \`rejected\`).`),
  })
  .meta({ id: 'EventsRequest' });

export const EventsResponseSchema = z
  .object({
    accepted: z.number().int().min(0).describe('Events counted now.'),
    duplicates: z.number().int().min(0).describe('Events already counted (by eventId, or by requestId, itemId and type).'),
    unattributed: z.number().int().min(0).describe('Events whose requestId is unknown, expired or erased (not an error).'),
    rejected: z.array(
      z.object({
        index: z.number().int().min(0),
        code: z.enum(['INVALID_EVENT', 'INVALID_EVENT_TYPE', 'INVALID_TS', 'ITEM_NOT_EXPOSED']),
        message: z.string(),
      }),
    ),
  })
  .meta({ id: 'EventsResponse' });

export const UserParamsSchema = z.object({ userId: z.string().min(1).max(256) });
export const EraseUserResponseSchema = z
  .object({
    userId: z.string(),
    profiles: z.number().int().min(0).describe('Cached profiles removed.'),
    exposures: z.number().int().min(0).describe('Recorded exposures (with their events) removed.'),
  })
  .meta({ id: 'EraseUserResponse' });

const GuardrailsSchema = z
  .object({
    maxFallbackRate: z.number().min(0).max(1).optional(),
    maxLatencyP99Ms: z.number().min(1).optional(),
    maxLlmCallsPerExposure: z.number().min(0).optional(),
    minExposures: z.number().int().min(1).optional(),
  })
  .describe('Per-arm limits; an arm over one (after minExposures) stops the experiment. Defaults come from EXPERIMENT_* settings.');

const ArmSchema = z.object({
  name: ARM_NAME,
  method: z.enum(METHODS),
  promptVersion: z.string().min(1).max(128).optional().describe('Pinned version; default: whatever is active.'),
});

const ShadowSettingsSchema = z
  .object({
    maxConcurrency: z
      .number()
      .int()
      .min(1)
      .max(SHADOW_MAX.maxConcurrency)
      .describe(`Candidate reranks in flight at once per API replica; default ${SHADOW_DEFAULTS.maxConcurrency}.`),
    llmCallsPerHour: z
      .number()
      .int()
      .min(1)
      .max(SHADOW_MAX.llmCallsPerHour)
      .describe(`LLM calls the candidate may make per clock hour (UTC), over all replicas; default ${SHADOW_DEFAULTS.llmCallsPerHour}.`),
  });

const AbOrInterleaveCreateSchema = z.object({
  domain: DOMAIN,
  mode: z.enum(['ab', 'interleave']),
  arms: z
    .array(ArmSchema.extend({ weight: z.number().min(0).max(1_000).optional().describe('Relative share of users (ab); default 1.') }))
    .min(2)
    .max(10)
    .describe('The first arm is the control. Interleaving takes exactly two.'),
  trafficShare: z.number().min(0).max(1).optional().describe('Share of the domain’s users in the experiment; default 1.'),
  guardrails: GuardrailsSchema.optional(),
});

const ShadowCreateSchema = z.object({
  domain: DOMAIN,
  mode: z.literal('shadow'),
  arms: z.array(ArmSchema).min(1).max(1).describe('Exactly one arm: the candidate, scored off the request path and never served.'),
  // (0, 1]: 0 is refused by the domain (an exclusive minimum does not survive the OpenAPI 3.0 conversion).
  trafficShare: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('Share of the domain’s live reranks sampled for scoring (by requestId), in (0, 1]; default 1. The hourly LLM-call budget caps the cost either way.'),
  shadow: ShadowSettingsSchema.partial().optional(),
});

export const ExperimentCreateSchema = z
  .discriminatedUnion('mode', [AbOrInterleaveCreateSchema, ShadowCreateSchema])
  .meta({ id: 'ExperimentCreate' });

const StopReasonSchema = z.object({ kind: z.enum(['manual', 'promoted', 'guardrail']), message: z.string(), arm: z.string().optional() });

const ExperimentFields = {
  id: z.string(),
  domain: z.string(),
  mode: z.enum(['ab', 'interleave', 'shadow']),
  trafficShare: z.number(),
  guardrails: GuardrailsSchema.describe('Per-arm limits; always empty for a shadow experiment (nothing is served).'),
  state: z.enum(['running', 'stopped']),
  createdAt: z.number().describe('Epoch ms.'),
  stoppedAt: z.number().nullable(),
  stopReason: StopReasonSchema.nullable(),
};

export const ExperimentSchema = z
  .object({
    ...ExperimentFields,
    arms: z.array(z.object({ name: z.string(), method: z.enum(METHODS), promptVersion: z.string().optional(), weight: z.number().optional() })),
    shadow: ShadowSettingsSchema.optional().describe('Mode shadow only: its settings, defaults filled in.'),
  })
  .meta({ id: 'Experiment' });

export const ExperimentListSchema = z.object({ experiments: z.array(ExperimentSchema) }).meta({ id: 'ExperimentList' });
export const ExperimentListQuerySchema = z.object({ domain: DOMAIN.optional() });
export const ExperimentParamsSchema = z.object({ id: z.string().min(1).max(128) });
export const PromoteRequestSchema = z.object({ arm: ARM_NAME }).meta({ id: 'PromoteRequest' });

const EstimateSchema = z.object({ value: z.number(), ci95: z.tuple([z.number(), z.number()]) });
const MetricsSchema = z.object(Object.fromEntries(OUTCOME_METRICS.map((m) => [m, EstimateSchema])) as Record<(typeof OUTCOME_METRICS)[number], typeof EstimateSchema>);
const DecisionSchema = z.enum(['treatment', 'control', 'inconclusive']);

const AbComparisonSchema = z.object({
  metric: z.literal('ndcg@10'),
  control: z.object({ arm: z.string(), value: z.number() }),
  treatment: z.object({ arm: z.string(), value: z.number() }),
  diff: z.number(),
  ci95: z.tuple([z.number(), z.number()]),
  decision: DecisionSchema,
  pValue: z.number().describe('Always-valid p-value (running minimum over looks).'),
});

const InterleaveComparisonSchema = z.object({
  control: z.string(),
  treatment: z.string(),
  wins: z.number().int(),
  losses: z.number().int(),
  ties: z.number().int(),
  preference: z.number().describe('(wins − losses) / (wins + losses), in [−1, 1].'),
  ci95: z.tuple([z.number(), z.number()]),
  decision: DecisionSchema,
  pValue: z.number(),
});

const ShadowResultsSchema = ShadowSettingsSchema.extend({
  arm: z.object({ name: z.string(), method: z.string(), promptVersion: z.string().nullable() }).describe('The candidate arm.'),
  scored: z.number().int().min(0).describe('Sampled reranks the candidate ranked (over every replica).'),
  skipped: z
    .object({
      budget: z.number().int().min(0).describe('Not scored: the hour’s LLM-call budget was spent.'),
      queueFull: z.number().int().min(0).describe('Not scored: the replica’s shadow queue was full.'),
      failed: z.number().int().min(0).describe('The candidate fell back (LLM error, timeout or junk answer).'),
    })
    .describe('Sampled reranks that were not scored, by why.'),
  llmCalls: z.number().int().min(0).describe('LLM calls the candidate made.'),
  retained: z.number().int().min(0).describe('Scored records kept for the counterfactual (the newest, at most 50,000).'),
  agreement: z.object({ kendallTau: EstimateSchema.describe('Mean Kendall’s tau between the candidate’s and the served order of the served items, in [−1, 1].') }),
  counterfactual: z
    .object({
      biased: z.literal(true),
      note: z.string().describe(SHADOW_COUNTERFACTUAL_NOTE),
      exposures: z.number().int().min(0).describe('Retained records whose exposure is still stored.'),
      exposuresWithPositives: z.number().int().min(0),
      served: MetricsSchema.describe('The served lists, against their positives.'),
      candidate: MetricsSchema.describe('The candidate’s order of the same items, against the same positives.'),
      diff: MetricsSchema.describe('Candidate − served, paired per exposure, in [−1, 1].'),
    })
    .describe('Position-biased towards the served order: a screening check, not a lift estimate. ctr is equal for both by construction.'),
});

export const ExperimentResultsSchema = z
  .object({
    ...ExperimentFields,
    arms: z.array(
      z.object({
        name: z.string(),
        method: z.enum(METHODS),
        promptVersion: z.union([z.string(), z.number()]).nullable(),
        users: z.number().int(),
        exposures: z.number().int(),
        llmCallsPerExposure: z.number(),
        fallbackRate: z.number(),
        latencyP99Ms: z.number().nullable().describe('Upper bound of the histogram bucket holding the p99.'),
        metrics: MetricsSchema,
        baselineOrder: MetricsSchema.extend({ label: z.string().describe(BASELINE_ORDER_LABEL) }),
      }),
    ),
    comparison: z.union([AbComparisonSchema, InterleaveComparisonSchema]).nullable(),
    comparisons: z.array(AbComparisonSchema).optional().describe('With more than two ab arms: each treatment against the control (Bonferroni).'),
    guardrailBreaches: z.array(
      z.object({ arm: z.string(), guardrail: z.enum(['fallbackRate', 'latencyP99Ms', 'llmCallsPerExposure']), value: z.number(), limit: z.number(), reason: z.string() }),
    ),
    shadow: ShadowResultsSchema.optional().describe('Mode shadow only (then `arms` is empty and `comparison` null: nothing was served).'),
  })
  .meta({ id: 'ExperimentResults' });

export const PromoteResponseSchema = z
  .object({ experiment: ExperimentSchema, activated: z.string().nullable().describe('The prompt version activated, or null when the arm pins none.') })
  .meta({ id: 'PromoteResponse' });
