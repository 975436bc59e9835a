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
};

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
    200: 'A permutation of exactly the given candidates. LLM faults are not errors: the baseline order comes back with `fallback.reason`.',
    400: 'Invalid request (`VALIDATION_ERROR`, `INVALID_JSON`, `DUPLICATE_CANDIDATE_ID`).',
  },
  deleteUserProfiles: {
    200: 'Erased: `deleted` counts the cached entries removed (0 when there were none). Generations in flight for the user are not cached afterwards.',
    503: 'The profile store is unavailable: nothing was erased; retry after `Retry-After` seconds.',
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
  responses?: Record<string, { description?: string }>;
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
        if (response.description && response.description !== DEFAULT_RESPONSE) continue;
        response.description = OPERATION_RESPONSES[id]?.[status] ?? STATUS_DESCRIPTIONS[status] ?? op.summary ?? DEFAULT_RESPONSE;
      }
    }
  }
}
