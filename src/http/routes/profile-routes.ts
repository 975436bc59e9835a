/**
 * DELETE /v1/profiles/{userId}: the erasure a privacy request needs (all domains, all prompt versions).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ProfileStore, RankingCache } from '../../agp/ports.js';
import { unavailable } from '../../errors.js';
import { DeleteProfilesParamsSchema, DeleteProfilesResponseSchema, ErrorResponseSchema, V1_SECURITY, overloadedResponse, unauthorizedResponse } from '../schemas.js';

/**
 * Registers the profile routes. Cached rankings are erased with the profiles: an `agp` ranking is derived from
 * the profile (its cache key holds a digest of the profile text), so forgetting one forgets the other.
 */
export function registerProfileRoutes(app: FastifyInstance, opts: { store: ProfileStore; rankings?: RankingCache | undefined }): void {
  app.withTypeProvider<ZodTypeProvider>().delete(
    '/v1/profiles/:userId',
    {
      // The access log must not keep the id of the user who asked to be forgotten: log the route, not the URL.
      logSerializers: { req: (r: { method?: string }) => ({ method: r.method, url: '/v1/profiles/{userId}' }) },
      schema: {
        summary: 'Erase every cached profile of a user',
        tags: ['profiles'],
        operationId: 'deleteUserProfiles',
        security: V1_SECURITY,
        params: DeleteProfilesParamsSchema,
        // 400 bad userId; 503 store unavailable (erasure not performed) or load shedding. No body, not rate limited.
        response: { 200: DeleteProfilesResponseSchema, 400: ErrorResponseSchema, ...unauthorizedResponse, ...overloadedResponse },
      },
    },
    async (req) => {
      let deleted: number;
      try {
        // `deleted` stays the number of profiles (the contract); the rankings go in the same request.
        [deleted] = await Promise.all([opts.store.deleteUser(req.params.userId), opts.rankings?.deleteUser(req.params.userId)]);
      } catch (err) {
        // Erasure must not silently succeed: tell the caller to retry.
        req.log.error({ err }, 'profile erasure failed');
        throw unavailable('profile store unavailable; erasure not performed, retry later', 5);
      }
      return { userId: req.params.userId, deleted };
    },
  );
}
