/**
 * DELETE /v1/profiles/{userId}: the erasure a privacy request needs (all domains, all prompt versions).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ProfileStore } from '../../agp/ports.js';
import { unavailable } from '../../errors.js';
import { DeleteProfilesParamsSchema, DeleteProfilesResponseSchema, ErrorResponseSchema, PUBLIC, overloadedResponse } from '../schemas.js';

/** Registers the profile routes. */
export function registerProfileRoutes(app: FastifyInstance, opts: { store: ProfileStore }): void {
  app.withTypeProvider<ZodTypeProvider>().delete(
    '/v1/profiles/:userId',
    {
      // The access log must not keep the id of the user who asked to be forgotten: log the route, not the URL.
      logSerializers: { req: (r: { method?: string }) => ({ method: r.method, url: '/v1/profiles/{userId}' }) },
      schema: {
        summary: 'Erase every cached profile of a user',
        tags: ['profiles'],
        operationId: 'deleteUserProfiles',
        security: PUBLIC,
        params: DeleteProfilesParamsSchema,
        // 400 bad userId; 503 store unavailable (erasure not performed) or load shedding. No body, not rate limited.
        response: { 200: DeleteProfilesResponseSchema, 400: ErrorResponseSchema, ...overloadedResponse },
      },
    },
    async (req) => {
      let deleted: number;
      try {
        deleted = await opts.store.deleteUser(req.params.userId);
      } catch (err) {
        // Erasure must not silently succeed: tell the caller to retry.
        req.log.error({ err }, 'profile erasure failed');
        throw unavailable('profile store unavailable; erasure not performed, retry later', 5);
      }
      return { userId: req.params.userId, deleted };
    },
  );
}
