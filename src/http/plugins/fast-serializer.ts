/**
 * Response serialisation from the zod schemas, compiled once per route with fast-json-stringify (what
 * Fastify uses for JSON-schema routes). fastify-type-provider-zod's serializer re-validates every response
 * with zod before JSON.stringify; on the rerank hot path that cost more than the serialisation itself.
 * Responses are built by typed code and checked against the published spec by the contract test, so the
 * runtime re-validation buys nothing there. A schema that cannot be converted keeps the zod serializer.
 */
import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

type ZodSchema = z.ZodType;

function isZod(schema: unknown): schema is ZodSchema {
  return typeof schema === 'object' && schema !== null && '_zod' in schema;
}

/** Serializer compiler: fast-json-stringify from the zod schema's JSON Schema (output side). */
export const fastSerializerCompiler: FastifySerializerCompiler<unknown> = (routeSchema) => {
  const { schema } = routeSchema;
  if (!isZod(schema)) return (data) => JSON.stringify(data);
  try {
    const json = z.toJSONSchema(schema, { target: 'draft-7', io: 'output', unrepresentable: 'any' });
    return fastJson(json as Parameters<typeof fastJson>[0]);
  } catch {
    return zodSerializerCompiler(routeSchema as Parameters<typeof zodSerializerCompiler>[0]);
  }
};
