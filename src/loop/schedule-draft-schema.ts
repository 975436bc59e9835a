/**
 * The shape of a schedule as a person writes it: the body of PUT /admin/v1/schedules/{domain}, and each entry
 * of LOOP_SCHEDULES (with its `domain`). One definition for both, so the chart's values and the API can never
 * accept different things. This checks shapes and types only; the rules between fields (exactly one of
 * `every` and `cron`, a window within EXPOSURE_TTL_SECONDS, shares in range…) are schedule-spec.ts's, which
 * turns a draft into a stored Schedule with precise messages.
 */
import { z } from 'zod';
import { trainingParamsOverridesSchema, trainingParamsSchema } from '../agp/training-params.js';
import { InvalidInputError } from '../errors.js';
import type { ScheduleDraft } from './schedule-spec.js';

/** A domain name, as everywhere else in the API. */
export const LOOP_DOMAIN = z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, 'domains use letters, digits, ".", "_" and "-"');

const duration = (what: string) =>
  z
    .union([z.string().min(1).max(32), z.number().int().min(1)])
    .describe(`${what}: milliseconds, or a duration such as "90s", "30m", "6h", "7d".`);

/** Trainer parameters of the runs (the trainer's own schema, every field optional). */
export const scheduleParamsSchema = trainingParamsOverridesSchema.extend({
  concurrency: trainingParamsSchema.shape.concurrency.unwrap().optional().describe('Users processed at once. Default: TRAINING_CONCURRENCY (server setting).'),
  domain: trainingParamsSchema.shape.domain.unwrap().optional().describe("Must equal the schedule's domain when given."),
});

const gateSchema = z
  .object({
    minDelta: z.number().optional().describe('The candidate passes when the lower bound of the 95% CI of its per-user NDCG@10 gain is above this (default 0).'),
    holdoutShare: z.number().optional().describe('Share of the dataset’s users held out for the gate, never trained on (0 < share ≤ 0.9; default 0.2).'),
    minHoldoutUsers: z.number().int().optional().describe('Fewer held-out users than this ends the run `no_data` (default 20).'),
    bootstrapIterations: z.number().int().optional().describe('Paired-bootstrap resamples (default 2000).'),
  })
  .strict();

const guardrailsSchema = z
  .object({
    maxFallbackRate: z.number().optional(),
    maxLatencyP99Ms: z.number().optional(),
    maxLlmCallsPerExposure: z.number().optional(),
    minExposures: z.number().int().optional(),
  })
  .strict()
  .describe('Guardrails of the canary experiment; default: the EXPERIMENT_* settings.');

const rolloutSchema = z
  .object({
    share: z.number().optional().describe('Traffic share of the canary experiment (0 < share ≤ 1; default 0.1).'),
    maxDuration: duration('A canary without a decision after this long is rolled back (default 7d)').optional(),
    decisionInterval: duration('How often the canary’s results are read (default LOOP_DECISION_INTERVAL_MS)').optional(),
    guardrails: guardrailsSchema.optional(),
  })
  .strict();

/** A schedule as written (PUT body). Unknown fields are refused, so a misspelt `windw` is not silently ignored. */
export const scheduleDraftSchema = z
  .object({
    every: duration('Run this often (at least 1 minute); give either `every` or `cron`').optional(),
    cron: z.string().min(1).max(200).optional().describe('A cron expression of 5 fields (minute hour day-of-month month day-of-week) or a macro such as "@daily"; give either `every` or `cron`.'),
    tz: z.string().min(1).max(64).optional().describe('IANA time zone of `cron` (default UTC).'),
    window: duration('The dataset window: exposures of this long before the run (at most EXPOSURE_TTL_SECONDS)'),
    params: scheduleParamsSchema.optional().describe('Trainer parameters of the runs (as for POST /admin/v1/training-jobs).'),
    gate: gateSchema.optional().describe('The offline gate on held-out users.'),
    rollout: rolloutSchema.optional().describe('The canary on live traffic.'),
    paused: z.boolean().optional().describe('A paused schedule does not fire (default false).'),
  })
  .strict();

/** One entry of LOOP_SCHEDULES: a draft and its domain. */
export const configScheduleSchema = scheduleDraftSchema.extend({ domain: LOOP_DOMAIN });
/** One entry of LOOP_SCHEDULES, parsed. */
export type ConfigSchedule = ScheduleDraft & { domain: string };

/** The draft of a LOOP_SCHEDULES entry (the entry without its domain). */
export function draftOf(entry: ConfigSchedule): ScheduleDraft {
  const { domain: _domain, ...draft } = entry;
  return draft;
}

/**
 * The trainer-parameter check of a schedule (scheduleFromDraft's `checkParams`): the trainer's own schema,
 * and a `params.domain` that, when given, names the schedule's domain (the job refuses any other).
 * @throws InvalidInputError naming the parameter.
 */
export function checkScheduleParams(domain: string, params: Record<string, unknown>): void {
  const r = scheduleParamsSchema.safeParse(params);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InvalidInputError(`params.${issue?.path.join('.') || '?'}: ${issue?.message ?? 'invalid'}`);
  }
  if (r.data.domain !== undefined && r.data.domain !== domain) {
    throw new InvalidInputError(`params.domain must be the schedule's domain "${domain}", got "${r.data.domain}"`);
  }
}
