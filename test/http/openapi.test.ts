/** openapi/openapi.json is generated from the routes; this fails when it drifts. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { OPENAPI_PATH, renderOpenApi } from '../../testkit/openapi-document.js';

describe('openapi/openapi.json', () => {
  it('matches the routes (run `npm run openapi:generate` after changing a schema)', async () => {
    const checkedIn = await readFile(OPENAPI_PATH, 'utf8');
    const generated = await renderOpenApi();
    expect(JSON.parse(checkedIn)).toEqual(JSON.parse(generated));
  });

  it('documents every public route', async () => {
    const spec = JSON.parse(await readFile(OPENAPI_PATH, 'utf8'));
    for (const p of ['/v1/rerank', '/v1/profiles/{userId}', '/healthz', '/readyz', '/admin/v1/prompts', '/admin/v1/training-jobs', '/admin/v1/training-jobs/{id}', '/admin/v1/prompts/{domain}/{version}/activate']) {
      expect(Object.keys(spec.paths)).toContain(p);
    }
  });
});
