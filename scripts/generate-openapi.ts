/**
 * `npm run openapi:generate` writes openapi/openapi.json from the routes;
 * `--check` exits 1 when the checked-in file has drifted.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { OPENAPI_PATH, renderOpenApi } from './openapi-document.js';

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
  process.stdout.write(`wrote ${OPENAPI_PATH}\n`);
}
