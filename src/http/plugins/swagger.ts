/**
 * OpenAPI from the zod schemas (@fastify/swagger + fastify-type-provider-zod), Swagger UI at /docs,
 * and the spec at /openapi.json. openapi/openapi.json is generated from the same document.
 */
import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { createJsonSchemaTransformObject, jsonSchemaTransform } from 'fastify-type-provider-zod';
import { documentOperations } from '../openapi-docs.js';

/** Package version reported in the spec. */
export const API_VERSION = '1.0.0';

/**
 * Named (`.meta({ id })`) schemas as OpenAPI 3.0 Schema Objects. fastify-type-provider-zod converts route
 * schemas for the document's version but renders the registry as JSON Schema 2020-12 unless told otherwise,
 * which put `type: [T, "null"]` and `{type: "null"}` (invalid in 3.0) into components.
 */
const componentsTransform = createJsonSchemaTransformObject({ zodToJsonConfig: { target: 'openapi-3.0' } });

/**
 * Drops component schemas no operation reaches. The registry yields an input and an output variant of every
 * named schema (RerankRequest and RerankRequestInput, ...); only one side of each is used, and the other
 * would become a misleading, unused type in generated clients.
 */
function pruneUnusedSchemas<T extends object>(doc: T): T {
  const { paths, components } = doc as { paths?: unknown; components?: { schemas?: Record<string, unknown> } };
  const schemas = components?.schemas;
  if (!schemas) return doc;
  const reached = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) {
        const name = value.slice('#/components/schemas/'.length);
        if (!reached.has(name)) {
          reached.add(name);
          visit(schemas[name]);
        }
      } else visit(value);
    }
  };
  visit(paths);
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => reached.has(name)));
  return { ...doc, components: { ...components, schemas: kept } };
}

/**
 * Gives a nullable union a `type`. zod renders `z.union([A, B]).nullable()` as `{anyOf: [A, B], nullable: true}`,
 * and OpenAPI 3.0 ignores `nullable` without a `type` beside it (Redocly's `struct` rule rejects it), so
 * generated clients lost the null. When every branch has one type, that type goes beside `nullable`; otherwise
 * (`string | number | null`) each typed branch becomes nullable itself.
 */
export function typeNullableUnions<T extends object>(doc: T): T {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const schema = node as Record<string, unknown>;
    const branches = schema.anyOf ?? schema.oneOf;
    if (schema.nullable === true && schema.type === undefined && Array.isArray(branches)) {
      const types = new Set(branches.map((b: { type?: unknown }) => b?.type));
      const [only] = types;
      if (types.size === 1 && typeof only === 'string') schema.type = only;
      else if (branches.every((b: { type?: unknown }) => typeof b?.type === 'string')) {
        for (const b of branches as Array<Record<string, unknown>>) b.nullable = true;
        delete schema.nullable;
      }
    }
    Object.values(schema).forEach(visit);
  };
  visit(doc);
  return doc;
}

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
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      // Relative: the spec is served by every deployment (/openapi.json, /docs), so "Try it out" must call
      // the origin it was loaded from, not the developer's localhost.
      servers: [{ url: '/', description: 'The server that serves this document' }],
      tags: [
        { name: 'rerank', description: 'Reranking' },
        { name: 'profiles', description: 'Cached user profiles' },
        { name: 'events', description: 'Outcome events of served lists, attributed to experiments' },
        { name: 'experiments', description: 'A/B and interleaving experiments (Bearer ADMIN_TOKEN)' },
        { name: 'datasets', description: 'Training sets from live traffic (Bearer ADMIN_TOKEN)' },
        { name: 'loop', description: 'Scheduled retraining, canaries, pins and the audit trail (Bearer ADMIN_TOKEN)' },
        { name: 'admin', description: 'Training and prompt management (Bearer ADMIN_TOKEN)' },
        { name: 'api-keys', description: 'API keys for /v1 with usage (Bearer ADMIN_TOKEN)' },
        { name: 'ops', description: 'Health' },
      ],
      components: {
        securitySchemes: {
          adminBearer: { type: 'http', scheme: 'bearer' },
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key (`agp_…`) from /admin/v1/api-keys or API_KEYS_FILE. Required on /v1 only when API keys are on; otherwise /v1 is open.',
          },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => {
      const doc = typeNullableUnions(pruneUnusedSchemas(componentsTransform(input)));
      documentOperations(doc as Parameters<typeof documentOperations>[0]);
      return doc;
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', logLevel: 'warn' });
  app.get('/openapi.json', { schema: { hide: true }, logLevel: 'warn' }, async () => app.swagger());
}
