/**
 * POST /v1/events (outcome events of served lists) and DELETE /v1/users/{userId} (erase everything the
 * service holds about a user). Thin: the ingestion and erasure services do the work.
 */
import type { RouteRateLimit } from '../plugins/api-key-auth.js';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { EventIngestion } from '../../experiments/event-ingestion.js';
import { traced } from '../../agp/tracing.js';
import { EraseUserResponseSchema, EventsRequestSchema, EventsResponseSchema, UserParamsSchema } from '../experiment-schemas.js';
import { ErrorResponseSchema, V1_SECURITY, errorResponses, overloadedResponse, unauthorizedResponse } from '../schemas.js';

/** What the routes call. */
export interface EventRouteOptions {
  ingestion: EventIngestion;
  /** Erases a user's profiles, exposures and events; throws UnavailableError when a store fails. */
  eraseUser(userId: string): Promise<{ profiles: number; exposures: number }>;
  rateLimit?: RouteRateLimit | undefined;
}

/** Registers the events and user-erasure routes. */
export function registerEventRoutes(app: FastifyInstance, opts: EventRouteOptions): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/v1/events',
    {
      schema: {
        summary: 'Report what users did with served lists',
        description:
          'Attributes 1–1,000 outcome events (each an `OutcomeEvent`) to the reranks that served them, by `requestId`. A retried batch counts nothing twice. Unknown or expired request ids are `unattributed` (a call that finds no exposure for some ids waits `EXPOSURE_GATHER_MS` + 200 ms once and looks again first, since an exposure is written a gather after its response); items that were not served are rejected with `ITEM_NOT_EXPOSED`; other invalid events are rejected one by one. A 503 means nothing of the batch may have been stored: retry the same batch.',
        tags: ['events'],
        operationId: 'ingestEvents',
        security: V1_SECURITY,
        body: EventsRequestSchema,
        response: { 202: EventsResponseSchema, ...errorResponses },
      },
      ...(opts.rateLimit ? { config: { rateLimit: opts.rateLimit } } : {}),
    },
    async (req, reply) => {
      const result = await traced('events.ingest', { 'agp.events': req.body.events.length }, async (span) => {
        const r = await opts.ingestion.ingest(req.body.events);
        span.setAttribute('agp.events.accepted', r.accepted);
        span.setAttribute('agp.events.duplicates', r.duplicates);
        span.setAttribute('agp.events.unattributed', r.unattributed);
        span.setAttribute('agp.events.rejected', r.rejected.length);
        return r;
      });
      reply.code(202);
      return result;
    },
  );

  r.delete(
    '/v1/users/:userId',
    {
      // The access log must not keep the id of the user who asked to be forgotten.
      logSerializers: { req: (q: { method?: string }) => ({ method: q.method, url: '/v1/users/{userId}' }) },
      schema: {
        summary: 'Erase everything held about a user',
        description:
          'Removes the user’s cached profiles, recorded exposures and their events. Later events for those request ids are `unattributed`. The user’s per-user totals in experiment sums are forgotten; aggregate sums keep the past contribution, and an id that reappears counts as a new user. A 503 means the erasure was not completed: retry.',
        tags: ['profiles'],
        operationId: 'eraseUser',
        security: V1_SECURITY,
        params: UserParamsSchema,
        response: { 200: EraseUserResponseSchema, 400: ErrorResponseSchema, ...unauthorizedResponse, ...overloadedResponse },
      },
    },
    async (req) => ({ userId: req.params.userId, ...(await opts.eraseUser(req.params.userId)) }),
  );
}
