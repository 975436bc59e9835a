/**
 * POST /admin/v1/datasets: build a training set from live traffic (src/experiments/dataset-builder.ts).
 * Registered inside the authenticated admin scope (admin-routes.ts). The file is named by the service under
 * TRAINING_DATA_DIR; the request cannot choose a path.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { DatasetService } from '../../experiments/dataset-builder.js';
import { DatasetBuildResponseSchema, DatasetBuildSchema, instantMs } from '../dataset-schemas.js';
import { ErrorResponseSchema } from '../schemas.js';

const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 413: ErrorResponseSchema, 415: ErrorResponseSchema, 503: ErrorResponseSchema };

/** Registers the dataset route on an already-authenticated scope. */
export function registerDatasetRoutes(scope: FastifyInstance, datasets: DatasetService): void {
  scope.withTypeProvider<ZodTypeProvider>().post('/admin/v1/datasets', {
    schema: {
      tags: ['datasets'], security: [{ adminBearer: [] }], operationId: 'buildDataset', summary: 'Build a training set from recorded exposures and events',
      description: 'Streams the domain’s exposures of the window; one canonical JSONL row per exposure with a positive event (docs/loop.md).',
      body: DatasetBuildSchema, response: { 201: DatasetBuildResponseSchema, ...errors },
    },
  }, async (req, reply) => {
    const b = req.body;
    const result = await datasets.build({ domain: b.domain, since: instantMs(b.since), until: instantMs(b.until), positiveTypes: b.positiveTypes, maxUsers: b.maxUsers });
    reply.code(201);
    return result;
  });
}
