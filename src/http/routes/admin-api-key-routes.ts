/**
 * /admin/v1/api-keys (ADMIN_TOKEN): create (the key is shown once), list and read with usage, revoke, and
 * rotate. Changes apply on this replica at once and on the others within API_KEYS_POLL_MS. Keys from
 * API_KEYS_FILE are listed but read-only (409 on a change).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiKeyService } from '../../api-keys/api-key-service.js';
import { adminAuth } from '../plugins/admin-auth.js';
import { ApiKeyCreateSchema, ApiKeyListSchema, ApiKeyNameParamsSchema, ApiKeyRotateSchema, ApiKeySchema, ApiKeySecretSchema } from '../api-key-schemas.js';
import { ErrorResponseSchema } from '../schemas.js';

const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema, 503: ErrorResponseSchema };
const security = [{ adminBearer: [] }];
const tags = ['api-keys'];

/** Options of the key routes. */
export interface ApiKeyRouteOptions {
  token: string;
  keys: ApiKeyService;
}

/** Registers the routes in their own authenticated scope. */
export function registerApiKeyRoutes(app: FastifyInstance, opts: ApiKeyRouteOptions): void {
  const { keys } = opts;
  app.register(async (scope) => {
    scope.addHook('onRequest', adminAuth(opts.token));
    const r = scope.withTypeProvider<ZodTypeProvider>();

    r.post('/admin/v1/api-keys', {
      schema: {
        tags, security, operationId: 'createApiKey', summary: 'Create an API key (shown once)',
        description: 'Answers the key in `key` this once; only its sha256 is stored. 409 when the name exists (revoked names stay taken) or keys come from API_KEYS_FILE.',
        body: ApiKeyCreateSchema, response: { 201: ApiKeySecretSchema, ...errors },
      },
    }, async (req, reply) => {
      const { name, ...limits } = req.body;
      const { key, view } = await keys.create(name, limits);
      reply.code(201).header('cache-control', 'no-store');
      return { key, apiKey: view };
    });

    r.get('/admin/v1/api-keys', {
      schema: { tags, security, operationId: 'listApiKeys', summary: 'List API keys with their usage (no key material)', response: { 200: ApiKeyListSchema, ...errors } },
    }, async () => ({ apiKeys: await keys.list() }));

    r.get('/admin/v1/api-keys/:name', {
      schema: { tags, security, operationId: 'getApiKey', summary: 'One API key with its usage', params: ApiKeyNameParamsSchema, response: { 200: ApiKeySchema, ...errors } },
    }, async (req) => keys.get(req.params.name));

    r.delete('/admin/v1/api-keys/:name', {
      schema: {
        tags, security, operationId: 'revokeApiKey', summary: 'Revoke an API key',
        description: 'The key (and a previous key in its rotation grace period) stops working on every replica within API_KEYS_POLL_MS. Idempotent.',
        params: ApiKeyNameParamsSchema, response: { 200: ApiKeySchema, ...errors },
      },
    }, async (req) => keys.revoke(req.params.name));

    r.post('/admin/v1/api-keys/:name/rotate', {
      schema: {
        tags, security, operationId: 'rotateApiKey', summary: 'Replace an API key by a new one (shown once)',
        description: 'The previous key stops working at once, or after `graceSeconds` so callers can switch over. Name, limits and usage are kept.',
        params: ApiKeyNameParamsSchema, body: ApiKeyRotateSchema, response: { 200: ApiKeySecretSchema, ...errors },
      },
    }, async (req, reply) => {
      const { key, view } = await keys.rotate(req.params.name, req.body.graceSeconds);
      reply.header('cache-control', 'no-store');
      return { key, apiKey: view };
    });
  });
}
