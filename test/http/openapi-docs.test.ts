/**
 * The OpenAPI document is usable as documentation: every request body has a real example (which the route
 * accepts), every response says what it means, and a training job's `params` is typed from the trainer's own
 * schema.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_PATH } from '../../testkit/openapi-document.js';
import { DEFAULT_RESPONSE, OPERATION_RESPONSES, REQUEST_EXAMPLES } from '../../src/http/openapi-docs.js';
import { trainingParamsSchema } from '../../src/agp/training-params.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';

interface Operation {
  operationId: string;
  requestBody?: { content: Record<string, { example?: unknown; schema?: unknown }> };
  responses: Record<string, { description?: string }>;
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown>; additionalProperties?: unknown }> };
}

let spec: Spec;
let operations: Array<{ method: string; path: string; op: Operation }>;
let t: TestApp;
const TOKEN = 'openapi-docs-token-0123456789';

beforeAll(async () => {
  spec = JSON.parse(await readFile(OPENAPI_PATH, 'utf8')) as Spec;
  operations = Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ method, path, op })));
  t = await buildTestApp({ env: { ADMIN_TOKEN: TOKEN }, jobs: false });
});
afterAll(async () => {
  await t?.close();
});

describe('OpenAPI documentation', () => {
  it('every operation with a body has a request example', () => {
    const withBody = operations.filter((o) => o.op.requestBody);
    expect(withBody.length).toBeGreaterThanOrEqual(3);
    const missing = withBody.filter((o) => Object.values(o.op.requestBody!.content).some((m) => m.example === undefined));
    expect(missing.map((o) => `${o.method} ${o.path}`)).toEqual([]);
  });

  it(`no response is described "${DEFAULT_RESPONSE}" or left empty`, () => {
    const vague = operations.flatMap(({ method, path, op }) =>
      Object.entries(op.responses)
        .filter(([, r]) => !r.description || r.description === DEFAULT_RESPONSE)
        .map(([status]) => `${method} ${path} ${status}`),
    );
    expect(operations.length).toBeGreaterThan(10);
    expect(vague).toEqual([]);
  });

  it('the description tables name only operations and statuses that exist', () => {
    const byId = new Map(operations.map((o) => [o.op.operationId, o.op]));
    for (const id of Object.keys(REQUEST_EXAMPLES)) expect(byId.get(id)?.requestBody, id).toBeDefined();
    for (const [id, statuses] of Object.entries(OPERATION_RESPONSES)) {
      for (const status of Object.keys(statuses)) expect(byId.get(id)?.responses[status], `${id} ${status}`).toBeDefined();
    }
  });

  it('documents the API-key admin routes and the optional /v1 bearer key (issue 13)', () => {
    for (const p of ['/admin/v1/api-keys', '/admin/v1/api-keys/{name}', '/admin/v1/api-keys/{name}/rotate']) expect(Object.keys(spec.paths)).toContain(p);
    const ids = operations.map((o) => o.op.operationId);
    for (const id of ['createApiKey', 'listApiKeys', 'getApiKey', 'revokeApiKey', 'rotateApiKey']) expect(ids).toContain(id);
    const schemes = (spec as unknown as { components: { securitySchemes: Record<string, { scheme?: string }> } }).components.securitySchemes;
    expect(schemes.apiKey?.scheme).toBe('bearer');
    const rerank = spec.paths['/v1/rerank']?.post as Operation & { security?: unknown };
    expect(rerank.security).toEqual([{}, { apiKey: [] }]);
    expect(rerank.responses['401']?.description).toMatch(/API key/);
    const reasons = (spec.components.schemas.FallbackReason as { enum?: string[] }).enum;
    expect(reasons).toContain('quota_exceeded');
  });

  it('every example parses with the schema of its route', () => {
    for (const [id, { schema, value }] of Object.entries(REQUEST_EXAMPLES)) {
      const r = schema.safeParse(value);
      expect(r.success, `${id}: ${r.error?.message ?? ''}`).toBe(true);
    }
  });

  it('the rerank and prompt-import examples are accepted by the running service', async () => {
    const rerank = await t.app.inject({ method: 'POST', url: '/v1/rerank', payload: REQUEST_EXAMPLES.rerank!.value as object });
    expect(rerank.statusCode).toBe(200);
    expect(rerank.json().ranking).toHaveLength(2); // topN: 2
    const imported = await t.app.inject({
      method: 'POST',
      url: '/admin/v1/prompts',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: REQUEST_EXAMPLES.importPrompt!.value as object,
    });
    expect(imported.statusCode).toBe(201);
  });

  it("a training job's params is the trainer's schema: every parameter, typed, nothing else", () => {
    const name = Object.keys(spec.components.schemas).find((n) => n.startsWith('TrainingParams'));
    const params = spec.components.schemas[name ?? ''];
    expect(params?.additionalProperties).toBe(false);
    expect(Object.keys(params?.properties ?? {}).sort()).toEqual(Object.keys(trainingParamsSchema.shape).sort());
    expect(params?.properties?.epochs).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 10 });
  });

  it('a misspelt parameter is a 400 at the edge, naming it', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/admin/v1/training-jobs',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { domain: 'movies', dataset: { path: 'x.jsonl' }, params: { epochz: 3 } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/params/);
  });
});
