/**
 * The loop's admin service in the API role (issue 11): built on the loop's store and run scheduler (the
 * parts; see `LoopParts`), hooked to the metrics, with LOOP_SCHEDULES applied once at start.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { Clock, Logger, PromptRegistry } from '../agp/ports.js';
import type { ExperimentAdmin } from '../experiments/experiment-admin.js';
import type { TrainingJobs } from '../jobs/training-jobs.js';
import { createLoopService, type LoopService } from '../loop/loop-service.js';
import type { LoopStore, RunScheduler } from '../loop/ports.js';
import type { Metrics } from '../observability/metrics.js';

/** The loop's storage and queue: a null scheduler means no queue Redis (schedules cannot run). */
export interface LoopParts {
  store: LoopStore;
  scheduler: RunScheduler | null;
}

/** What the loop's admin service is built from (the rest of the API role). */
export interface LoopAdminParts {
  config: Config;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  parts: LoopParts;
  registry: PromptRegistry;
  experiments: ExperimentAdmin;
  jobs?: TrainingJobs | undefined;
}

/** A run id: when it began (UTC, to the second) and 8 random hex digits, e.g. "20261204T173000-3fa85f64". */
export function newRunId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').slice(0, 15);
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/** Builds the service and applies LOOP_SCHEDULES; a failure to apply them is logged, not fatal (serving comes first). */
export async function createLoopAdmin(p: LoopAdminParts): Promise<LoopService> {
  const { config, clock, logger, metrics } = p;
  const loop = createLoopService({
    store: p.parts.store,
    scheduler: p.parts.scheduler,
    registry: p.registry,
    experiments: p.experiments,
    jobs: p.jobs,
    clock,
    newRunId: () => newRunId(clock.now()),
    exposureTtlMs: config.exposures.ttlSeconds * 1_000,
    minEveryMs: config.loop.minEveryMs,
    defaultDecisionIntervalMs: config.loop.decisionIntervalMs,
    onAudit: (record) => metrics.loop.audit(record),
  });
  metrics.loop.setActiveRunsSource(() => loop.countActiveRuns());

  const schedules = config.loop.schedules;
  if (schedules.length > 0) {
    try {
      const applied = await loop.applyConfigSchedules(schedules);
      if (applied.unavailable) logger.warn({ domains: schedules.map((s) => s.domain) }, 'LOOP_SCHEDULES is set but scheduled retraining needs Redis (REDIS_URL or QUEUE_REDIS_URL): not applied');
      else logger.info({ changed: applied.changed, unchanged: applied.unchanged }, 'LOOP_SCHEDULES applied');
    } catch (err) {
      logger.error({ err: String(err) }, 'LOOP_SCHEDULES could not be applied; the stored schedules stay as they were');
    }
  }
  return loop;
}
