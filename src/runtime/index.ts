/**
 * THE composition root. `createRuntime(config, role)` builds, once per process, the Redis connections, the
 * prompt registry, the serving and training LLM clients, the profile store and the job engine that the role
 * needs. It is the only module (with its ./*.ts parts) that imports concrete adapters (src/llm, src/store,
 * the src/jobs engines, ioredis, bullmq, openai); scripts/check-architecture.ts enforces that.
 *
 * One file per role: ./api.ts (the HTTP API), ./worker.ts (`agp worker`), ./cli.ts (`agp train|eval|prompts`).
 * Shared parts: ./llm.ts (LLM clients, the queue-timeout rule), ./stores.ts (Redis, registry, profiles),
 * ./jobs.ts (job engines), ./closers.ts (the shutdown stack). A new part is added to the role files that
 * need it, nowhere else.
 *
 * Each role's module is imported only when that role is built, so the CLI never loads the API's adapters.
 */
import type { Config } from '../config.js';
import { silentLogger } from '../agp/ports.js';
import type { ApiRuntime } from './api.js';
import type { CliRuntime } from './cli.js';
import type { Role, RuntimeOptions } from './options.js';
import type { WorkerRuntime } from './worker.js';

export type { ApiRuntime } from './api.js';
export type { CliRuntime } from './cli.js';
export type { WorkerRuntime } from './worker.js';
export type { Role, RuntimeOptions, RuntimeOverrides } from './options.js';

/** The runtime each role gets. */
export interface RuntimeByRole {
  api: ApiRuntime;
  worker: WorkerRuntime;
  cli: CliRuntime;
}

/**
 * Builds the runtime of `role` from a parsed Config.
 * - `api`: every adapter, the registry started (first load) and PROMPT_FILE imported before it resolves;
 * - `worker`: checks the configuration (ConfigError) and creates the metrics; `start()` connects;
 * - `cli`: nothing yet; the LLM and the registry are built on first use.
 */
export async function createRuntime<R extends Role>(config: Config, role: R, opts: Partial<RuntimeOptions> = {}): Promise<RuntimeByRole[R]> {
  const options: RuntimeOptions = { logger: opts.logger ?? silentLogger, overrides: opts.overrides };
  const built: RuntimeByRole[Role] =
    role === 'api'
      ? await (await import('./api.js')).createApiRuntime(config, options)
      : role === 'worker'
        ? await (await import('./worker.js')).createWorkerRuntime(config, options)
        : (await import('./cli.js')).createCliRuntime(config, options);
  return built as RuntimeByRole[R];
}
