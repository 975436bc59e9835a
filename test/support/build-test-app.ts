/**
 * Builds the real application for tests (real config parsing, the real API runtime, real plugins) and
 * returns it un-listened, for app.inject. Mirrors src/server.ts without the process wiring.
 */
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { createRuntime, type ApiRuntime, type RuntimeOverrides } from '../../src/runtime/index.js';
import { buildApp } from '../../src/app.js';
import { loggerOptions } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';

/** A built app and its runtime; `close` shuts both. */
export interface TestApp {
  app: FastifyInstance;
  /** The API runtime (createRuntime(config, 'api')). */
  container: ApiRuntime;
  /** Log lines captured when `captureLogs` is set. */
  logs: string[];
  close(): Promise<void>;
}

/** Options for a test app: environment variables (as strings) and runtime overrides. */
export interface TestAppOptions extends RuntimeOverrides {
  env?: Record<string, string | undefined>;
  captureLogs?: boolean;
}

/** Builds the real app from an environment; no network listener is opened. */
export async function buildTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const config = loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test', MAX_EVENT_LOOP_DELAY_MS: '0', ...opts.env });
  const logs: string[] = [];
  const logger = opts.captureLogs
    ? pino(loggerOptions({ level: config.logLevel === 'silent' ? 'debug' : config.logLevel, logUserText: config.logUserText }), {
        write: (line: string) => void logs.push(line),
      })
    : pino({ level: 'silent' });
  const { env: _env, captureLogs: _capture, ...overrides } = opts;
  const container = await createRuntime(config, 'api', { logger, overrides: { metrics: createMetrics({ defaultMetrics: false }), ...overrides } });
  const app = await buildApp(container, { logger });
  await app.ready();
  return {
    app,
    container,
    logs,
    async close() {
      await app.close();
      await container.close();
    },
  };
}
