/**
 * The experiments part of the API role (issue 10), wired once: the exposure and experiment stores (Redis
 * when configured, bounded memory otherwise), the exposure recorder, event ingestion, the running-experiment
 * snapshot, experiment-aware serving, the admin service with its periodic look, and user erasure.
 */
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config.js';
import type { Clock, Logger, ProfileStore, PromptRegistry, RankingCache } from '../agp/ports.js';
import type { Reranker } from '../agp/reranker.js';
import { UnavailableError } from '../errors.js';
import { createEventIngestion, type EventIngestion } from '../experiments/event-ingestion.js';
import { createExperimentAdmin, type ExperimentAdmin, type ExperimentAdminDeps } from '../experiments/experiment-admin.js';
import { eventSums } from '../experiments/experiment-sums.js';
import { createExperimentServing, type ExperimentServing } from '../experiments/experiment-serving.js';
import { createExposureRecorder, type ExposureRecorder } from '../experiments/exposure-recorder.js';
import type { ExperimentRecord, ExperimentStore, ExposureStore } from '../experiments/ports.js';
import { createRunningExperiments, type RunningExperiments } from '../experiments/running-experiments.js';
import { createExperimentGauges } from '../observability/experiment-gauges.js';
import type { Metrics } from '../observability/metrics.js';
import { createMemoryExperimentStore } from '../store/memory-experiment-store.js';
import { createMemoryExposureStore } from '../store/memory-exposure-store.js';
import { createRedisExperimentStore } from '../store/redis-experiment-store.js';
import { createRedisExposureStore } from '../store/redis-exposure-store.js';
import { traceRedisStore } from './tracing.js';
import type { RedisClient } from '../store/redis-connection.js';
import type { Closers } from './closers.js';
import { createCatalogueRecorder, type CatalogueRecorder, type ItemCatalogue } from '../experiments/item-catalogue.js';
import type { DatasetService } from '../experiments/dataset-builder.js';
import { createMemoryItemCatalogue } from '../store/memory-item-catalogue.js';
import { createRedisItemCatalogue } from '../store/redis-item-catalogue.js';
import { createDatasetService } from './datasets.js';
import { createShadowScheduler, type ShadowScheduler } from '../experiments/shadow-scheduler.js';
import { SHADOW_MAX_BYTES, SHADOW_MAX_RECORDS, type ShadowStore } from '../experiments/shadow-types.js';
import { createMemoryShadowStore } from '../store/memory-shadow-store.js';
import { createRedisShadowStore } from '../store/redis-shadow-store.js';

/**
 * How much longer than the recorder's gather an event call waits for exposures it did not find: the write of
 * a gathered batch (one script call) and a Redis hiccup's worth.
 */
const LATE_EXPOSURE_MARGIN_MS = 200;

/** Everything of the experiments the API serves. */
export interface ExperimentsRuntime {
  exposures: ExposureStore;
  experimentStore: ExperimentStore;
  recorder: ExposureRecorder;
  ingestion: EventIngestion;
  running: RunningExperiments;
  serving: ExperimentServing;
  admin: ExperimentAdmin;
  /** Item id → latest title/text seen (issue 11), and its off-request-path feeder. */
  catalogue: ItemCatalogue;
  catalogueRecorder: CatalogueRecorder;
  /** Training sets from live traffic (POST /admin/v1/datasets). */
  datasets: DatasetService;
  /** Shadow scoring: the off-request-path scheduler and its records and counters. */
  shadow: ShadowScheduler;
  shadowStore: ShadowStore;
  /**
   * DELETE /v1/users/{userId}: profiles, cached rankings, exposures and events; UnavailableError when a store
   * fails. The count of cached rankings removed is not reported (the response contract predates the cache).
   */
  eraseUser(userId: string): Promise<{ profiles: number; exposures: number }>;
}

/** What the experiments are built from (the rest of the API role). */
export interface ExperimentsParts {
  config: Config;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  closers: Closers;
  redis?: RedisClient | undefined;
  /** The exposure store's connection (role `recorder`: auto-pipelined); `redis` when absent. */
  recorderRedis?: RedisClient | undefined;
  reranker: Reranker;
  /** The shadow candidates' reranker: the same pipeline on its own LLM client (default: `reranker`). */
  shadowReranker?: Reranker | undefined;
  registry: PromptRegistry;
  profileStore: ProfileStore;
  /** The result cache's store: the user's cached rankings go with the user. */
  rankingCache?: RankingCache | undefined;
}

/** The experiments admin service's settings from config, the same in every role that builds one (api, worker's loop). */
export function experimentAdminSettings(config: Config): Pick<ExperimentAdminDeps, 'newId' | 'maxRunning' | 'defaultGuardrails' | 'statistics'> {
  return {
    newId: () => `exp_${randomUUID()}`,
    maxRunning: config.experiments.maxRunning,
    defaultGuardrails: config.experiments.guardrails,
    statistics: { tau: config.experiments.minEffect },
  };
}

/** Builds and starts the experiments part (first snapshot read, look timer). */
export async function createExperimentsRuntime(p: ExperimentsParts): Promise<ExperimentsRuntime> {
  const { config, clock, logger, metrics } = p;
  const prefix = config.redis.keyPrefix;
  const exposureRedis = p.recorderRedis ?? p.redis;
  const exposures = exposureRedis
    ? traceRedisStore(createRedisExposureStore({ redis: exposureRedis, keyPrefix: prefix, clock }), 'exposure_store', true)
    : createMemoryExposureStore({ maxEntries: config.exposures.memoryMax, maxBytes: config.exposures.memoryMaxBytes, clock });
  const experimentStore = p.redis ? createRedisExperimentStore({ redis: p.redis, keyPrefix: prefix }) : createMemoryExperimentStore({ clock });
  const gauges = createExperimentGauges(metrics.experiments);

  const recorder = createExposureRecorder({
    store: exposures,
    ttlSeconds: config.exposures.ttlSeconds,
    sampleRate: config.exposures.sampleRate,
    gatherMs: config.exposures.gatherMs,
    onOutcome: (outcome, n) => metrics.exposuresRecorded.inc({ outcome }, n),
  });

  const running = createRunningExperiments({
    store: experimentStore,
    prompts: p.registry,
    logger,
    pollMs: config.experiments.pollMs,
    onLoaded: (list) => gauges.loaded(list),
    onLoadError: () => metrics.experiments.loadErrors.inc(),
  });

  // Events arrive for up to EXPOSURE_TTL_SECONDS, also after an experiment stopped: its definition (mode and
  // arm order, which never change) is looked up by id, from the snapshot or a small cache of stored ones.
  const definitions = new LRUCache<string, ExperimentRecord>({ max: 1_000 });
  const definitionOf = async (id: string): Promise<ExperimentRecord | null> => {
    const live = running.all().find((e) => e.record.id === id)?.record;
    if (live) return live;
    const cached = definitions.get(id);
    if (cached) return cached;
    const stored = await experimentStore.get(id);
    if (stored) definitions.set(id, stored);
    return stored;
  };

  const ingestion = createEventIngestion({
    store: exposures,
    clock,
    maxAgeMs: config.exposures.ttlSeconds * 1_000,
    lateExposureMs: config.exposures.gatherMs + LATE_EXPOSURE_MARGIN_MS,
    async sumsDelta(exposure, before, after) {
      const def = exposure.experiment ? await definitionOf(exposure.experiment.id) : null;
      return def ? eventSums(exposure, def, before, after) : null;
    },
    onAccepted(exposure, events) {
      const live = exposure.experiment ? running.all().find((e) => e.record.id === exposure.experiment?.id)?.record : undefined;
      if (!live) return;
      for (const e of events) {
        const arm = exposure.experiment?.arm ?? exposure.servedArms?.[exposure.served.indexOf(e.itemId)] ?? null;
        if (arm) gauges.event(live, arm, e.type, 1);
      }
    },
    onOutcome: (outcome, n) => metrics.eventsIngested.inc({ outcome }, n),
  });

  // On the recorder's connection, like the exposures it describes (background writes, off the lookups' socket).
  const catalogue = exposureRedis
    ? createRedisItemCatalogue({ redis: exposureRedis, keyPrefix: prefix })
    : createMemoryItemCatalogue({ maxEntries: config.catalogue.memoryMax, clock });
  const catalogueRecorder = createCatalogueRecorder({
    store: catalogue,
    ttlSeconds: config.catalogue.ttlSeconds,
    clock,
    maxTitleChars: config.rerank.maxTitleChars,
    maxTextChars: config.rerank.maxTextChars,
  });
  const datasets = createDatasetService({ exposures, catalogue, dataDir: config.training.dataDir, clock, defaultWindowMs: config.exposures.ttlSeconds * 1_000 });

  // On the recorder's connection too: background writes, bounded by each experiment's LLM budget.
  const shadowStore = exposureRedis ? createRedisShadowStore({ redis: exposureRedis, keyPrefix: prefix }) : createMemoryShadowStore({ clock });
  const shadow = createShadowScheduler({
    reranker: p.shadowReranker ?? p.reranker,
    store: shadowStore,
    clock,
    retention: { ttlSeconds: config.exposures.ttlSeconds, maxRecords: SHADOW_MAX_RECORDS, maxBytes: SHADOW_MAX_BYTES },
    deadlineMs: config.rerank.maxDeadlineMs,
    isRunning: (id) => running.all().some((e) => e.record.id === id),
    onOutcome: (outcome, n) => metrics.shadowScores.inc({ outcome }, n),
    onLlmCalls: (n) => metrics.shadowLlmCalls.inc(n),
    onError: (err) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'shadow scoring could not reach its store'),
  });

  const serving = createExperimentServing({
    shadow,
    catalogue: catalogueRecorder,
    reranker: p.reranker,
    experiments: running,
    recorder,
    activePrompt: (domain) => p.registry.resolve(domain),
    onExperimentExposure: (rec, arms) => gauges.exposure(rec, arms),
  });

  const admin = createExperimentAdmin({
    store: experimentStore,
    exposures,
    registry: p.registry,
    clock,
    ...experimentAdminSettings(config),
    onChange: () => running.refresh(),
    onStopped: (kind) => gauges.stopped(kind),
    onResults: (rec, results) => gauges.results(rec, results),
    shadowStore,
  });

  await running.start();
  // Every replica looks; stops are compare-and-set and p-values a running minimum, so doing it twice is harmless.
  const look = setInterval(() => {
    admin.look().catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'experiment look failed'));
  }, config.experiments.lookMs);
  look.unref();
  p.closers.push(async () => {
    clearInterval(look);
    running.close();
    // Queued shadow work is dropped (it only costs LLM calls), in-flight candidates are aborted.
    await shadow.close();
    // Exposures already served are written before the connections close.
    await recorder.flush();
    await catalogueRecorder.flush();
  });

  return {
    exposures,
    experimentStore,
    recorder,
    ingestion,
    running,
    serving,
    admin,
    catalogue,
    catalogueRecorder,
    datasets,
    shadow,
    shadowStore,
    async eraseUser(userId) {
      try {
        const [profiles, removed] = await Promise.all([
          p.profileStore.deleteUser(userId),
          exposures.deleteUser(userId),
          p.rankingCache?.deleteUser(userId),
        ]);
        // The per-user totals of every experiment that may have seen the user (experiments are few).
        for (const e of await experimentStore.list()) await exposures.forgetUserTotals(e.id, e.arms.map((a) => a.name), userId);
        return { profiles, exposures: removed };
      } catch (err) {
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'user erasure failed');
        throw new UnavailableError('a store is unavailable; the erasure was not completed, retry later', 5);
      }
    },
  };
}
