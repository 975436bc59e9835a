/**
 * Turns experiment activity into the per-experiment Prometheus series of metrics.ts, and removes an
 * experiment's series once it is no longer running, so label values stay bounded by
 * EXPERIMENTS_MAX_RUNNING (a stopped experiment's last numbers stay readable in the admin API).
 */
import { EVENT_TYPES } from '../experiments/ports.js';
import type { ExperimentRecord } from '../experiments/ports.js';
import { OUTCOME_METRICS } from '../experiments/experiment-types.js';
import type { ExperimentResults } from '../experiments/results.js';
import type { Metrics } from './metrics.js';

/** The hooks the runtime hands to the experiment services. */
export interface ExperimentGauges {
  /** After each read of the running experiments. */
  loaded(running: readonly ExperimentRecord[]): void;
  exposure(record: ExperimentRecord, arms: readonly string[]): void;
  event(record: ExperimentRecord, arm: string, type: string, count: number): void;
  results(record: ExperimentRecord, results: ExperimentResults): void;
  stopped(reason: 'manual' | 'promoted' | 'guardrail'): void;
}

const DECISION_VALUE = { treatment: 1, control: -1, inconclusive: 0 } as const;
const STATS = ['value', 'ci95_low', 'ci95_high'] as const;

/** Builds the hooks over the metrics' experiment series. */
export function createExperimentGauges(m: Metrics['experiments']): ExperimentGauges {
  const live = new Map<string, ExperimentRecord>();

  const removeSeries = (rec: ExperimentRecord) => {
    const base = { domain: rec.domain, experiment: rec.id };
    m.running.remove({ ...base, mode: rec.mode });
    for (const { name: arm } of rec.arms) {
      m.exposures.remove({ ...base, arm });
      m.decision.remove({ ...base, arm });
      for (const type of EVENT_TYPES) m.events.remove({ ...base, arm, type });
      for (const metric of OUTCOME_METRICS) {
        for (const order of ['served', 'baseline']) for (const stat of STATS) m.estimate.remove({ ...base, arm, metric, order, stat });
      }
    }
  };

  return {
    loaded(running) {
      const ids = new Set(running.map((r) => r.id));
      for (const [id, rec] of live) {
        if (ids.has(id)) continue;
        removeSeries(rec);
        live.delete(id);
      }
      for (const rec of running) {
        live.set(rec.id, rec);
        m.running.set({ domain: rec.domain, experiment: rec.id, mode: rec.mode }, 1);
      }
    },
    exposure(rec, arms) {
      if (!live.has(rec.id)) return;
      for (const arm of arms) m.exposures.inc({ domain: rec.domain, experiment: rec.id, arm });
    },
    event(rec, arm, type, count) {
      if (live.has(rec.id) && count > 0) m.events.inc({ domain: rec.domain, experiment: rec.id, arm, type }, count);
    },
    results(rec, results) {
      if (!live.has(rec.id)) return;
      const base = { domain: rec.domain, experiment: rec.id };
      for (const arm of results.arms) {
        for (const metric of OUTCOME_METRICS) {
          for (const [order, est] of [
            ['served', arm.metrics[metric]],
            ['baseline', arm.baselineOrder[metric]],
          ] as const) {
            const values = [est.value, est.ci95[0], est.ci95[1]];
            STATS.forEach((stat, i) => m.estimate.set({ ...base, arm: arm.name, metric, order, stat }, values[i] ?? 0));
          }
        }
      }
      for (const c of results.comparisons ?? (results.comparison ? [results.comparison] : [])) {
        const arm = typeof c.treatment === 'string' ? c.treatment : c.treatment.arm;
        m.decision.set({ ...base, arm }, DECISION_VALUE[c.decision]);
      }
    },
    stopped(reason) {
      m.stops.inc({ reason });
    },
  };
}
