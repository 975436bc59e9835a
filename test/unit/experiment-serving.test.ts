/**
 * experiment-serving.ts over a scripted reranker: who is in an experiment, what each arm serves, how an
 * interleaved answer is assembled, and what is handed to the recorder (never failing the rerank).
 */
import { describe, expect, it } from 'vitest';
import type { RerankInput, RerankOutput, Reranker } from '../../src/agp/reranker.js';
import { createExperimentServing, type LoadedExperiment } from '../../src/experiments/experiment-serving.js';
import { isSampled, type ExposureRecorder } from '../../src/experiments/exposure-recorder.js';
import type { ExperimentRecord, ExposureRecord, SumsUpdate } from '../../src/experiments/ports.js';

const candidates = Array.from({ length: 6 }, (_, i) => ({ id: `c${i}`, title: `t${i}` }));
const history = Array.from({ length: 8 }, (_, i) => ({ id: `h${i}`, title: `h${i}` }));
const input = (userId: string): RerankInput => ({ userId, history, candidates, domain: 'shop', method: 'agp', deadlineMs: 1_000, includeProfile: false });

/** agp reverses the list with 2 calls; direct falls back; baseline keeps it (0 calls). */
const reranker: Reranker = {
  async rerank(i) {
    const n = i.candidates.length;
    const base: RerankOutput = {
      order: [...Array(n).keys()], method: i.method, promptVersion: i.prompt?.version ?? 'active', fallback: null, repaired: false, profile: null,
      usage: { llmCalls: 0, promptTokens: 0, completionTokens: 0 }, timingsMs: { total: 5 }, cache: 'off', model: null,
      scores: [...Array(n).keys()].map((k) => (n - 1 - k) / (n - 1)), agreement: null, passes: { requested: 1, succeeded: 1 },
    };
    if (i.method === 'agp') return { ...base, order: base.order.reverse(), usage: { llmCalls: 2, promptTokens: 10, completionTokens: 5 }, timingsMs: { total: 40 } };
    if (i.method === 'direct') return { ...base, fallback: { reason: 'timeout' }, usage: { llmCalls: 1, promptTokens: 3, completionTokens: 0 } };
    return base;
  },
};

function recorder() {
  const got: Array<{ e: ExposureRecord; sums: SumsUpdate | null | undefined }> = [];
  const r: ExposureRecorder = { record: (e, sums) => void got.push({ e, sums }), sampledOut: () => false, flush: async () => {}, pending: 0 };
  return { r, got };
}

function loaded(mode: 'ab' | 'interleave', arms: LoadedExperiment['arms'], trafficShare = 1): LoadedExperiment {
  const record: ExperimentRecord = {
    id: `exp-${mode}`, domain: 'shop', mode, arms: arms.map((a) => ({ name: a.name, method: a.method, ...(a.prompt ? { promptVersion: a.prompt.version } : {}) })),
    trafficShare, guardrails: {}, state: 'running', createdAt: 0, stoppedAt: null, stopReason: null, pValues: {},
  };
  return { record, arms };
}

const prompt = { domain: 'shop', version: 'v9', text: 'p', historyLength: 3 };

describe('experiment serving', () => {
  it('feeds the item catalogue the used history and every candidate, only for reranks inside the exposure sample (the rest build no exposure)', async () => {
    const { r: inner, got } = recorder();
    const r: ExposureRecorder = { ...inner, record: inner.record, sampledOut: (id) => !isSampled(id, 0.5) };
    const seen: Array<{ domain: string; ids: string[] }> = [];
    const catalogue = { observe: (domain: string, items: readonly { id: string }[]) => void seen.push({ domain, ids: items.map((i) => i.id) }), flush: async () => {}, pending: 0 };
    const s = createExperimentServing({ reranker, experiments: { forDomain: () => undefined }, recorder: r, activePrompt: () => prompt, catalogue });
    const requestIds = Array.from({ length: 40 }, (_, i) => `req-${i}`);
    for (const requestId of requestIds) await s.serve(input('u1'), { requestId, at: 0 });
    const inSample = requestIds.filter((id) => isSampled(id, 0.5));
    expect(inSample.length).toBeGreaterThan(0);
    expect(inSample.length).toBeLessThan(40);
    expect(seen).toHaveLength(inSample.length);
    expect(got.map((g) => g.e.requestId)).toEqual(inSample);
    expect(seen[0]).toEqual({ domain: 'shop', ids: ['h5', 'h6', 'h7', ...candidates.map((c) => c.id)] });
  });

  it('without an experiment it serves the request as asked and records an exposure without sums', async () => {
    const { r, got } = recorder();
    const s = createExperimentServing({ reranker, experiments: { forDomain: () => undefined }, recorder: r, activePrompt: () => ({ ...prompt, historyLength: 5 }) });
    const out = await s.serve(input('u1'), { requestId: 'r1', topN: 4, at: 7 });
    expect(out.experiment).toBeNull();
    expect(out.out.method).toBe('agp');
    expect(got).toHaveLength(1);
    expect(got[0]?.e).toMatchObject({ requestId: 'r1', at: 7, experiment: null, served: ['c5', 'c4', 'c3', 'c2'], baseline: candidates.map((c) => c.id), history: ['h3', 'h4', 'h5', 'h6', 'h7'] });
    expect(got[0]?.sums).toBeNull();
  });

  it('ab: each user always gets one arm, whose method and pinned prompt replace the request’s', async () => {
    const { r, got } = recorder();
    const exp = loaded('ab', [
      { name: 'holdout', method: 'baseline' },
      { name: 'pinned', method: 'agp', prompt },
    ]);
    const s = createExperimentServing({ reranker, experiments: { forDomain: () => exp }, recorder: r, activePrompt: () => prompt });
    const arms = new Map<string, string>();
    for (let i = 0; i < 60; i++) {
      const user = `user-${i % 20}`;
      const out = await s.serve(input(user), { requestId: `r${i}`, at: 0 });
      const arm = out.experiment?.arm as string;
      if (arms.has(user)) expect(arms.get(user)).toBe(arm);
      arms.set(user, arm);
      expect(out.out.method).toBe(arm === 'holdout' ? 'baseline' : 'agp');
      if (arm === 'pinned') expect(out.out.promptVersion).toBe('v9');
    }
    expect(new Set(arms.values()).size).toBe(2);
    const first = got[0];
    expect(first?.sums?.increments[first.e.experiment?.arm as string]).toMatchObject({ exposures: 1 });
    expect(first?.e.history).toHaveLength(3); // the pinned prompt's (or active) history length
  });

  it('interleave: a team-draft permutation of both arms, usage of both, the failing arm’s fallback reported', async () => {
    const { r, got } = recorder();
    const exp = loaded('interleave', [
      { name: 'a', method: 'agp' },
      { name: 'b', method: 'direct' },
    ]);
    const s = createExperimentServing({ reranker, experiments: { forDomain: () => exp }, recorder: r, activePrompt: () => prompt });
    const out = await s.serve(input('u1'), { requestId: 'r-int', at: 0 });
    expect([...out.out.order].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(out.experiment).toEqual({ id: 'exp-interleave', arm: null });
    expect(out.itemArms).toHaveLength(6);
    expect(out.out.usage.llmCalls).toBe(3);
    expect(out.out.fallback).toEqual({ reason: 'timeout' });
    const sums = got[0]?.sums;
    expect(Object.keys(sums?.increments ?? {}).sort()).toEqual(['a', 'b', '~interleave']);
    expect(sums?.increments.b).toMatchObject({ exposures: 1, llmCalls: 1, fallbacks: 1 });
    expect(got[0]?.e.servedArms).toEqual(out.itemArms);
  });

  it('users outside the traffic share get normal serving and are not counted', async () => {
    const { r, got } = recorder();
    const exp = loaded('ab', [{ name: 'x', method: 'baseline' }, { name: 'y', method: 'direct' }], 0);
    const s = createExperimentServing({ reranker, experiments: { forDomain: () => exp }, recorder: r, activePrompt: () => prompt });
    const out = await s.serve(input('u1'), { requestId: 'r', at: 0 });
    expect(out.experiment).toBeNull();
    expect(out.out.method).toBe('agp');
    expect(got[0]?.sums).toBeNull();
  });

  it('a failing metrics hook or recorder never fails the rerank', async () => {
    const exp = loaded('ab', [{ name: 'x', method: 'baseline' }, { name: 'y', method: 'baseline' }]);
    const r: ExposureRecorder = { record: () => { throw new Error('boom'); }, sampledOut: () => false, flush: async () => {}, pending: 0 };
    const s = createExperimentServing({ reranker, experiments: { forDomain: () => exp }, recorder: r, activePrompt: () => prompt, onExperimentExposure: () => { throw new Error('hook'); } });
    await expect(s.serve(input('u1'), { requestId: 'r', at: 0 })).resolves.toMatchObject({ experiment: { id: 'exp-ab' } });
  });
});
