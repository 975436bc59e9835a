/**
 * /admin/v1/experiments: create, list, results, stop, promote. Registered inside the authenticated admin
 * scope (admin-routes.ts); the experiment admin service does the work and throws domain errors.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ExperimentAdmin } from '../../experiments/experiment-admin.js';
import type { ExperimentRecord } from '../../experiments/ports.js';
import {
  ExperimentCreateSchema,
  ExperimentListQuerySchema,
  ExperimentListSchema,
  ExperimentParamsSchema,
  ExperimentResultsSchema,
  ExperimentSchema,
  PromoteRequestSchema,
  PromoteResponseSchema,
} from '../experiment-schemas.js';
import { ErrorResponseSchema } from '../schemas.js';

const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema, 503: ErrorResponseSchema };
const bodyErrors = { ...errors, 413: ErrorResponseSchema, 415: ErrorResponseSchema };
const security = [{ adminBearer: [] }];
const tags = ['experiments'];

/** The public view of a stored experiment (p-values are reported with the results, not here). */
const view = (r: ExperimentRecord) => {
  const { pValues: _internal, ...rest } = r;
  return { ...rest, arms: [...rest.arms] };
};

/** Registers the experiment routes on an already-authenticated scope. */
export function registerExperimentRoutes(scope: FastifyInstance, admin: ExperimentAdmin): void {
  const r = scope.withTypeProvider<ZodTypeProvider>();

  r.post('/admin/v1/experiments', {
    schema: {
      tags, security, operationId: 'createExperiment', summary: 'Start an A/B, interleaving or shadow experiment',
      description: 'At most one running experiment per domain, shadow included (409 EXPERIMENT_ALREADY_RUNNING), and EXPERIMENTS_MAX_RUNNING in all (409 TOO_MANY_RUNNING_EXPERIMENTS). A pinned promptVersion must exist (400 UNKNOWN_PROMPT_VERSION). Mode `shadow` takes exactly one (candidate) arm: it is never served; a sampled share of the domain’s reranks is reranked with it off the request path, within `shadow.maxConcurrency` and `shadow.llmCallsPerHour`.',
      body: ExperimentCreateSchema, response: { 201: ExperimentSchema, ...bodyErrors },
    },
  }, async (req, reply) => {
    const created = await admin.create(req.body);
    reply.code(201);
    return view(created);
  });

  r.get('/admin/v1/experiments', {
    schema: { tags, security, operationId: 'listExperiments', summary: 'List experiments, newest first', querystring: ExperimentListQuerySchema, response: { 200: ExperimentListSchema, ...errors } },
  }, async (req) => ({ experiments: (await admin.list(req.query.domain)).map(view) }));

  r.get('/admin/v1/experiments/:id', {
    schema: {
      tags, security, operationId: 'getExperiment', summary: 'An experiment with its per-arm results and always-valid decision',
      description: 'Safe to read as often as you like: the confidence intervals and the decision are always-valid (docs/experiments.md). `baselineOrder` is a position-biased counterfactual, not a result. A shadow experiment answers its scores in `shadow` (agreement with the served order, and a counterfactual labelled `biased`); reading it reads one stored exposure per retained record.',
      params: ExperimentParamsSchema, response: { 200: ExperimentResultsSchema, ...errors },
    },
  }, async (req) => admin.results(req.params.id));

  r.post('/admin/v1/experiments/:id/stop', {
    schema: { tags, security, operationId: 'stopExperiment', summary: 'Stop a running experiment (its users return to normal serving)', params: ExperimentParamsSchema, response: { 200: ExperimentSchema, ...errors } },
  }, async (req) => view(await admin.stop(req.params.id)));

  r.post('/admin/v1/experiments/:id/promote', {
    schema: {
      tags, security, operationId: 'promoteExperimentArm', summary: 'Activate an arm’s prompt version for the domain and stop the experiment',
      params: ExperimentParamsSchema, body: PromoteRequestSchema, response: { 200: PromoteResponseSchema, ...bodyErrors },
    },
  }, async (req) => {
    const { experiment, activated } = await admin.promote(req.params.id, req.body.arm);
    return { experiment: view(experiment), activated };
  });
}
