/**
 * The loop's part of the OpenAPI words (./openapi-docs.ts): request examples and response descriptions of
 * /admin/v1/schedules…, /admin/v1/audit and /admin/v1/pins…. Each example is typed against its schema and
 * parsed by test/http/openapi-docs.test.ts.
 */
import type { z } from 'zod';
import { PinRequestSchema, ScheduleDraftSchema } from './loop-schemas.js';
import type { RequestExample } from './openapi-docs.js';

/** Request examples by operationId. */
export const LOOP_REQUEST_EXAMPLES: Readonly<Record<string, RequestExample>> = {
  putSchedule: {
    schema: ScheduleDraftSchema,
    value: {
      cron: '0 3 * * 1',
      tz: 'Europe/Paris',
      window: '7d',
      params: { epochs: 2, batchSize: 10, trainUsers: 100, maxLlmCalls: 5_000 },
      gate: { minDelta: 0, holdoutShare: 0.2 },
      rollout: { share: 0.1, maxDuration: '3d', decisionInterval: '5m', guardrails: { maxFallbackRate: 0.1 } },
    } satisfies z.input<typeof ScheduleDraftSchema>,
  },
  pinDomain: {
    schema: PinRequestSchema,
    value: { version: 'v2', reason: 'holiday catalogue freeze' } satisfies z.input<typeof PinRequestSchema>,
  },
};

/** Per operation: the success responses, and errors that mean something specific there. */
export const LOOP_OPERATION_RESPONSES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  putSchedule: {
    200: 'Replaced: the job scheduler follows at once (`nextRunAt`). A run in progress keeps the schedule it started with. Audited (`schedule_changed`).',
    201: 'Created, with the defaults filled in and `nextRunAt`. Audited (`schedule_changed`).',
    400: 'Invalid schedule: both or neither of `every` and `cron`, `every` under 1 minute, a bad cron or time zone, a window longer than EXPOSURE_TTL_SECONDS, a share out of range, a misspelt field or trainer parameter (`VALIDATION_ERROR`, naming the field).',
    409: 'Scheduled retraining needs Redis (REDIS_URL or QUEUE_REDIS_URL); the embedded default has none (`SCHEDULES_UNAVAILABLE`).',
  },
  listSchedules: { 200: 'Every schedule, by domain, with its next firing, pin and current run (empty without Redis).' },
  getSchedule: { 200: 'The schedule with its next firing, pin and current run.', 404: 'The domain has no schedule (`NOT_FOUND`).' },
  deleteSchedule: {
    204: 'Deleted: no more firings; a run in progress ended `cancelled` (its canary stopped, the active version unchanged). Audited.',
    404: 'The domain has no schedule (`NOT_FOUND`).',
  },
  pauseSchedule: {
    200: 'Paused (`nextRunAt` null); a run in progress goes on. Audited (`paused`), also when it already was.',
    404: 'The domain has no schedule (`NOT_FOUND`).',
    409: 'Scheduled retraining needs Redis (`SCHEDULES_UNAVAILABLE`).',
  },
  resumeSchedule: {
    200: 'Resumed, with its next firing. Audited (`resumed`).',
    404: 'The domain has no schedule (`NOT_FOUND`).',
    409: 'Scheduled retraining needs Redis (`SCHEDULES_UNAVAILABLE`).',
  },
  runSchedule: {
    202: 'The run began (`run_started` in the audit trail) and is queued; follow it with GET …/runs and GET /admin/v1/audit?runId=.',
    404: 'The domain has no schedule (`NOT_FOUND`).',
    409: 'A run of the domain is in progress (`RUN_IN_PROGRESS`), the domain is pinned (`DOMAIN_PINNED`), or there is no queue Redis (`SCHEDULES_UNAVAILABLE`).',
  },
  listScheduleRuns: {
    200: 'The run in progress and the last finished ones (up to 50), newest first, each with what it made: dataset, training job, candidate, gate numbers, canary, outcome.',
    404: 'The domain has neither a schedule nor a run (`NOT_FOUND`).',
  },
  listAuditRecords: { 200: 'Records newest first (the last 1,000 per domain are kept); `next` pages to older ones.' },
  listPins: { 200: 'Every pinned domain with its version and reason.' },
  pinDomain: {
    200: 'Pinned, and the version active for the domain (activated when it was not). No run starts and nothing is promoted automatically until unpinned. Audited (`pinned`).',
    404: 'The prompt version does not exist for the domain (`NOT_FOUND`).',
  },
  unpinDomain: { 204: 'Unpinned: the loop may change the active version again. Audited (`unpinned`).', 404: 'The domain is not pinned (`NOT_FOUND`).' },
};
