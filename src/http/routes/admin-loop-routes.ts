/**
 * The loop's admin routes (issue 11): /admin/v1/schedules (CRUD, pause, resume, run now, runs),
 * /admin/v1/audit and /admin/v1/pins. Registered inside the authenticated admin scope (admin-routes.ts); the
 * loop service does the work, writes the audit trail and throws domain errors.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { LoopService } from '../../loop/loop-service.js';
import {
  AuditPageSchema,
  AuditQuerySchema,
  LoopDomainParamsSchema,
  NoContentSchema,
  PinListSchema,
  PinRequestSchema,
  PinSchema,
  RunAcceptedSchema,
  RunListQuerySchema,
  RunListSchema,
  ScheduleDraftSchema,
  ScheduleListSchema,
  ScheduleViewSchema,
} from '../loop-schemas.js';
import { ErrorResponseSchema } from '../schemas.js';

const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema, 503: ErrorResponseSchema };
const bodyErrors = { ...errors, 413: ErrorResponseSchema, 415: ErrorResponseSchema };
const security = [{ adminBearer: [] }];
const tags = ['loop'];
const params = LoopDomainParamsSchema;

/** Registers the loop routes on an already-authenticated scope. */
export function registerLoopRoutes(scope: FastifyInstance, loop: LoopService): void {
  const r = scope.withTypeProvider<ZodTypeProvider>();

  r.put('/admin/v1/schedules/:domain', {
    schema: {
      tags, security, operationId: 'putSchedule', summary: 'Create or replace the retraining schedule of a domain',
      description: 'A PUT replaces the whole schedule: fields left out take their defaults. The queue’s job scheduler follows at once; a run in progress keeps the schedule it started with.',
      params, body: ScheduleDraftSchema, response: { 200: ScheduleViewSchema, 201: ScheduleViewSchema, ...bodyErrors },
    },
  }, async (req, reply) => {
    const { schedule, created } = await loop.putSchedule(req.params.domain, req.body);
    reply.code(created ? 201 : 200);
    return schedule;
  });

  r.get('/admin/v1/schedules', {
    schema: { tags, security, operationId: 'listSchedules', summary: 'Every retraining schedule, by domain', response: { 200: ScheduleListSchema, ...errors } },
  }, async () => ({ schedules: await loop.listSchedules() }));

  r.get('/admin/v1/schedules/:domain', {
    schema: { tags, security, operationId: 'getSchedule', summary: 'A domain’s schedule with its next firing, pin and current run', params, response: { 200: ScheduleViewSchema, ...errors } },
  }, async (req) => loop.getSchedule(req.params.domain));

  r.delete('/admin/v1/schedules/:domain', {
    schema: {
      tags, security, operationId: 'deleteSchedule', summary: 'Delete a schedule and cancel its run in progress',
      description: 'Removes the job scheduler; a run in progress ends `cancelled` and its canary experiment is stopped (the active version is unchanged).',
      params, response: { 204: NoContentSchema, ...errors },
    },
  }, async (req, reply) => {
    await loop.deleteSchedule(req.params.domain);
    return reply.code(204).send(null);
  });

  r.post('/admin/v1/schedules/:domain/pause', {
    schema: { tags, security, operationId: 'pauseSchedule', summary: 'Pause a schedule (a run in progress goes on)', params, response: { 200: ScheduleViewSchema, ...errors } },
  }, async (req) => loop.pause(req.params.domain));

  r.post('/admin/v1/schedules/:domain/resume', {
    schema: { tags, security, operationId: 'resumeSchedule', summary: 'Resume a paused schedule', params, response: { 200: ScheduleViewSchema, ...errors } },
  }, async (req) => loop.resume(req.params.domain));

  r.post('/admin/v1/schedules/:domain/run', {
    schema: { tags, security, operationId: 'runSchedule', summary: 'Start a run of the schedule now', params, response: { 202: RunAcceptedSchema, ...errors } },
  }, async (req, reply) => {
    const accepted = await loop.runNow(req.params.domain);
    reply.code(202);
    return accepted;
  });

  r.get('/admin/v1/schedules/:domain/runs', {
    schema: { tags, security, operationId: 'listScheduleRuns', summary: 'A domain’s runs, newest first', params, querystring: RunListQuerySchema, response: { 200: RunListSchema, ...errors } },
  }, async (req) => ({ runs: await loop.listRuns(req.params.domain, req.query.limit) }));

  r.get('/admin/v1/audit', {
    schema: {
      tags, security, operationId: 'listAuditRecords', summary: 'A domain’s audit trail, newest first',
      description: 'One record per automatic step or decision of the loop and per operator action: what happened, why, with which numbers, when and by whom. Page with `before` = the previous page’s `next`.',
      querystring: AuditQuerySchema, response: { 200: AuditPageSchema, ...errors },
    },
  }, async (req) => loop.listAudit(req.query.domain, { limit: req.query.limit, before: req.query.before, runId: req.query.runId }));

  r.get('/admin/v1/pins', {
    schema: { tags, security, operationId: 'listPins', summary: 'Pinned domains', response: { 200: PinListSchema, ...errors } },
  }, async () => ({ pins: await loop.listPins() }));

  r.put('/admin/v1/pins/:domain', {
    schema: {
      tags, security, operationId: 'pinDomain', summary: 'Pin a domain to a prompt version',
      description: 'Activates the version when it is not active. While pinned, no run starts and nothing is promoted automatically (the loop or `activate: if-better`).',
      params, body: PinRequestSchema, response: { 200: PinSchema, ...bodyErrors },
    },
  }, async (req) => loop.pin(req.params.domain, req.body.version, req.body.reason));

  r.delete('/admin/v1/pins/:domain', {
    schema: { tags, security, operationId: 'unpinDomain', summary: 'Unpin a domain', params, response: { 204: NoContentSchema, ...errors } },
  }, async (req, reply) => {
    await loop.unpin(req.params.domain);
    return reply.code(204).send(null);
  });
}
