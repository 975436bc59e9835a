/**
 * The results payload from running statistics: per-arm rates and metric estimates, the labelled
 * position-biased baseline counterfactual, the ab and interleave comparisons, and guardrail breaches.
 */
import { describe, expect, it } from 'vitest';
import type { RunningStats } from '../../src/experiments/always-valid.js';
import { EMPTY_STATS, addObservation } from '../../src/experiments/always-valid.js';
import type { OutcomeMetric } from '../../src/experiments/experiment-types.js';
import type { ArmRunningStats } from '../../src/experiments/results.js';
import { BASELINE_ORDER_LABEL, experimentResults } from '../../src/experiments/results.js';

/** n exposures, the first `hits` of which score `value` on every metric and the rest 0. */
function metricStats(n: number, hits: number, value: number): Record<OutcomeMetric, RunningStats> {
  let s: RunningStats = EMPTY_STATS;
  for (let i = 0; i < n; i++) s = addObservation(s, i < hits ? value : 0);
  return { ctr: s, mrr: s, 'ndcg@10': s };
}

const arm = (name: string, hits: number, over: Partial<ArmRunningStats> = {}): ArmRunningStats => ({
  name,
  method: name === 'control' ? 'baseline' : 'agp',
  promptVersion: name === 'control' ? null : 3,
  users: 800,
  exposures: 10_000,
  llmCalls: name === 'control' ? 0 : 10_000,
  fallbacks: 100,
  latencyP99Ms: 900,
  served: metricStats(10_000, hits, 0.8),
  baseline: metricStats(10_000, 2000, 0.5),
  ...over,
});

describe('experimentResults', () => {
  it('reports each arm with rates, estimates and the labelled baseline counterfactual', () => {
    const r = experimentResults({ mode: 'ab', arms: [arm('control', 3000), arm('agp', 3000)] });
    const agp = r.arms[1];
    expect(agp).toMatchObject({ name: 'agp', method: 'agp', promptVersion: 3, users: 800, exposures: 10_000, llmCallsPerExposure: 1, fallbackRate: 0.01, latencyP99Ms: 900 });
    expect(agp?.metrics['ndcg@10'].value).toBeCloseTo(0.24, 12);
    expect(agp?.baselineOrder.ctr.value).toBeCloseTo(0.1, 12);
    expect(agp?.baselineOrder.label).toBe(BASELINE_ORDER_LABEL);
    expect(agp?.baselineOrder.label).toMatch(/position-biased/);
    expect(r.arms[0]?.llmCallsPerExposure).toBe(0);
  });

  it('compares ab arms on ndcg@10: equal arms are inconclusive, a clearly better one wins', () => {
    const even = experimentResults({ mode: 'ab', arms: [arm('control', 3000), arm('agp', 3000)] }).comparison;
    expect(even).toMatchObject({ metric: 'ndcg@10', control: { arm: 'control' }, treatment: { arm: 'agp' }, decision: 'inconclusive' });
    const better = experimentResults({ mode: 'ab', arms: [arm('control', 3000), arm('agp', 3600)] }).comparison;
    expect(better).toMatchObject({ decision: 'treatment' });
    expect(better && 'diff' in better ? better.diff : NaN).toBeCloseTo(0.048, 12);
  });

  it('splits α across several treatment arms and lists every comparison', () => {
    const r = experimentResults({ mode: 'ab', arms: [arm('control', 3000), arm('agp', 3600), arm('cot', 3000)] });
    expect(r.comparisons?.map((c) => [c.treatment.arm, c.decision])).toEqual([
      ['agp', 'treatment'],
      ['cot', 'inconclusive'],
    ]);
    expect(r.comparison).toEqual(r.comparisons?.[0]);
  });

  it('keeps a previous p-value (the always-valid p only falls)', () => {
    const r = experimentResults({ mode: 'ab', arms: [arm('control', 3000), arm('agp', 3000)], previousPValues: { agp: 0.001 } });
    expect(r.comparison).toMatchObject({ pValue: 0.001, decision: 'inconclusive' }); // diff 0: no direction
  });

  it('reports interleaving wins, losses, ties and the preference', () => {
    const r = experimentResults({ mode: 'interleave', arms: [arm('control', 0), arm('agp', 0)], interleaving: { wins: 1300, losses: 1000, ties: 5000 } });
    expect(r.comparison).toMatchObject({ control: 'control', treatment: 'agp', wins: 1300, losses: 1000, ties: 5000, decision: 'treatment' });
    expect(r.comparison && 'preference' in r.comparison ? r.comparison.preference : NaN).toBeCloseTo(300 / 2300, 12);
    expect(() => experimentResults({ mode: 'interleave', arms: [arm('control', 0)] })).toThrow(RangeError);
  });

  it('lists guardrail breaches when limits are given', () => {
    const r = experimentResults({ mode: 'ab', arms: [arm('control', 3000), arm('agp', 3000, { latencyP99Ms: 5000 })], guardrails: { maxLatencyP99Ms: 2000 } });
    expect(r.guardrailBreaches.map((b) => b.arm)).toEqual(['agp']);
  });
});
