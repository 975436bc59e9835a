/**
 * API entry point: loadConfig → logger → createRuntime(config, 'api') → buildApp → listen, and a graceful SIGTERM:
 * stop accepting, close idle sockets and those still sending a request, finish in-flight requests, drain background refreshes (aborting the ones still running
 * one second before SHUTDOWN_GRACE_MS ends), close Redis.
 */
import { pino } from 'pino';
import { ConfigError, llmUnconfiguredReason, loadConfig } from './config.js';
import { createRuntime } from './runtime/index.js';
import { buildApp } from './app.js';
import { loggerOptions } from './observability/logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  // Asynchronous stdout: a synchronous write per log line was a measurable share of request CPU (see
  // docs/performance.md). Buffered lines are flushed synchronously before every exit below.
  const destination = pino.destination({ dest: 1, sync: false });
  const logger = pino(loggerOptions({ level: config.logLevel, logUserText: config.logUserText }), destination);
  const exit = (code: number): never => {
    destination.flushSync();
    process.exit(code);
  };
  const runtime = await createRuntime(config, 'api', { logger });
  const app = await buildApp(runtime, { logger });
  await app.listen({ port: config.port, host: config.host });
  const unconfigured = llmUnconfiguredReason(config, 'serving');
  if (unconfigured) logger.warn(`${unconfigured}: serving baseline orders with fallback llm_unconfigured`);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    const graceEndsAt = Date.now() + config.http.shutdownGraceMs;
    const force = setTimeout(() => {
      logger.error('shutdown grace period exceeded; exiting');
      exit(1);
    }, config.http.shutdownGraceMs);
    force.unref();
    // Last resort, a second before the forced exit: drop every connection still open (a request whose
    // handler outlived the grace period), so close() resolves and the shutdown below can still run.
    // Sockets still *sending* a request were already closed when close() began (src/http/base-app.ts).
    const cut = setTimeout(() => app.server.closeAllConnections(), Math.max(0, config.http.shutdownGraceMs - 1_000));
    cut.unref();
    app
      .close()
      // Background profile refreshes serve no one: let them finish while there is time, but abort them with
      // a second of the grace period left, so a hung LLM cannot turn a clean exit into a forced one.
      .then(() => runtime.profiles.drain({ abortAfterMs: graceEndsAt - Date.now() - 1_000 }))
      .then(() => runtime.close())
      .then(() => {
        logger.info('shutdown complete');
        exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`fatal: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
