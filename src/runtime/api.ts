/**
 * The `api` role: everything `buildApp` serves, wired once. Redis (when configured) backs the profile store,
 * the prompt registry and the rate limiter; serving and training get separate LLM clients; the job engine is
 * BullMQ or in-process (./jobs.ts).
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { pipelineOptions } from '../config.js';
import type { Clock, LlmClient, Logger, ProfileStore, RankingCache } from '../agp/ports.js';
import { systemClock } from '../agp/ports.js';
import type { PipelineOptions } from '../agp/pipeline.js';
import { createProfileService, type ProfileService } from '../agp/profile-service.js';
import { createReranker, type Reranker } from '../agp/reranker.js';
import { createResultCache, type ResultCache } from '../agp/ranking-cache.js';
import { createTextSanitiser } from '../agp/untrusted-text.js';
import { BUILTIN_PROMPT_VERSION, DEFAULT_DOMAIN } from '../agp/types.js';
import type { TrainingJobs } from '../jobs/training-jobs.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import type { ManagedPromptRegistry } from '../store/prompt-registry.js';
import { pingRedis, type RedisClient } from '../store/redis-connection.js';
import { createExperimentsRuntime, type ExperimentsRuntime } from './experiments.js';
import { createTrainingJobs } from './jobs.js';
import { ownLlm, TRAINING_LLM_QUEUE_TIMEOUT_MS } from './llm.js';
import type { RuntimeOptions } from './options.js';
import { createClosers } from './closers.js';
import { createApiKeys } from './api-keys.js';
import type { ApiKeyService } from '../api-keys/api-key-service.js';
import { setUpTracing, traceRedisStore } from './tracing.js';
import { createLoopAdmin } from './loop-admin.js';
import { createLoopParts } from './loop.js';
import type { LoopService } from '../loop/loop-service.js';
import type { LoopStore } from '../loop/ports.js';
import { connectRedis, createProfileStore, createRankingCacheStore, createRegistry, importPromptFile } from './stores.js';

/** Everything the API serves, wired. */
export interface ApiRuntime {
  config: Config;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  /** The serving client: sheds load after LLM_QUEUE_TIMEOUT_MS. */
  llm: LlmClient;
  registry: ManagedPromptRegistry;
  profileStore: ProfileStore;
  profiles: ProfileService;
  /** The result cache's store; built even with RERANK_CACHE_TTL_SECONDS=0, so erasure still clears entries of an earlier setting. */
  rankingCache: RankingCache;
  /** The read-through result cache; undefined when RERANK_CACHE_TTL_SECONDS is 0. */
  resultCache?: ResultCache | undefined;
  reranker: Reranker;
  pipeline: PipelineOptions;
  jobs?: TrainingJobs | undefined;
  /** Exposures, events, experiments and user erasure. */
  experiments: ExperimentsRuntime;
  /** Defined when Redis is configured; used by /readyz. */
  pingRedis?: (() => Promise<boolean>) | undefined;
  /** Redis connection for @fastify/rate-limit, when Redis is configured. */
  rateLimitRedis?: Redis | undefined;
  /** API keys for /v1 (API_KEYS, API_KEYS_FILE); undefined when keys are off and /v1 is open. */
  apiKeys?: ApiKeyService | undefined;
  /** The loop's admin service (issue 11): schedules, runs, pins, audit trail. */
  loop: LoopService;
  /** Drains background work and closes every connection. */
  close(): Promise<void>;
}

/** Builds the API role. Starts the registry (first load) before returning. */
export async function createApiRuntime(config: Config, opts: RuntimeOptions): Promise<ApiRuntime> {
  const { logger, overrides = {} } = opts;
  const clock = overrides.clock ?? systemClock;
  const metrics = overrides.metrics ?? createMetrics();
  const closers = createClosers(logger);
  // First on the stack, so it closes last and exports the spans of the shutdown too.
  setUpTracing(config.tracing, closers);

  const target = config.redis.cacheTarget;
  let redis: RedisClient | undefined;
  let subscriber: RedisClient | undefined;
  let recorderRedis: RedisClient | undefined;
  if (target) {
    redis = connectRedis(target, 'cache', logger, closers);
    subscriber = connectRedis(target, 'subscriber', logger, closers);
    // Exposures, running sums and events: off the profile lookups' connection.
    recorderRedis = connectRedis(target, 'recorder', logger, closers);
  }
  const llm = overrides.llm ?? ownLlm(config, 'serving', { metrics, logger }, closers);
  const profileStore = traceRedisStore(createProfileStore(config, clock, redis), 'profile_store', redis !== undefined);
  const rankingCache = createRankingCacheStore(config, clock, redis);

  // An emptied Redis (restart without persistence, FLUSHALL) loses the active versions: count it, show it on
  // /readyz (registry.lostDomains), and restore PROMPT_FILE's versions when there is one.
  let reimport: Promise<void> | undefined;
  const onLostChange = (lost: readonly string[], newlyLost: readonly string[]) => {
    metrics.promptRegistryLost.set(lost.length);
    if (newlyLost.length === 0) return;
    metrics.promptRegistryResets.inc();
    if (!config.prompts.file || reimport) return;
    logger.warn({ file: config.prompts.file, domains: newlyLost }, 'prompt registry lost its active versions; re-importing PROMPT_FILE');
    reimport = importPromptFile(config, registry, logger)
      .catch((err: unknown) => logger.error({ err: String(err) }, 'PROMPT_FILE re-import failed; serving the built-in prompt'))
      .finally(() => {
        reimport = undefined;
      });
  };
  const registry = createRegistry({ config, logger, clock, closers, redis, subscriber, onLostChange, onActiveChange: (active) => metrics.setActivePrompts(active) });
  metrics.setActivePrompts({ [DEFAULT_DOMAIN]: BUILTIN_PROMPT_VERSION });
  await registry.start();
  await importPromptFile(config, registry, logger);

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
  const resultCache =
    config.resultCache.ttlSeconds > 0
      ? createResultCache({ store: rankingCache, ttlSeconds: config.resultCache.ttlSeconds, clock, logger, telemetry: metrics.telemetry })
      : undefined;
  const reranker = createReranker({
    llm,
    registry,
    profiles,
    clock,
    logger,
    telemetry: metrics.telemetry,
    pipeline: { ...pipeline, sanitiser: createTextSanitiser() },
    candidateFormat: config.rerank.candidateFormat,
    rerankModel: config.llm.models.rerank,
    resultCache,
  });

  // Shadow candidates rerank through the same pipeline, registry and profile store, but on their own LLM client
  // (own concurrency gate and breaker: off-path work never takes serving's slots or trips its breaker), with no
  // result cache and no serving telemetry. Background work: it waits for a slot instead of shedding. No LLM
  // metrics either: the breaker and in-flight gauges are unlabelled, and a candidate's open breaker must not read
  // as serving's (agp_shadow_llm_calls_total counts its calls).
  const shadowLlm = overrides.llm ?? ownLlm(config, 'serving', { logger, queueTimeoutMs: TRAINING_LLM_QUEUE_TIMEOUT_MS }, closers);
  const shadowProfiles = createProfileService({ store: profileStore, maxBackgroundRefreshes: 1, clock, logger, freshness: config.profiles.freshness, ttlSeconds: config.profiles.ttlSeconds, refreshDeadlineMs: config.profiles.refreshDeadlineMs });
  // Closed after the experiments (which abort the candidates in flight), before the shadow LLM client.
  closers.push(() => shadowProfiles.drain({ abortAfterMs: 1_000 }));
  const shadowReranker = createReranker({
    llm: shadowLlm,
    registry,
    profiles: shadowProfiles,
    clock,
    logger,
    pipeline: { ...pipeline, sanitiser: createTextSanitiser() },
    candidateFormat: config.rerank.candidateFormat,
    rerankModel: config.llm.models.rerank,
  });

  const experiments = await createExperimentsRuntime({ config, clock, logger, metrics, closers, redis, recorderRedis, reranker, shadowReranker, registry, profileStore, rankingCache });

  const apiKeys = await createApiKeys({ config, clock, logger, metrics, closers, redis, store: overrides.apiKeyStore });

  let jobs: TrainingJobs | undefined;
  let trainingLlm: LlmClient | undefined;
  // The pins live in the loop's store, built below (it needs the jobs); read lazily by finished jobs.
  const pins: { store?: Pick<LoopStore, 'getPin'> } = {};
  const isPinned = async (domain: string) => (await pins.store?.getPin(domain)) != null;
  if (overrides.jobs !== false) {
    // Training is batch work: it waits for an LLM slot instead of shedding like serving, so it gets its
    // own client (own concurrency gate and breaker) and never starves or trips the serving path.
    trainingLlm = overrides.llm ?? ownLlm(config, 'training', { metrics, logger }, closers);
    jobs = await createTrainingJobs({
      config,
      logger,
      clock,
      metrics,
      llm: trainingLlm,
      registry,
      pipeline,
      redisTarget: config.redis.queueTarget,
      worker: overrides.workerTuning,
      isPinned,
    });
    const j = jobs;
    if (j) closers.push(() => j.close());
  }

  // The loop's store and queue (issue 11); its worker runs where the training worker does (WORKER_ENABLED
  // with an LLM), on the same services the admin API uses. Without a queue Redis the scheduler is null and
  // schedules answer 409 SCHEDULES_UNAVAILABLE.
  let loopParts = overrides.loop;
  if (!loopParts) {
    const services =
      config.training.workerEnabled && jobs && trainingLlm?.configured
        ? { registry, experiments: experiments.admin, datasets: experiments.datasets, jobs, llm: trainingLlm, pipeline }
        : undefined;
    const built = createLoopParts({ config, logger, clock, metrics, redis, services, workerTuning: overrides.workerTuning });
    closers.push(() => built.close());
    loopParts = built;
  }
  pins.store = loopParts.store;
  const loop = await createLoopAdmin({ config, clock, logger, metrics, parts: loopParts, registry, experiments: experiments.admin, jobs });

  return {
    config,
    logger,
    clock,
    metrics,
    llm,
    registry,
    profileStore,
    profiles,
    rankingCache,
    resultCache,
    reranker,
    pipeline,
    jobs,
    experiments,
    apiKeys,
    loop,
    pingRedis: redis ? () => pingRedis(redis, 500) : undefined,
    rateLimitRedis: redis && !('nodes' in redis) ? (redis as Redis) : undefined,
    async close() {
      await profiles.drain();
      await resultCache?.drain();
      await reimport;
      // Last created, first closed: jobs, then the registry, then the LLM clients and Redis connections.
      await closers.closeAll();
    },
  };
}
