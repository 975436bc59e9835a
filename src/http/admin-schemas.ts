/**
 * Zod schemas for the admin API (training jobs and prompt versions).
 */
import { z } from 'zod';
import { JOB_STATES } from '../jobs/training-jobs.js';
import { trainingParamsOverridesSchema, trainingParamsSchema } from '../agp/training-params.js';
import { identifier } from './schemas.js';

const domain = z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/);
const version = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/);
const metrics = z.record(z.string(), z.unknown());

export const PromptVersionSchema = z
  .object({
    domain,
    version,
    text: z.string().min(1).max(20_000),
    parentVersion: z.string().nullable().default(null),
    createdAt: z.string().datetime({ offset: true }).optional(),
    historyLength: z.number().int().min(1).max(200).default(10),
    params: z.record(z.string(), z.unknown()).optional(),
    metrics: metrics.optional(),
  })
  .meta({ id: 'PromptVersion' });

export const PromptSummarySchema = z.object({
  domain: z.string(),
  version: z.string(),
  active: z.boolean(),
  parentVersion: z.string().nullable(),
  createdAt: z.string(),
  historyLength: z.number().int(),
  metrics: metrics,
});

export const PromptListResponseSchema = z.object({ prompts: z.array(PromptSummarySchema) });
export const PromptDetailSchema = PromptSummarySchema.extend({
  text: z.string(),
  params: z.record(z.string(), z.unknown()).optional(),
});
export const PromptParamsSchema = z.object({ domain, version });
export const PromptListQuerySchema = z.object({ domain: domain.optional() });
export const ActivateResponseSchema = z.object({ domain: z.string(), version: z.string(), active: z.literal(true) });

const datasetRef = z.union([
  z.object({ users: z.array(z.unknown()).min(1).max(100_000) }).strict(),
  z.object({ path: z.string().min(1).max(1024) }).strict(),
]);

/**
 * The trainer's parameters (src/agp/training-params.ts, the one source), as overrides: omitted fields get the
 * trainer's defaults when the job runs, except `concurrency`, whose default here is TRAINING_CONCURRENCY.
 */
export const TrainingJobParamsSchema = trainingParamsOverridesSchema
  .extend({
    // Not the trainer's defaults: the job's domain, and the server's TRAINING_CONCURRENCY.
    concurrency: trainingParamsSchema.shape.concurrency.unwrap().optional().describe('Users processed at once. Default: TRAINING_CONCURRENCY (server setting).'),
    domain: trainingParamsSchema.shape.domain.unwrap().optional().describe("Must equal the job's `domain` when given."),
  })
  .meta({ id: 'TrainingParams' });

export const TrainingJobRequestSchema = z
  .object({
    domain,
    dataset: datasetRef,
    validation: datasetRef.optional(),
    params: TrainingJobParamsSchema.default({}),
    activate: z.enum(['never', 'if-better']).default('never'),
  })
  .meta({ id: 'TrainingJobRequest' });

export const JobIdParamsSchema = z.object({ id: identifier(128) });
export const JobAcceptedSchema = z.object({ jobId: z.string() });

export const JobViewSchema = z
  .object({
    jobId: z.string(),
    domain: z.string(),
    state: z.enum(JOB_STATES),
    createdAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    progress: z.object({
      epoch: z.number(),
      batch: z.number(),
      totalBatches: z.number().optional(),
      llmCalls: z.number(),
      tokens: z.number(),
      etaSeconds: z.number().nullable(),
      phase: z.string().optional(),
    }),
    metrics,
    result: z
      .object({
        promptVersion: z.string(),
        activated: z.boolean(),
        metrics,
        activationSkipped: z.literal('pinned').optional().describe("Set when `activate: 'if-better'` found the version better but the domain is pinned (PUT /admin/v1/pins/{domain})"),
      })
      .optional(),
    error: z.string().optional(),
  })
  .meta({ id: 'TrainingJob' });

export const JobListSchema = z.object({ jobs: z.array(JobViewSchema) });
export const CancelResponseSchema = z.object({ jobId: z.string(), cancelled: z.boolean() });

/**
 * A text (non-JSON) response body. The `content` metadata passes through to the OpenAPI document, where it
 * names the real media type instead of application/json.
 */
const textBody = (mediaType: string, description: string) =>
  z.string().meta({ description, content: { [mediaType]: { schema: { type: 'string' } } } });

export const TrainingReportMarkdownSchema = textBody(
  'text/markdown',
  'The training report in Markdown (as `agp train` writes report.md), with the NDCG@10 chart inline as SVG.',
);
export const TrainingReportSvgSchema = textBody('image/svg+xml', 'The NDCG@10 per epoch chart of the training report (ndcg.svg).');
export const TrainingTraceSchema = textBody(
  'application/x-ndjson',
  'Every LLM call of the job so far, one JSON object per line (seq, role, model, requestHash, response, tokens, latency, error), ' +
    'as `agp train` writes trace.jsonl. `x-trace-truncated: true` when the trace reached its size bound (8 MiB).',
);
