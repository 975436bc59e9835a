/**
 * OpenAPI from the zod schemas (@fastify/swagger + fastify-type-provider-zod), Swagger UI at /docs,
 * and the spec at /openapi.json. openapi/openapi.json is generated from the same document.
 */
import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/** Package version reported in the spec. */
export const API_VERSION = '1.0.0';

/** Registers the spec generator, /openapi.json and /docs. Call before routes are added. */
export async function registerSwagger(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'agp-rerank',
        description:
          'Online LLM reranking with AGP (Auto-Guided Prompt Refinement). Recommenders send a user history and their top-k candidates; the service returns a permutation of exactly those candidates.',
        version: API_VERSION,
        license: { name: 'Apache-2.0' },
      },
      servers: [{ url: 'http://localhost:8080' }],
      tags: [
        { name: 'rerank', description: 'Reranking' },
        { name: 'profiles', description: 'Cached user profiles' },
        { name: 'admin', description: 'Training and prompt management (Bearer ADMIN_TOKEN)' },
        { name: 'ops', description: 'Health' },
      ],
      components: {
        securitySchemes: { adminBearer: { type: 'http', scheme: 'bearer' } },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', logLevel: 'warn' });
  app.get('/openapi.json', { schema: { hide: true }, logLevel: 'warn' }, async () => app.swagger());
}
