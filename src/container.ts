/**
 * The one composition root: builds the concrete adapters (Redis, LLM, queue, registry) and the services
 * from a Config. Nothing else in src/ imports the concrete adapters (the CLI has its own small root).
 */
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { pipelineOptions } from './config.js';
import type { Clock, LlmClient, Logger, ProfileStore } from './agp/ports.js';
import { systemClock } from './agp/ports.js';
import type { PipelineOptions } from './agp/pipeline.js';
import { BUILTIN_ACTIVE_PROMPT } from './agp/prompts.js';
import { createProfileService, type ProfileService } from './agp/profile-service.js';
import { createReranker, type Reranker } from './agp/reranker.js';
import { createTextSanitiser } from './agp/untrusted-text.js';
import { BUILTIN_PROMPT_VERSION, DEFAULT_DOMAIN } from './agp/types.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { TRAINING_LLM_QUEUE_TIMEOUT_MS, createLlmFromConfig } from './llm/llm-from-config.js';
import { createRedis, pingRedis, type RedisClient } from './store/redis-connection.js';
import { createMemoryProfileStore } from './store/memory-profile-store.js';
import { createRedisProfileStore } from './store/redis-profile-store.js';
import { createPromptRegistry, type ManagedPromptRegistry } from './store/prompt-registry.js';
import { createMemoryPromptStorage } from './store/memory-prompt-storage.js';
import { createRedisPromptStorage } from './store/redis-prompt-storage.js';
import { loadPromptFile, newestPerDomain } from './store/prompt-file.js';
import type { TrainingJobs } from './jobs/training-jobs.js';
import { createTrainingJobs } from './jobs/create-training-jobs.js';

/** Everything the app and the worker need, wired. */
export interface Container {
  config: Config;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  llm: LlmClient;
  registry: ManagedPromptRegistry;
  profileStore: ProfileStore;
  profiles: ProfileService;
  reranker: Reranker;
  pipeline: PipelineOptions;
  jobs?: TrainingJobs | undefined;
  /** Defined when Redis is configured; used by /readyz. */
  pingRedis?: (() => Promise<boolean>) | undefined;
  /** Redis connection for @fastify/rate-limit, when Redis is configured. */
  rateLimitRedis?: Redis | undefined;
  /** Drains background work and closes every connection. */
  close(): Promise<void>;
}

/** Test and tooling overrides (an in-process LLM, a fake clock, no default metrics). */
export interface ContainerOverrides {
  llm?: LlmClient;
  clock?: Clock;
  metrics?: Metrics;
  /** Set false to build without a training job service (the HTTP tests of serving). */
  jobs?: boolean;
}

/** Creates every adapter and service. Starts the registry (first load) before returning. */
export async function createContainer(config: Config, logger: Logger, overrides: ContainerOverrides = {}): Promise<Container> {
  const clock = overrides.clock ?? systemClock;
  const metrics = overrides.metrics ?? createMetrics();
  const closers: Array<() => Promise<unknown>> = [];

  const target = config.redis.cacheTarget;
  let redis: RedisClient | undefined;
  let subscriber: RedisClient | undefined;
  if (target) {
    redis = createRedis(target, { role: 'cache', logger });
    subscriber = createRedis(target, { role: 'subscriber', logger });
    const r = redis;
    const s = subscriber;
    closers.push(async () => {
      await Promise.allSettled([r.quit(), s.quit()]);
    });
  }

  let llm: LlmClient;
  if (overrides.llm) llm = overrides.llm;
  else {
    const client = createLlmFromConfig(config, { metrics, logger });
    closers.push(() => client.close());
    llm = client;
  }
  const profileStore: ProfileStore = redis
    ? createRedisProfileStore({ redis, keyPrefix: config.redis.keyPrefix })
    : createMemoryProfileStore({ maxEntries: config.profiles.maxEntries, clock });

  const storage = redis
    ? createRedisPromptStorage({ redis, subscriber, keyPrefix: config.redis.keyPrefix, logger })
    : createMemoryPromptStorage();
  const registry = createPromptRegistry({
    storage,
    builtin: BUILTIN_ACTIVE_PROMPT,
    refreshMs: config.prompts.refreshMs,
    clock,
    logger,
    onActiveChange: (active) => metrics.setActivePrompts(active),
  });
  metrics.setActivePrompts({ [DEFAULT_DOMAIN]: BUILTIN_PROMPT_VERSION });
  await registry.start();
  if (config.prompts.file) {
    // PROMPT_FILE pins prompts from git: import them and activate the newest per domain.
    const versions = await loadPromptFile(config.prompts.file);
    for (const v of versions) await registry.put(v);
    for (const v of newestPerDomain(versions)) await registry.activate(v.domain, v.version);
    logger.info({ file: config.prompts.file, versions: versions.length }, 'prompts loaded from PROMPT_FILE');
  }
  closers.push(() => registry.close());

  const pipeline = pipelineOptions(config);
  const profiles = createProfileService({
    store: profileStore,
    // Background refreshes may use a quarter of the LLM slots, so foreground reranks never starve.
    maxBackgroundRefreshes: Math.max(1, Math.floor(config.llm.maxConcurrency / 4)),
    clock,
    logger,
    telemetry: metrics.telemetry,
    freshness: config.profiles.freshness,
    ttlSeconds: config.profiles.ttlSeconds,
    refreshDeadlineMs: config.profiles.refreshDeadlineMs,
  });
  // Serving owns its sanitiser memo; each training run makes its own (withTextSanitiser), so they never share one.
  const reranker = createReranker({ llm, registry, profiles, clock, logger, telemetry: metrics.telemetry, pipeline: { ...pipeline, sanitiser: createTextSanitiser() } });

  let jobs: TrainingJobs | undefined;
  if (overrides.jobs !== false) {
    // Training is batch work: it waits for an LLM slot instead of shedding like serving, so it gets its
    // own client (own concurrency gate and breaker) and never starves or trips the serving path.
    let trainingLlm = llm;
    if (!overrides.llm) {
      const client = createLlmFromConfig(config, { metrics, logger, queueTimeoutMs: TRAINING_LLM_QUEUE_TIMEOUT_MS });
      closers.push(() => client.close());
      trainingLlm = client;
    }
    jobs = await createTrainingJobs({ config, logger, clock, metrics, llm: trainingLlm, registry, pipeline, redisTarget: config.redis.queueTarget });
  }
  if (jobs) closers.push(() => jobs.close());

  return {
    config,
    logger,
    clock,
    metrics,
    llm,
    registry,
    profileStore,
    profiles,
    reranker,
    pipeline,
    jobs,
    pingRedis: redis ? () => pingRedis(redis, 500) : undefined,
    rateLimitRedis: redis && !('nodes' in redis) ? (redis as Redis) : undefined,
    async close() {
      await profiles.drain();
      // Last created, first closed: jobs, then the registry, then the Redis connections.
      for (const close of [...closers].reverse()) await close().catch((err: unknown) => logger.warn({ err: String(err) }, 'close failed'));
    },
  };
}
