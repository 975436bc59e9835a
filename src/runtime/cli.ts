/**
 * The `cli` role (`agp train|eval|prompts`). Adapters are built lazily, on first use, and their modules are
 * imported only then: `agp convert` never loads the openai SDK, and only `agp prompts` / `agp eval
 * --prompt-version` connect to Redis.
 */
import type { Config, LlmUse } from '../config.js';
import { ConfigError, llmUnconfiguredReason, pipelineOptions } from '../config.js';
import type { PipelineOptions } from '../agp/pipeline.js';
import type { LlmClient, PromptRegistry } from '../agp/ports.js';
import { systemClock } from '../agp/ports.js';
import type { RuntimeOptions } from './options.js';
import type { DatasetService } from '../experiments/dataset-builder.js';
import { createClosers, type Closers } from './closers.js';

/** What the commands use. */
export interface CliRuntime {
  config: Config;
  pipeline: PipelineOptions;
  /**
   * The LLM client for `use` (built once; it waits for a slot like training does, since every command is
   * batch work). @throws ConfigError when the LLM is not configured for `use` (config.ts's one definition).
   */
  llm(use: LlmUse): Promise<LlmClient>;
  /** The prompt registry on REDIS_URL. @throws ConfigError without REDIS_URL, Error when unreachable. */
  registry(): Promise<PromptRegistry>;
  /**
   * Dataset builds over the exposures and the item catalogue on REDIS_URL (`agp dataset build`).
   * @throws ConfigError without REDIS_URL (the in-memory stores of an API replica are not reachable), Error when unreachable.
   */
  datasets(): Promise<DatasetService>;
  close(): Promise<void>;
}

/** How long a command waits for Redis before giving up. */
const REDIS_READY_MS = 5_000;

/** Builds the CLI role; connects to nothing yet. */
export function createCliRuntime(config: Config, opts: RuntimeOptions): CliRuntime {
  const { logger, overrides = {} } = opts;
  const closers: Closers = createClosers(logger);
  const llms = new Map<LlmUse, Promise<LlmClient>>();
  let registry: Promise<PromptRegistry> | undefined;
  let datasets: Promise<DatasetService> | undefined;

  async function makeDatasets(): Promise<DatasetService> {
    const target = config.redis.cacheTarget;
    if (!target) throw new ConfigError('REDIS_URL is not set: exposures and the item catalogue live in Redis');
    const [{ connectRedis }, { whenReady }, exposureStore, catalogueStore, { createDatasetService }] = await Promise.all([
      import('./stores.js'),
      import('../store/redis-connection.js'),
      import('../store/redis-exposure-store.js'),
      import('../store/redis-item-catalogue.js'),
      import('./datasets.js'),
    ]);
    const redis = connectRedis(target, 'cache', logger, closers);
    if (!(await whenReady(redis, REDIS_READY_MS))) throw new Error(`cannot connect to Redis (REDIS_URL) within ${REDIS_READY_MS / 1000} s`);
    const clock = overrides.clock ?? systemClock;
    const keyPrefix = config.redis.keyPrefix;
    return createDatasetService({
      exposures: exposureStore.createRedisExposureStore({ redis, keyPrefix, clock }),
      catalogue: catalogueStore.createRedisItemCatalogue({ redis, keyPrefix }),
      dataDir: config.training.dataDir,
      clock,
      defaultWindowMs: config.exposures.ttlSeconds * 1_000,
    });
  }

  async function makeLlm(use: LlmUse): Promise<LlmClient> {
    if (overrides.llm) return overrides.llm;
    const { ownLlm, queueTimeoutMs } = await import('./llm.js');
    // Batch work: every command waits for a slot as training does, whatever the use.
    return ownLlm(config, use, { metrics: overrides.metrics, logger, queueTimeoutMs: queueTimeoutMs(config, 'training') }, closers);
  }

  async function makeRegistry(): Promise<PromptRegistry> {
    const target = config.redis.cacheTarget;
    if (!target) throw new ConfigError('REDIS_URL is not set: the prompt registry lives in Redis');
    const [{ connectRedis, createRegistry }, { whenReady }] = await Promise.all([import('./stores.js'), import('../store/redis-connection.js')]);
    const redis = connectRedis(target, 'cache', logger, closers);
    if (!(await whenReady(redis, REDIS_READY_MS))) throw new Error(`cannot connect to Redis (REDIS_URL) within ${REDIS_READY_MS / 1000} s`);
    // One read, no polling or subscription: a command sees the registry as it is when it starts.
    const reg = createRegistry({ config, logger, clock: overrides.clock ?? systemClock, closers, redis });
    await reg.refresh();
    return reg;
  }

  return {
    config,
    pipeline: pipelineOptions(config),
    async llm(use) {
      const reason = llmUnconfiguredReason(config, use);
      if (reason && !overrides.llm) throw new ConfigError(reason);
      let client = llms.get(use);
      if (!client) llms.set(use, (client = makeLlm(use)));
      return client;
    },
    registry: () => (registry ??= makeRegistry()),
    datasets: () => (datasets ??= makeDatasets()),
    async close() {
      await closers.closeAll();
    },
  };
}
