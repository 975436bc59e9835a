import { describe, expect, it } from 'vitest';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { evaluateMethods, summarizeEvaluation } from '../../src/agp/evaluate.js';
import type { PipelineOptions } from '../../src/agp/pipeline.js';
import { LlmCallError } from '../../src/agp/ports.js';
import { ndcgAtK } from '../../src/agp/metrics.js';
import { createScriptedLlm } from '../../testkit/scripted-llm.js';
import { START_PROMPT, createWorldLlm, keywordPolicy, makeUsers } from '../../testkit/synthetic-world.js';

/** The service's defaults: tests exercise the same settings production starts with. */
const pipeline: PipelineOptions = pipelineOptions(loadConfig({}));

describe('evaluateMethods', () => {
  const users = makeUsers(12, { decoy: true });

  it('scores base, direct, cot and agp with CIs and paired differences vs base', async () => {
    const llm = createWorldLlm(keywordPolicy());
    const r = await evaluateMethods(users, ['base', 'direct', 'cot', 'agp'], {
      llm,
      pipeline,
      promptText: `${START_PROMPT} Always name the favourite genre.`,
      historyLength: 5,
      concurrency: 4,
      seed: 3,
    });
    expect(r.n).toBe(12);
    // base: the target sits at rank 2 + (i % 6) in the candidates' own order.
    const baseExpected = users.map((_, i) => ndcgAtK(2 + (i % 6)));
    expect(r.methods.base?.perUser.map((u) => u.scores['ndcg@10'])).toEqual(baseExpected);
    expect(r.methods.base?.aggregate['ndcg@10'].mean).toBeCloseTo(baseExpected.reduce((a, b) => a + b) / 12, 12);
    // direct / cot / agp name the genre: decoy first, target second.
    for (const m of ['direct', 'cot', 'agp'] as const) {
      expect(r.methods[m]?.aggregate['ndcg@10'].mean).toBeCloseTo(ndcgAtK(2), 12);
      expect(r.methods[m]?.aggregate['hr@1'].mean).toBe(0);
      expect(r.methods[m]?.aggregate['hr@3'].mean).toBe(1);
      expect(r.methods[m]?.aggregate.mrr.mean).toBe(0.5);
      const d = r.methods[m]?.vsBase?.['ndcg@10'];
      expect(d?.meanDiff).toBeGreaterThan(0);
      expect(d?.ci95[0]).toBeLessThanOrEqual(d?.meanDiff as number);
    }
    const [lo, hi] = r.methods.base?.aggregate['ndcg@10'].ci95 ?? [0, 0];
    expect(lo).toBeLessThan(hi);
    expect(r.methods.base?.vsBase).toBeUndefined();
    // 12 users × (agp 2 calls + direct 1 + cot 1).
    expect(llm.calls).toHaveLength(48);
    expect(r.methods.agp?.perUser[0]?.profile).toContain('likes');
  });

  it('is deterministic for a seed, and summarises to the --json shape', async () => {
    const run = () =>
      evaluateMethods(users, ['base', 'agp'], { llm: createWorldLlm(keywordPolicy()), pipeline, promptText: START_PROMPT, historyLength: 5, seed: 9 });
    const [a, b] = await Promise.all([run(), run()]);
    expect(summarizeEvaluation(a)).toEqual(summarizeEvaluation(b));
    const s = summarizeEvaluation(a);
    expect(Object.keys(s.methods.agp ?? {})).toEqual(['ndcg@10', 'ndcg@10_ci95', 'hr@1', 'hr@3', 'hr@5', 'mrr']);
    // A vague profile keeps the baseline order.
    expect(s.methods.agp?.['ndcg@10']).toBe(s.methods.base?.['ndcg@10']);
  });

  it('scores an LLM failure with the baseline order and counts it', async () => {
    const llm = createScriptedLlm(() => {
      throw new LlmCallError('timeout', 'too slow');
    });
    const r = await evaluateMethods(users.slice(0, 3), ['base', 'direct'], { llm, pipeline, historyLength: 5 });
    expect(r.methods.direct?.failures).toBe(3);
    expect(r.methods.direct?.perUser.every((u) => u.outcome === 'failed' && u.failure === 'timeout')).toBe(true);
    expect(r.methods.direct?.vsBase?.['ndcg@10'].meanDiff).toBe(0);
  });

  it('paper protocol scores a failed answer with the target at the worst rank; served with the baseline order', async () => {
    const llm = createScriptedLlm(() => {
      throw new LlmCallError('timeout', 'too slow');
    });
    const some = users.slice(0, 4);
    const served = await evaluateMethods(some, ['base', 'direct'], { llm, pipeline, historyLength: 5 });
    const paper = await evaluateMethods(some, ['base', 'direct'], { llm, pipeline, historyLength: 5, protocol: 'paper' });
    expect(served.protocol).toBe('served');
    expect(paper.protocol).toBe('paper');
    const n = some[0]?.candidates.length ?? 0;
    expect(paper.methods.direct?.perUser.map((u) => u.scores.rank)).toEqual(some.map(() => n));
    expect(paper.methods.direct?.aggregate['ndcg@10'].mean).toBeCloseTo(ndcgAtK(n), 12);
    expect(paper.methods.direct?.failures).toBe(4);
    // base itself calls no LLM and is scored the same under both protocols.
    expect(paper.methods.base?.aggregate['ndcg@10'].mean).toBe(served.methods.base?.aggregate['ndcg@10'].mean);
    expect(served.methods.direct?.vsBase?.['ndcg@10'].meanDiff).toBe(0);
    expect(paper.methods.direct?.vsBase?.['ndcg@10'].meanDiff).toBeLessThan(0);
    expect(summarizeEvaluation(paper)).toMatchObject({ protocol: 'paper', failures: { direct: { failed: 4, unparseable: 0 } } });
  });

  it('paper protocol scores unparseable answers at the worst rank, and leaves parsed ones alone', async () => {
    // Junk for odd users; for even users an answer that ranks the baseline order exactly.
    const some = users.slice(0, 6);
    const llm = createScriptedLlm((req) => {
      const text = req.messages.map((m) => m.content).join('\n');
      const user = some.findIndex((u) => text.includes(u.candidates[0]?.title ?? '\u0000'));
      const n = some[0]?.candidates.length ?? 0;
      return user % 2 === 1 ? 'No idea, sorry.' : `<ranking>${Array.from({ length: n }, (_, i) => i + 1).join(', ')}</ranking>`;
    });
    const run = (protocol: 'served' | 'paper') => evaluateMethods(some, ['base', 'direct'], { llm, pipeline, historyLength: 5, protocol, concurrency: 1 });
    const [served, paper] = [await run('served'), await run('paper')];
    const baseRanks = served.methods.base?.perUser.map((u) => u.scores.rank);
    expect(served.methods.direct?.perUser.map((u) => u.scores.rank)).toEqual(baseRanks);
    const n = some[0]?.candidates.length ?? 0;
    expect(paper.methods.direct?.perUser.map((u) => u.outcome)).toEqual(['ok', 'unparseable', 'ok', 'unparseable', 'ok', 'unparseable']);
    expect(paper.methods.direct?.perUser.map((u, i) => (i % 2 === 1 ? u.scores.rank === n : u.scores.rank === baseRanks?.[i]))).toEqual(some.map(() => true));
    expect(paper.methods.direct?.unparseable).toBe(3);
  });

  it('propagates non-LLM errors', async () => {
    const llm = createScriptedLlm(() => {
      throw new Error('boom');
    });
    await expect(evaluateMethods(users, ['direct'], { llm, pipeline, historyLength: 5 })).rejects.toThrow('boom');
  });
});
