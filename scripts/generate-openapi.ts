/**
 * `npm run openapi:generate` writes openapi/openapi.json from the routes and regenerates the typed client
 * types the contract test uses (test/contract/api-types.d.ts); `--check` exits 1 when the spec has drifted.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { OPENAPI_PATH, renderOpenApi } from '../testkit/openapi-document.js';
import { API_TYPES_URL, generateApiTypes } from '../testkit/generate-api-types.js';

const spec = await renderOpenApi();
if (process.argv.includes('--check')) {
  const current = await readFile(OPENAPI_PATH, 'utf8').catch(() => '');
  if (current !== spec) {
    process.stderr.write(`${OPENAPI_PATH} is out of date: run npm run openapi:generate\n`);
    process.exit(1);
  }
  process.stdout.write(`${OPENAPI_PATH} is up to date\n`);
} else {
  await writeFile(OPENAPI_PATH, spec);
  await writeFile(API_TYPES_URL, await generateApiTypes());
  process.stdout.write(`wrote ${OPENAPI_PATH} and ${fileURLToPath(API_TYPES_URL)}\n`);
}
