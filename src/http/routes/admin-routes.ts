/**
 * /admin/v1: training jobs and prompt versions, behind a constant-time Bearer token check.
 * Registered only when ADMIN_TOKEN is set.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { PromptRegistry, PromptVersion } from '../../agp/ports.js';
import type { TrainingJobs } from '../../jobs/training-jobs.js';
import { conflict, notFound, unavailable } from '../../errors.js';
import { adminAuth } from '../plugins/admin-auth.js';
import { registerTrainingArtifactRoutes } from './admin-training-artifact-routes.js';
import { registerExperimentRoutes } from './admin-experiment-routes.js';
import type { ExperimentAdmin } from '../../experiments/experiment-admin.js';
import type { DatasetService } from '../../experiments/dataset-builder.js';
import { registerDatasetRoutes } from './admin-dataset-routes.js';
import type { LoopService } from '../../loop/loop-service.js';
import { registerLoopRoutes } from './admin-loop-routes.js';
import { ErrorResponseSchema } from '../schemas.js';
import {
  ActivateResponseSchema,
  CancelResponseSchema,
  JobAcceptedSchema,
  JobIdParamsSchema,
  JobListSchema,
  JobViewSchema,
  PromptDetailSchema,
  PromptListQuerySchema,
  PromptListResponseSchema,
  PromptParamsSchema,
  PromptVersionSchema,
  TrainingJobRequestSchema,
} from '../admin-schemas.js';

/** Dependencies of the admin routes. */
export interface AdminRouteOptions {
  token: string;
  registry: PromptRegistry;
  /** Undefined when training is not available in this process. */
  jobs?: TrainingJobs | undefined;
  /** The experiments admin service (/admin/v1/experiments). */
  experiments?: ExperimentAdmin | undefined;
  /** Training sets from live traffic (/admin/v1/datasets). */
  datasets?: DatasetService | undefined;
  /** The loop: schedules, runs, pins and the audit trail (/admin/v1/schedules, /pins, /audit). */
  loop?: LoopService | undefined;
}

const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema, 503: ErrorResponseSchema };
/** Routes with a JSON body can also get 413 (over BODY_LIMIT_BYTES) and 415 (not JSON). */
const bodyErrors = { ...errors, 413: ErrorResponseSchema, 415: ErrorResponseSchema };
const security = [{ adminBearer: [] }];

function summary(v: PromptVersion & { active: boolean }) {
  return {
    domain: v.domain,
    version: v.version,
    active: v.active,
    parentVersion: v.parentVersion,
    createdAt: v.createdAt,
    historyLength: v.historyLength,
    metrics: (v.metrics ?? {}) as Record<string, unknown>,
  };
}

/** Registers every admin route under one encapsulated, authenticated scope. */
export function registerAdminRoutes(app: FastifyInstance, opts: AdminRouteOptions): void {
  app.register(async (scope) => {
    // onRequest, before the body is read: unauthenticated callers get 401 without making the server parse a
    // body or learn the schemas from validation errors.
    scope.addHook('onRequest', adminAuth(opts.token));
    const r = scope.withTypeProvider<ZodTypeProvider>();
    const jobs = (): TrainingJobs => {
      if (!opts.jobs) throw unavailable('training is not available in this process', 60);
      return opts.jobs;
    };

    r.get('/admin/v1/prompts', {
      schema: { tags: ['admin'], security, operationId: 'listPrompts', summary: 'List prompt versions', querystring: PromptListQuerySchema, response: { 200: PromptListResponseSchema, ...errors } },
    }, async (req) => ({ prompts: (await opts.registry.list(req.query.domain)).map(summary) }));

    r.get('/admin/v1/prompts/:domain/:version', {
      schema: { tags: ['admin'], security, operationId: 'getPrompt', summary: 'Get one prompt version', params: PromptParamsSchema, response: { 200: PromptDetailSchema, ...errors } },
    }, async (req) => {
      const v = await opts.registry.get(req.params.domain, req.params.version);
      if (!v) throw notFound(`prompt ${req.params.domain}/${req.params.version}`);
      const active = opts.registry.activeVersions()[v.domain] === v.version;
      return { ...summary({ ...v, active }), text: v.text, ...(v.params ? { params: v.params } : {}) };
    });

    r.post('/admin/v1/prompts', {
      schema: { tags: ['admin'], security, operationId: 'importPrompt', summary: 'Import a prompt version', body: PromptVersionSchema, response: { 201: PromptDetailSchema, ...bodyErrors } },
    }, async (req, reply) => {
      const v: PromptVersion = { ...req.body, createdAt: req.body.createdAt ?? new Date().toISOString() };
      await opts.registry.put(v);
      reply.code(201);
      return { ...summary({ ...v, active: false }), text: v.text };
    });

    r.post('/admin/v1/prompts/:domain/:version/activate', {
      schema: { tags: ['admin'], security, operationId: 'activatePrompt', summary: 'Activate a version (rollback = activate an older one)', params: PromptParamsSchema, response: { 200: ActivateResponseSchema, ...errors } },
    }, async (req) => {
      await opts.registry.activate(req.params.domain, req.params.version);
      return { domain: req.params.domain, version: req.params.version, active: true as const };
    });

    r.post('/admin/v1/training-jobs', {
      schema: { tags: ['admin'], security, operationId: 'submitTrainingJob', summary: 'Start a training job', body: TrainingJobRequestSchema, response: { 202: JobAcceptedSchema, ...bodyErrors } },
    }, async (req, reply) => {
      const accepted = await jobs().submit(req.body);
      reply.code(202);
      return accepted;
    });

    r.get('/admin/v1/training-jobs', {
      schema: { tags: ['admin'], security, operationId: 'listTrainingJobs', summary: 'List training jobs', response: { 200: JobListSchema, ...errors } },
    }, async () => ({ jobs: await jobs().list() }));

    r.get('/admin/v1/training-jobs/:id', {
      schema: { tags: ['admin'], security, operationId: 'getTrainingJob', summary: 'Get a training job', params: JobIdParamsSchema, response: { 200: JobViewSchema, ...errors } },
    }, async (req) => {
      const job = await jobs().get(req.params.id);
      if (!job) throw notFound(`training job ${req.params.id}`);
      return job;
    });

    r.delete('/admin/v1/training-jobs/:id', {
      schema: { tags: ['admin'], security, operationId: 'cancelTrainingJob', summary: 'Cancel a training job', params: JobIdParamsSchema, response: { 200: CancelResponseSchema, ...errors } },
    }, async (req) => {
      const job = await jobs().get(req.params.id);
      if (!job) throw notFound(`training job ${req.params.id}`);
      const cancelled = await jobs().cancel(req.params.id);
      if (!cancelled) throw conflict(`training job ${req.params.id} is already ${job.state}`);
      return { jobId: req.params.id, cancelled };
    });

    registerTrainingArtifactRoutes(scope, jobs);
    if (opts.experiments) registerExperimentRoutes(scope, opts.experiments);
    if (opts.datasets) registerDatasetRoutes(scope, opts.datasets);
    if (opts.loop) registerLoopRoutes(scope, opts.loop);
  });
}
