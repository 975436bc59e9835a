/**
 * Builds the OpenAPI document from the real routes (zod schemas), with every route registered
 * (admin included) and no I/O: no Redis, no LLM.
 */
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createRuntime } from '../src/runtime/index.js';
import { buildApp } from '../src/app.js';
import { createMetrics } from '../src/observability/metrics.js';
import { createMemoryApiKeyStore } from '../src/store/memory-api-key-store.js';

/** Path of the checked-in spec, relative to the repo root. */
export const OPENAPI_PATH = 'openapi/openapi.json';

/** Returns the spec as pretty JSON with a trailing newline (the checked-in format). */
export async function renderOpenApi(): Promise<string> {
  const config = loadConfig({ LOG_LEVEL: 'silent', ADMIN_TOKEN: 'openapi-generation-token', MAX_EVENT_LOOP_DELAY_MS: '0' });
  const logger = pino({ level: 'silent' });
  const container = await createRuntime(config, 'api', { logger, overrides: { metrics: createMetrics({ defaultMetrics: false }), apiKeyStore: createMemoryApiKeyStore() } });
  const app = await buildApp(container, { logger });
  try {
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
    await container.close();
  }
}
