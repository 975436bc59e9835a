/**
 * Zod schemas for the admin API (training jobs and prompt versions).
 */
import { z } from 'zod';
import { JOB_STATES } from '../jobs/training-jobs.js';
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

export const TrainingJobRequestSchema = z
  .object({
    domain,
    dataset: datasetRef,
    validation: datasetRef.optional(),
    params: z.record(z.string(), z.unknown()).default({}),
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
    result: z.object({ promptVersion: z.string(), activated: z.boolean(), metrics }).optional(),
    error: z.string().optional(),
  })
  .meta({ id: 'TrainingJob' });

export const JobListSchema = z.object({ jobs: z.array(JobViewSchema) });
export const CancelResponseSchema = z.object({ jobId: z.string(), cancelled: z.boolean() });
