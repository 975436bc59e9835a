/**
 * The artifacts of a training job through the admin API: its report (Markdown, and the chart as SVG) and
 * its LLM call trace (JSONL), the same files `agp train` writes. Registered inside the admin scope, so
 * the admin token check applies.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { TrainingJobs } from '../../jobs/training-jobs.js';
import { notFound } from '../../errors.js';
import { ErrorResponseSchema } from '../schemas.js';
import { JobIdParamsSchema, TrainingReportMarkdownSchema, TrainingReportSvgSchema, TrainingTraceSchema } from '../admin-schemas.js';

const errors = { 401: ErrorResponseSchema, 404: ErrorResponseSchema, 503: ErrorResponseSchema };
const security = [{ adminBearer: [] }];

/** Headers of a stored artifact: its type, and no sniffing or active content if a browser opens it. */
function send(reply: FastifyReply, type: string, body: string): string {
  reply.type(type).header('x-content-type-options', 'nosniff').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
  return body;
}

/** Registers the report and trace routes; `jobs` throws 503 when training is not available here. */
export function registerTrainingArtifactRoutes(scope: FastifyInstance, jobs: () => TrainingJobs): void {
  const r = scope.withTypeProvider<ZodTypeProvider>();
  /** The job must exist (404 otherwise), then its artifact (404 "not yet" otherwise). */
  const artifact = async <T>(id: string, what: string, read: (j: TrainingJobs) => Promise<T | null>): Promise<T> => {
    const j = jobs();
    if (!(await j.get(id))) throw notFound(`training job ${id}`);
    const found = await read(j);
    if (found === null) throw notFound(`${what} of training job ${id} (none written yet)`);
    return found;
  };

  r.get('/admin/v1/training-jobs/:id/report', {
    schema: {
      tags: ['admin'], security, operationId: 'getTrainingJobReport', summary: "A training job's report (Markdown)",
      description: 'Written when the job completes, is cancelled, or stops because the LLM was unavailable.',
      params: JobIdParamsSchema, response: { 200: TrainingReportMarkdownSchema, ...errors },
    },
  }, async (req, reply) => send(reply, 'text/markdown; charset=utf-8', (await artifact(req.params.id, 'the report', (j) => j.report(req.params.id))).markdown));

  r.get('/admin/v1/training-jobs/:id/report/ndcg.svg', {
    schema: {
      tags: ['admin'], security, operationId: 'getTrainingJobChart', summary: "A training job's NDCG@10 chart (SVG)",
      params: JobIdParamsSchema, response: { 200: TrainingReportSvgSchema, ...errors },
    },
  }, async (req, reply) => send(reply, 'image/svg+xml; charset=utf-8', (await artifact(req.params.id, 'the report', (j) => j.report(req.params.id))).svg));

  r.get('/admin/v1/training-jobs/:id/trace', {
    schema: {
      tags: ['admin'], security, operationId: 'getTrainingJobTrace', summary: "A training job's LLM call trace (JSONL)",
      description: 'Grows while the job runs; kept as long as the job is listed.',
      params: JobIdParamsSchema, response: { 200: TrainingTraceSchema, ...errors },
    },
  }, async (req, reply) => {
    const trace = await artifact(req.params.id, 'the trace', (j) => j.trace(req.params.id));
    reply.header('x-trace-truncated', String(trace.truncated));
    return send(reply, 'application/x-ndjson; charset=utf-8', trace.jsonl);
  });
}
