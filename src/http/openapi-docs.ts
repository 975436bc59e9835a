/**
 * The words of the OpenAPI document that the zod schemas cannot carry: a request example for every operation
 * with a body, and a description for every response. swagger.ts applies them to the generated document.
 *
 * Examples are typed against the route schemas (`satisfies z.input<…>`) and test/http/openapi-docs.test.ts
 * parses each one with its schema, so an example cannot drift from what the route accepts. Without them
 * Swagger UI invented a body from the schema (`topN: 9007199254740991`).
 */
import type { z } from 'zod';
import { RerankRequestSchema } from './schemas.js';
import { PromptVersionSchema, TrainingJobRequestSchema } from './admin-schemas.js';
import { EventsRequestSchema, ExperimentCreateSchema, PromoteRequestSchema } from './experiment-schemas.js';
import { DatasetBuildSchema } from './dataset-schemas.js';
import { ApiKeyCreateSchema, ApiKeyRotateSchema } from './api-key-schemas.js';
import type { OutcomeEventSchema } from './experiment-schemas.js';
import { PinRequestSchema, ScheduleDraftSchema } from './loop-schemas.js';

/** A request example and the schema it must satisfy. */
export interface RequestExample {
  schema: z.ZodType;
  value: unknown;
}

/** Request examples by operationId. */
export const REQUEST_EXAMPLES: Readonly<Record<string, RequestExample>> = {
  rerank: {
    schema: RerankRequestSchema,
    value: {
      userId: 'user-42',
      domain: 'movies',
      history: [
        { id: 'm-101', title: 'Before Sunrise', text: 'Two strangers talk their way through one night in Vienna.' },
        { id: 'm-102', title: 'Lost in Translation' },
      ],
      candidates: [
        { id: 'm-201', title: 'Notting Hill', score: 0.82 },
        { id: 'm-202', title: 'Dune', score: 0.79 },
        { id: 'm-203', title: 'Arrival', score: 0.77 },
      ],
      method: 'agp',
      topN: 2,
      includeProfile: true,
      shuffles: 3,
    } satisfies z.input<typeof RerankRequestSchema>,
  },
  importPrompt: {
    schema: PromptVersionSchema,
    value: {
      domain: 'movies',
      version: 'v2',
      parentVersion: 'v1',
      text: 'Describe the viewer in four sentences: favourite genres, tone, eras, and what they avoid.',
      historyLength: 10,
    } satisfies z.input<typeof PromptVersionSchema>,
  },
  submitTrainingJob: {
    schema: TrainingJobRequestSchema,
    value: {
      domain: 'movies',
      dataset: { path: 'movies/train.jsonl' },
      validation: { path: 'movies/val.jsonl' },
      params: { epochs: 3, batchSize: 10, trainUsers: 100, verifySteps: 1, maxLlmCalls: 5000 },
      activate: 'if-better',
    } satisfies z.input<typeof TrainingJobRequestSchema>,
  },
  ingestEvents: {
    schema: EventsRequestSchema,
    value: {
      // The envelope takes unknown events (each is judged on its own); the example is typed as OutcomeEvents.
      events: [
        { requestId: 'req-7f3a', itemId: 'm-201', type: 'impression', eventId: 'ev-1', ts: 1_767_225_600_000 },
        { requestId: 'req-7f3a', itemId: 'm-201', type: 'click', eventId: 'ev-2', ts: 1_767_225_604_000 },
        { requestId: 'req-7f3a', itemId: 'm-203', type: 'purchase' },
      ] satisfies Array<z.input<typeof OutcomeEventSchema>>,
    } satisfies z.input<typeof EventsRequestSchema>,
  },
  createExperiment: {
    schema: ExperimentCreateSchema,
    value: {
      domain: 'movies',
      mode: 'ab',
      arms: [
        { name: 'control', method: 'baseline' },
        { name: 'agp-v2', method: 'agp', promptVersion: 'v2' },
      ],
      trafficShare: 0.2,
      guardrails: { maxFallbackRate: 0.1, maxLatencyP99Ms: 3_000 },
    } satisfies z.input<typeof ExperimentCreateSchema>,
  },
  promoteExperimentArm: {
    schema: PromoteRequestSchema,
    value: { arm: 'agp-v2' } satisfies z.input<typeof PromoteRequestSchema>,
  },
  buildDataset: {
    schema: DatasetBuildSchema,
    value: { domain: 'movies', since: '2026-11-27T00:00:00Z', until: '2026-12-04T00:00:00Z', maxUsers: 50_000 } satisfies z.input<typeof DatasetBuildSchema>,
  },
  createApiKey: {
    schema: ApiKeyCreateSchema,
    value: { name: 'team-search', rateLimit: 200, dailyLlmCallQuota: 50_000 } satisfies z.input<typeof ApiKeyCreateSchema>,
  },
  rotateApiKey: {
    schema: ApiKeyRotateSchema,
    value: { graceSeconds: 3_600 } satisfies z.input<typeof ApiKeyRotateSchema>,
  },
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

/** 401 of the /v1 operations (API keys on). */
const V1_UNAUTHORIZED = 'API keys are on and the `Authorization: Bearer` key is missing, wrong or revoked (`UNAUTHORIZED`).';

/** What a status means on any operation that does not say otherwise (see OPERATION_RESPONSES). */
export const STATUS_DESCRIPTIONS: Readonly<Record<string, string>> = {
  400: 'Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`).',
  401: 'Missing or wrong admin bearer token (`UNAUTHORIZED`).',
  404: 'No such resource (`NOT_FOUND`).',
  409: 'Conflicts with the current state (`CONFLICT`).',
  413: 'Body larger than BODY_LIMIT_BYTES (`PAYLOAD_TOO_LARGE`).',
  415: 'Content-Type is not application/json (`UNSUPPORTED_MEDIA_TYPE`).',
  429: 'Over RATE_LIMIT_MAX for this client (`RATE_LIMITED`); retry after `Retry-After` seconds.',
  503: 'Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds.',
};

/** Per operation: the success responses, and errors that mean something specific there. */
export const OPERATION_RESPONSES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  rerank: {
    200: 'A permutation of exactly the given candidates, each with a `score` in [0, 1], and the passes’ `agreement`. LLM faults are not errors: the baseline order comes back with `fallback.reason`; so does a call past its API key’s daily LLM-call quota (`quota_exceeded`, no LLM call).',
    400: 'Invalid request (`VALIDATION_ERROR`, `INVALID_JSON`, `DUPLICATE_CANDIDATE_ID`).',
    401: V1_UNAUTHORIZED,
    429: 'Over the rate limit of this API key (its `rateLimit`, else RATE_LIMIT_MAX) or, with keys off, of this client (`RATE_LIMITED`); retry after `Retry-After` seconds.',
  },
  deleteUserProfiles: {
    200: 'Erased: `deleted` counts the cached entries removed (0 when there were none). Generations in flight for the user are not cached afterwards.',
    503: 'The profile store is unavailable: nothing was erased; retry after `Retry-After` seconds.',
    401: V1_UNAUTHORIZED,
  },
  ingestEvents: {
    202: 'Counted: `accepted` now, `duplicates` already counted, `unattributed` (unknown, expired or erased requestId; not an error) and `rejected` events with their index and code. Retrying the same batch is safe.',
    400: 'The envelope is invalid: `events` missing, empty or over 1,000 entries (`VALIDATION_ERROR`, `INVALID_JSON`). A bad event inside a valid envelope is `rejected`, not a 400.',
    503: 'Shedding load, or the exposure store is unavailable: part of the batch may be unstored; retry the same batch (deduplication makes it safe).',
    401: V1_UNAUTHORIZED,
  },
  eraseUser: {
    200: 'Erased: `profiles` and `exposures` count what was removed (0 when there was nothing). The user’s totals in experiment sums are forgotten too; aggregates keep their past contribution.',
    400: 'Invalid userId (empty, or over 256 characters) (`VALIDATION_ERROR`).',
    503: 'A store is unavailable: the erasure was not completed; retry after `Retry-After` seconds.',
    401: V1_UNAUTHORIZED,
  },
  createExperiment: {
    201: 'Running: every replica serves it within EXPERIMENT_POLL_MS. Guardrails not given take the EXPERIMENT_* defaults.',
    400: 'Invalid experiment: arm names not unique, interleaving without exactly two arms, no positive weight (`VALIDATION_ERROR`), or a pinned promptVersion that does not exist (`UNKNOWN_PROMPT_VERSION`).',
    409: 'The domain already has a running experiment (`EXPERIMENT_ALREADY_RUNNING`), or EXPERIMENTS_MAX_RUNNING are running (`TOO_MANY_RUNNING_EXPERIMENTS`).',
  },
  buildDataset: {
    201: 'Written under TRAINING_DATA_DIR: `path` is ready for a training job. Rows whose titles expired from the item catalogue are counted in `skipped.titleExpired`, never silently dropped.',
    400: 'Invalid body, an empty window, or positiveTypes other than the full positive set (`VALIDATION_ERROR`).',
    503: 'The exposure store or the item catalogue is unavailable; no file was left behind.',
  },
  listExperiments: { 200: 'Experiments (of `domain` when given), newest first, running and stopped, without results.' },
  getExperiment: {
    200: 'The experiment, per-arm results, the comparison with its always-valid decision, and guardrail breaches. Safe to read at any time.',
    404: 'No such experiment (`NOT_FOUND`).',
  },
  stopExperiment: {
    200: 'Stopped (`stopReason.kind` = `manual`); its users return to normal serving within EXPERIMENT_POLL_MS. Results stay readable.',
    404: 'No such experiment (`NOT_FOUND`).',
    409: 'The experiment is not running (already stopped, promoted or stopped by a guardrail) (`EXPERIMENT_NOT_RUNNING`).',
  },
  promoteExperimentArm: {
    200: 'The arm’s pinned promptVersion is active for the domain (`activated`; null when the arm pins none, so nothing changed) and the experiment is stopped (`stopReason.kind` = `promoted`).',
    400: 'The experiment has no arm of that name, or the body is invalid (`VALIDATION_ERROR`).',
    404: 'No such experiment (`NOT_FOUND`).',
    409: 'The experiment is not running (`EXPERIMENT_NOT_RUNNING`); nothing was activated.',
  },
  getLiveness: { 200: 'The process is up.' },
  getReadiness: {
    200: 'Ready (`degraded` when Redis is down: reranks still work without the shared cache).',
    503: 'Not ready (prompts not loaded yet) or shedding load.',
  },
  listPrompts: { 200: 'Every stored prompt version (of `domain` when given), with `active` flags.' },
  getPrompt: { 200: 'The prompt version with its text.', 404: 'No such prompt version (`NOT_FOUND`).' },
  importPrompt: {
    201: 'Stored, not active. Re-importing identical content is a no-op and also answers 201.',
    409: 'This domain/version already holds a different text (`CONFLICT`); versions are immutable.',
  },
  activatePrompt: {
    200: 'Active for its domain; every replica serves it within PROMPT_REFRESH_MS.',
    404: 'No such prompt version (`NOT_FOUND`).',
  },
  submitTrainingJob: {
    202: 'Queued: poll GET /admin/v1/training-jobs/{id} with the returned `jobId`.',
    400: 'Invalid request, `params` or dataset: a file missing or outside TRAINING_DATA_DIR, malformed users, nothing left to train on (`VALIDATION_ERROR`).',
    503: 'Training is not available in this process (`SERVICE_UNAVAILABLE`).',
  },
  listTrainingJobs: { 200: 'Known training jobs, newest first.', 503: 'Training is not available in this process (`SERVICE_UNAVAILABLE`).' },
  getTrainingJob: { 200: 'The job: state, progress, and the result once finished.', 404: 'No such job (`NOT_FOUND`).' },
  createApiKey: {
    201: 'Created: `key` is shown this once (only its sha256 is stored); every replica accepts it within API_KEYS_POLL_MS.',
    409: 'The name is taken (revoked names too), or keys come from API_KEYS_FILE and are read-only (`CONFLICT`).',
  },
  listApiKeys: { 200: 'Every key, revoked ones too, with limits and usage; no key material (prefix and last 4 characters only).' },
  getApiKey: { 200: 'The key with its limits and usage (cumulative, and LLM calls of the current UTC day).', 404: 'No such key (`NOT_FOUND`).' },
  revokeApiKey: {
    200: 'Revoked (idempotent): refused on every replica within API_KEYS_POLL_MS; usage stays readable.',
    404: 'No such key (`NOT_FOUND`).',
    409: 'Keys come from API_KEYS_FILE and are read-only (`CONFLICT`).',
  },
  rotateApiKey: {
    200: 'A new key, shown this once; the previous one is refused at once or after `graceSeconds`. Name, limits and usage are kept.',
    404: 'No such key (`NOT_FOUND`).',
    409: 'The key is revoked, was changed concurrently, or keys come from API_KEYS_FILE (`CONFLICT`).',
  },
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
  cancelTrainingJob: {
    200: 'Cancelled: a queued job never starts; a running one has its LLM calls aborted and ends `cancelled`.',
    404: 'No such job (`NOT_FOUND`).',
    409: 'The job has already finished (`CONFLICT`).',
  },
};

/** The placeholder @fastify/swagger writes when a response has no description. */
export const DEFAULT_RESPONSE = 'Default Response';

interface Operation {
  operationId?: string;
  summary?: string;
  requestBody?: { content?: Record<string, { example?: unknown }> };
  responses?: Record<string, { description?: string; content?: unknown }>;
}

/**
 * Fills request examples and response descriptions into a generated document, in place. A response keeps
 * a description its route already gave; a success status the tables do not know gets the operation summary,
 * so a new route never ships "Default Response".
 */
export function documentOperations(doc: { paths?: Record<string, Record<string, Operation>> }): void {
  for (const methods of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(methods)) {
      const id = op.operationId ?? '';
      const example = REQUEST_EXAMPLES[id];
      for (const media of Object.values(op.requestBody?.content ?? {})) {
        if (example && media.example === undefined) media.example = example.value;
      }
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        // A 204 has no body; the zod provider cannot say so for OpenAPI 3.0 (z.null() comes out as a nullable string).
        if (status === '204') delete response.content;
        if (response.description && response.description !== DEFAULT_RESPONSE) continue;
        response.description = OPERATION_RESPONSES[id]?.[status] ?? STATUS_DESCRIPTIONS[status] ?? op.summary ?? DEFAULT_RESPONSE;
      }
    }
  }
}
