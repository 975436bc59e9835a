/**
 * Property: malformed request bodies on every route always get a 4xx JSON error with a code, never a 5xx.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ env: { ADMIN_TOKEN: 'fuzz-admin-token-0123456789' } });
});
afterAll(async () => t?.close());

const item = fc.record({ id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)), title: fc.oneof(fc.string(), fc.integer()) }, { requiredKeys: [] });
const nearlyValid = fc.record(
  {
    userId: fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null)),
    history: fc.oneof(fc.array(item, { maxLength: 5 }), fc.string(), fc.constant(null)),
    candidates: fc.oneof(fc.array(item, { maxLength: 5 }), fc.constant([]), fc.dictionary(fc.string(), fc.string())),
    topN: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double(), fc.string()),
    method: fc.oneof(fc.constantFrom('agp', 'direct', 'cot', 'baseline'), fc.string()),
    deadlineMs: fc.oneof(fc.integer({ min: -10, max: 10 }), fc.string()),
    domain: fc.oneof(fc.string(), fc.constant('default')),
    includeProfile: fc.oneof(fc.boolean(), fc.string()),
  },
  { requiredKeys: [] },
);
const anyJson = fc.oneof(fc.jsonValue(), nearlyValid);
const rawBody = fc.oneof(
  anyJson.map((v) => JSON.stringify(v)),
  fc.string(),
  fc.constantFrom('{', '[', '{"userId":', 'null', '', '\u0000', '{"a":1}}'),
);

const routes: Array<[string, string]> = [
  ['POST', '/v1/rerank'],
  ['DELETE', '/v1/profiles/x'],
  ['POST', '/admin/v1/prompts'],
  ['POST', '/admin/v1/training-jobs'],
  ['POST', '/admin/v1/prompts/default/v1/activate'],
];

describe('fuzzed request bodies', () => {
  it('never produce a 5xx; every error is JSON with a code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), rawBody, fc.boolean(), async ([method, url], payload, auth) => {
        const res = await t.app.inject({
          method: method as 'POST',
          url,
          headers: { 'content-type': 'application/json', ...(auth ? { authorization: 'Bearer fuzz-admin-token-0123456789' } : {}) },
          payload,
        });
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode >= 400) {
          const err = res.json().error;
          expect(typeof err.code).toBe('string');
          expect(typeof err.requestId).toBe('string');
        }
      }),
      { numRuns: 1500, seed: 20261126 },
    );
  });
});
