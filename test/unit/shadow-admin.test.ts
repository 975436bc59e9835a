/**
 * The experiments admin service with shadow experiments, called directly as the loop would (no HTTP schema in
 * front): the domain checks refuse what the route's schema would, the periodic look leaves shadow experiments
 * alone, and results read as zeros before anything was scored.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { createExperimentAdmin, type ExperimentDraft } from '../../src/experiments/experiment-admin.js';
import { createMemoryExperimentStore } from '../../src/store/memory-experiment-store.js';
import { createMemoryExposureStore } from '../../src/store/memory-exposure-store.js';

function admin() {
  const store = createMemoryExperimentStore();
  const read: string[] = [];
  const exposures = createMemoryExposureStore({ maxEntries: 10 });
  const a = createExperimentAdmin({
    store,
    exposures: { ...exposures, readSums: (id) => (read.push(id), exposures.readSums(id)) },
    registry: { get: () => Promise.resolve(null), activate: () => Promise.reject(new Error('not here')) },
    clock: { now: () => 1_000 },
    newId: (() => {
      let n = 0;
      return () => `e${++n}`;
    })(),
    maxRunning: 5,
    defaultGuardrails: { maxFallbackRate: 0.01, minExposures: 1 },
  });
  return { a, read };
}
const shadow = (over: Partial<ExperimentDraft> = {}): ExperimentDraft => ({ domain: 'd', mode: 'shadow', arms: [{ name: 'cand', method: 'direct' }], ...over });

describe('experiment admin: shadow', () => {
  it('refuses two arms, settings out of range, a share of 0, and shadow settings on another mode', async () => {
    const { a } = admin();
    const bad: ExperimentDraft[] = [
      shadow({ arms: [{ name: 'a', method: 'direct' }, { name: 'b', method: 'cot' }] }),
      shadow({ shadow: { maxConcurrency: 0 } }),
      shadow({ shadow: { llmCallsPerHour: 2.5 } }),
      shadow({ shadow: { llmCallsPerHour: 1e9 } }),
      shadow({ trafficShare: 0 }),
      { domain: 'd', mode: 'ab', arms: [{ name: 'a', method: 'baseline' }, { name: 'b', method: 'direct' }], shadow: { maxConcurrency: 2 } },
    ];
    for (const draft of bad) await expect(a.create(draft), JSON.stringify(draft)).rejects.toBeInstanceOf(InvalidInputError);
    expect(await a.list()).toEqual([]);
  });

  it('fills in the defaults, keeps no guardrails, is skipped by the look, and reads as zeros before any score', async () => {
    const { a, read } = admin();
    const rec = await a.create(shadow({ shadow: { llmCallsPerHour: 50 } }));
    expect(rec).toMatchObject({ mode: 'shadow', guardrails: {}, trafficShare: 1, shadow: { maxConcurrency: 4, llmCallsPerHour: 50 } });
    const ab = await a.create({ domain: 'other', mode: 'ab', arms: [{ name: 'a', method: 'baseline' }, { name: 'b', method: 'direct' }] });
    // The look reads the A/B experiment's sums, never the shadow one's (its results cost a read per record).
    await a.look();
    expect(read).toEqual([ab.id]);
    const r = await a.results(rec.id);
    expect(r).toMatchObject({ state: 'running', arms: [], comparison: null, guardrailBreaches: [], shadow: { scored: 0, retained: 0, llmCallsPerHour: 50 } });
    expect(r.shadow?.agreement.kendallTau).toEqual({ value: 0, ci95: [-1, 1] });
    await expect(a.promote(rec.id, 'cand')).rejects.toThrow(/shadow experiment/);
    expect((await a.stop(rec.id)).state).toBe('stopped');
  });
});
