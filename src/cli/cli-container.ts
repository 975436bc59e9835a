/**
 * The CLI's small composition root. It reads the same environment as the service (LLM_*, REDIS_URL, …)
 * through loadConfig, and builds adapters lazily: `agp convert` never loads the openai SDK, and only
 * `agp prompts` / `agp eval --prompt-version` connect to Redis.
 */
import type { Config } from '../config.js';
import { llmConfigured, loadConfig, pipelineOptions } from '../config.js';
import type { PipelineOptions } from '../agp/pipeline.js';
import type { LlmClient, PromptRegistry, PromptVersion } from '../agp/ports.js';
import { BUILTIN_ACTIVE_PROMPT, BUILTIN_PROFILE_PROMPT } from '../agp/prompts.js';
import { BUILTIN_PROMPT_VERSION, DEFAULT_DOMAIN, DEFAULT_HISTORY_LENGTH } from '../agp/types.js';
import { UsageError } from './cli-io.js';

/** What the commands use. */
export interface CliContainer {
  config: Config;
  pipeline: PipelineOptions;
  /** The configured LLM client. @throws UsageError when no endpoint is configured. */
  llm(): Promise<LlmClient>;
  /** The prompt registry on REDIS_URL. @throws UsageError without REDIS_URL, Error when unreachable. */
  registry(): Promise<PromptRegistry>;
  close(): Promise<void>;
}

/** The built-in prompt as a version (parent of a first training run). */
export function builtinPromptVersion(domain = DEFAULT_DOMAIN): PromptVersion {
  return {
    domain,
    version: BUILTIN_PROMPT_VERSION,
    text: BUILTIN_PROFILE_PROMPT,
    parentVersion: null,
    createdAt: new Date(0).toISOString(),
    historyLength: DEFAULT_HISTORY_LENGTH,
  };
}

/**
 * Builds the container from the environment.
 * @throws ConfigError (one line naming the variable) for a bad environment.
 */
export function createCliContainer(env: Record<string, string | undefined> = process.env): CliContainer {
  const config = loadConfig(env);
  const closers: Array<() => Promise<unknown>> = [];
  let llm: Promise<LlmClient> | undefined;
  let registry: Promise<PromptRegistry> | undefined;

  async function makeLlm(): Promise<LlmClient> {
    if (!llmConfigured(config)) {
      throw new UsageError('no LLM is configured: set LLM_BASE_URL (or LLM_API_KEY) and LLM_MODEL');
    }
    const { TRAINING_LLM_QUEUE_TIMEOUT_MS, createLlmFromConfig } = await import('../llm/llm-from-config.js');
    // Training is a batch job: wait for a concurrency slot instead of shedding load like serving does.
    const client = createLlmFromConfig(config, { queueTimeoutMs: Math.max(config.llm.queueTimeoutMs, TRAINING_LLM_QUEUE_TIMEOUT_MS) });
    closers.push(() => client.close());
    return client;
  }

  async function makeRegistry(): Promise<PromptRegistry> {
    const target = config.redis.cacheTarget;
    if (!target) throw new UsageError('REDIS_URL is not set: the prompt registry lives in Redis');
    const [{ createRedis, whenReady }, { createRedisPromptStorage }, { createPromptRegistry }] = await Promise.all([
      import('../store/redis-connection.js'),
      import('../store/redis-prompt-storage.js'),
      import('../store/prompt-registry.js'),
    ]);
    const redis = createRedis(target, { role: 'cache' });
    closers.push(() => redis.quit().catch(() => redis.disconnect()));
    if (!(await whenReady(redis, 5_000))) throw new Error('cannot connect to Redis (REDIS_URL) within 5 s');
    const reg = createPromptRegistry({
      storage: createRedisPromptStorage({ redis, keyPrefix: config.redis.keyPrefix }),
      builtin: BUILTIN_ACTIVE_PROMPT,
      refreshMs: config.prompts.refreshMs,
    });
    closers.unshift(() => reg.close());
    await reg.refresh();
    return reg;
  }

  return {
    config,
    pipeline: pipelineOptions(config),
    llm: () => (llm ??= makeLlm()),
    registry: () => (registry ??= makeRegistry()),
    async close() {
      for (const c of closers) await c().catch(() => undefined);
    },
  };
}
