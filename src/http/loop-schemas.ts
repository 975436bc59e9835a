/**
 * Wire schemas of the loop's admin API (issue 11): /admin/v1/schedules…, /admin/v1/pins… and /admin/v1/audit.
 * The schedule body is src/loop/schedule-draft-schema.ts's (shared with LOOP_SCHEDULES); the rules between
 * its fields are checked by the loop service (400 VALIDATION_ERROR naming the field).
 */
import { z } from 'zod';
import { AUDIT_KINDS, RUN_OUTCOMES, RUN_STEPS } from '../loop/ports.js';
import { LOOP_DOMAIN, scheduleDraftSchema } from '../loop/schedule-draft-schema.js';

const VERSION = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/);
const EPOCH_MS = z.number().describe('Epoch ms.');

export const LoopDomainParamsSchema = z.object({ domain: LOOP_DOMAIN });

/** PUT /admin/v1/schedules/{domain}. */
export const ScheduleDraftSchema = scheduleDraftSchema.meta({ id: 'ScheduleDraft' });

const GateSpecSchema = z.object({
  minDelta: z.number(),
  holdoutShare: z.number(),
  minHoldoutUsers: z.number().int(),
  bootstrapIterations: z.number().int(),
});

const GuardrailsSchema = z.object({
  maxFallbackRate: z.number().optional(),
  maxLatencyP99Ms: z.number().optional(),
  maxLlmCallsPerExposure: z.number().optional(),
  minExposures: z.number().int().optional(),
});

const StoredRolloutSchema = z.object({
  share: z.number(),
  maxDurationMs: z.number().int(),
  decisionIntervalMs: z.number().int().optional().describe('Absent: LOOP_DECISION_INTERVAL_MS.'),
  guardrails: GuardrailsSchema.optional().describe('Absent: the EXPERIMENT_* defaults.'),
});

const ScheduleFields = {
  domain: z.string(),
  windowMs: z.number().int(),
  params: z.record(z.string(), z.unknown()).describe('Trainer parameters of the runs.'),
  gate: GateSpecSchema,
  paused: z.boolean(),
  source: z.enum(['api', 'config']).describe('`config`: written from LOOP_SCHEDULES at start.'),
  createdAt: EPOCH_MS,
  updatedAt: EPOCH_MS,
};

/** A schedule as stored (a run keeps the one it started with). */
export const StoredScheduleSchema = z
  .object({
    ...ScheduleFields,
    everyMs: z.number().int().optional(),
    cron: z.string().optional(),
    tz: z.string().optional(),
    rollout: StoredRolloutSchema,
  })
  .meta({ id: 'StoredSchedule' });

const PinFields = { domain: z.string(), version: z.string(), reason: z.string(), at: EPOCH_MS };
export const PinSchema = z.object(PinFields).meta({ id: 'Pin' });

// Not a named component: OpenAPI 3.0 cannot make a $ref nullable, and the schedule view's `currentRun` is.
export const RunSummarySchema = z
  .object({
    runId: z.string(),
    trigger: z.enum(['schedule', 'manual']),
    step: z.enum(RUN_STEPS),
    startedAt: EPOCH_MS,
    updatedAt: EPOCH_MS,
    baseVersion: z.string(),
    candidateVersion: z.string().nullable(),
    experimentId: z.string().nullable(),
    outcome: z.enum(RUN_OUTCOMES).nullable(),
    reason: z.string().nullable(),
    finishedAt: z.number().nullable(),
  });

export const ScheduleViewSchema = z
  .object({
    ...ScheduleFields,
    everyMs: z.number().int().nullable().describe('Set when the schedule runs every so often; else `cron` is.'),
    cron: z.string().nullable(),
    tz: z.string().nullable(),
    rollout: StoredRolloutSchema.extend({ decisionIntervalMs: z.number().int().describe('The schedule’s, else LOOP_DECISION_INTERVAL_MS.') }),
    nextRunAt: z.string().nullable().describe('When the queue fires the schedule next (ISO 8601); null when paused.'),
    pinned: z.object(PinFields).nullable().describe('The domain’s pin: no run starts and nothing is promoted while it holds.'),
    currentRun: RunSummarySchema.nullable().describe('The domain’s latest run (in progress, or how it ended).'),
  })
  .meta({ id: 'Schedule' });

export const ScheduleListSchema = z.object({ schedules: z.array(ScheduleViewSchema) }).meta({ id: 'ScheduleList' });

const GateResultSchema = z.object({
  passed: z.boolean(),
  users: z.number().int(),
  activeNdcg: z.number(),
  candidateNdcg: z.number(),
  diff: z.number(),
  ci95: z.tuple([z.number(), z.number()]),
  minDelta: z.number(),
  llmCalls: z.number().int(),
});

export const LoopRunSchema = z
  .object({
    runId: z.string(),
    domain: z.string(),
    trigger: z.enum(['schedule', 'manual']),
    startedAt: EPOCH_MS,
    updatedAt: EPOCH_MS,
    step: z.enum(RUN_STEPS).describe('The step it is at; `done` once it ended (see `outcome`).'),
    baseVersion: z.string().describe('The active version when it started: the warm start, and the control of the gate and the canary.'),
    schedule: StoredScheduleSchema.describe('The schedule as it was when the run started.'),
    dataset: z
      .object({ path: z.string(), holdoutPath: z.string(), rows: z.number().int(), users: z.number().int(), holdoutUsers: z.number().int(), skipped: z.record(z.string(), z.number()) })
      .optional(),
    trainingJobId: z.string().optional(),
    candidateVersion: z.string().optional(),
    gate: GateResultSchema.optional(),
    experimentId: z.string().optional().describe('The canary experiment (GET /admin/v1/experiments/{id}).'),
    canaryStartedAt: z.number().optional(),
    canaryWaitingSince: z.number().optional().describe('Set while the canary waits for another experiment of the domain to end (epoch ms).'),
    outcome: z.enum(RUN_OUTCOMES).optional(),
    reason: z.string().optional(),
    finishedAt: z.number().optional(),
  })
  .meta({ id: 'LoopRun' });

export const RunListSchema = z.object({ runs: z.array(LoopRunSchema) }).meta({ id: 'LoopRunList' });
export const RunListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('Most runs returned, newest first (the last 50 finished runs are kept).'),
});
export const RunAcceptedSchema = z.object({ runId: z.string() }).meta({ id: 'LoopRunAccepted' });

export const AuditRecordSchema = z
  .object({
    id: z.string().describe('Time-ordered within the domain; pass it as `before` to read older records.'),
    at: EPOCH_MS,
    domain: z.string(),
    kind: z.enum(AUDIT_KINDS),
    runId: z.string().nullable(),
    actor: z.enum(['loop', 'admin', 'config']).describe('`loop`: an automatic step; `admin`: a person through this API; `config`: LOOP_SCHEDULES at start.'),
    message: z.string(),
    data: z.record(z.string(), z.unknown()).describe('The numbers behind it (rows, NDCG, CI, p-value, experiment id, version…).'),
  })
  .meta({ id: 'AuditRecord' });

export const AuditQuerySchema = z.object({
  domain: LOOP_DOMAIN,
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.string().min(1).max(64).optional().describe('An audit record id: records older than it (the previous page’s `next`).'),
  runId: z.string().min(1).max(128).optional().describe('Only the records of this run.'),
});

export const AuditPageSchema = z
  .object({ records: z.array(AuditRecordSchema), next: z.string().nullable().describe('`before` of the next page; null on the last one.') })
  .meta({ id: 'AuditPage' });

export const PinRequestSchema = z
  .object({
    version: VERSION.describe('A stored prompt version of the domain; activated if it is not active.'),
    reason: z.string().max(500).optional().describe('Why, for the audit trail.'),
  })
  .strict()
  .meta({ id: 'PinRequest' });

export const PinListSchema = z.object({ pins: z.array(PinSchema) }).meta({ id: 'PinList' });

/** The empty body of a 204. */
export const NoContentSchema = z.null();
