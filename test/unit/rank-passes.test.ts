import { describe, expect, it } from 'vitest';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { newContext, rankCandidates, withTextSanitiser } from '../../src/agp/pipeline.js';
import type { LlmClient, LlmRequest, LlmResponse } from '../../src/agp/ports.js';
import { LlmCallError } from '../../src/agp/ports.js';
import {
  bordaAggregate,
  kendallTau,
  passAgreement,
  passPermutation,
  positionScores,
  rankWithPasses,
  resolveShuffles,
  roundScore,
} from '../../src/agp/rank-passes.js';

describe('bordaAggregate', () => {
  it('sums n−1−position points over known permutations', () => {
    // n = 4. Points: item0: 3+2+3=8, item1: 2+3+0=5, item2: 1+0+1=2, item3: 0+1+2=3.
    const { order, scores } = bordaAggregate([[0, 1, 2, 3], [1, 0, 3, 2], [0, 3, 2, 1]], 4);
    expect(order).toEqual([0, 1, 3, 2]);
    expect(scores).toEqual([8 / 9, 5 / 9, 2 / 9, 3 / 9].map(roundScore));
  });

  it('breaks ties by baseline order', () => {
    // Two opposite passes: every item gets n−1 points; the baseline order wins.
    expect(bordaAggregate([[2, 1, 0], [0, 1, 2]], 3).order).toEqual([0, 1, 2]);
    // Points: item3 3+1=4, item2 2+2=4, item1 1+3=4, item0 0: the three-way tie goes by index.
    const r = bordaAggregate([[3, 2, 1, 0], [1, 2, 3, 0]], 4);
    expect(r.order).toEqual([1, 2, 3, 0]);
    expect(r.scores).toEqual([0, 4 / 6, 4 / 6, 4 / 6].map(roundScore));
  });

  it('with one pass, scores are the position: (n−1−pos)/(n−1), and n = 1 scores 1', () => {
    expect(bordaAggregate([[2, 0, 1]], 3)).toEqual({ order: [2, 0, 1], scores: [0.5, 0, 1] });
    expect(positionScores([2, 0, 1])).toEqual([0.5, 0, 1]);
    expect(bordaAggregate([[0]], 1).scores).toEqual([1]);
    expect(positionScores([0])).toEqual([1]);
  });

  it('with no pass, gives the baseline order; a short pass is refused', () => {
    expect(bordaAggregate([], 3)).toEqual({ order: [0, 1, 2], scores: [1, 0.5, 0] });
    expect(() => bordaAggregate([[0, 1]], 3)).toThrow(RangeError);
  });
});

describe('agreement', () => {
  it('is 1 for identical passes and 0 for reversed ones; null with fewer than 2', () => {
    expect(passAgreement([[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]])).toBe(1);
    expect(passAgreement([[0, 1, 2, 3], [3, 2, 1, 0]])).toBe(0);
    expect(passAgreement([[0, 1, 2]])).toBeNull();
    expect(passAgreement([])).toBeNull();
  });

  it('is the mean pairwise tau mapped to [0, 1]', () => {
    // One swap of adjacent items among 4: tau = (5 − 1) / 6.
    expect(kendallTau([0, 1, 2, 3], [1, 0, 2, 3])).toBeCloseTo(4 / 6);
    // Pairs: (a,a)=1, (a,rev)=−1, (a,rev)=−1 → mean −1/3 → (−1/3+1)/2 = 1/3.
    expect(passAgreement([[0, 1, 2], [0, 1, 2], [2, 1, 0]])).toBeCloseTo(1 / 3);
  });
});

describe('passPermutation', () => {
  it('pass 0 is the baseline order; later passes are seeded shuffles, reproducible per seed', () => {
    expect(passPermutation(6, 'req-1', 0)).toEqual([0, 1, 2, 3, 4, 5]);
    const a = passPermutation(20, 'req-1', 1);
    expect(a).toEqual(passPermutation(20, 'req-1', 1));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(a).not.toEqual(passPermutation(20, 'req-1', 2));
    expect(a).not.toEqual(passPermutation(20, 'req-2', 1));
  });
});

const pipeline = withTextSanitiser(pipelineOptions(loadConfig({})));
/** Candidates whose title carries a true relevance: `rel K` (higher is better). */
const cands = (rels: number[]) => rels.map((r, i) => ({ id: `c${i}`, title: `Item ${i} rel ${r}` }));

type Rank = (labels: Array<{ label: number; rel: number }>, callIndex: number) => string;
function fakeLlm(rank: Rank) {
  const calls: LlmRequest[] = [];
  const llm: LlmClient = {
    configured: true,
    async complete(req): Promise<LlmResponse> {
      const index = calls.push(req) - 1;
      const user = req.messages.at(-1)?.content ?? '';
      const labels = [...user.matchAll(/^\[(\d+)\] Item \d+ rel (\d+)/gm)].map((m) => ({ label: Number(m[1]), rel: Number(m[2]) }));
      return { text: rank(labels, index), model: 'fake', promptTokens: 10, completionTokens: 5, latencyMs: 1, attempts: 1 };
    },
  };
  return { llm, calls };
}
const honest: Rank = (ls) => `<ranking>${[...ls].sort((a, b) => b.rel - a.rel).map((l) => l.label).join(', ')}</ranking>`;
const ctxOf = (llm: LlmClient) => newContext(llm, pipeline, Date.now() + 5_000);

describe('rankWithPasses', () => {
  const rels = [1, 5, 3, 0, 4, 2];
  const input = { method: 'direct' as const, candidates: cands(rels), history: [] };

  it('with shuffles = 1 is exactly rankCandidates over the baseline order, scored by position', async () => {
    const a = fakeLlm(honest);
    const b = fakeLlm(honest);
    const one = await rankWithPasses(ctxOf(a.llm), input, { shuffles: 1, seed: 'r' });
    const plain = await rankCandidates(ctxOf(b.llm), input);
    expect(one.order).toEqual(plain.order);
    expect(one.order).toEqual([1, 4, 2, 5, 0, 3]);
    expect(a.calls.map((c) => c.messages)).toEqual(b.calls.map((c) => c.messages));
    expect(one.scores[1]).toBe(1);
    expect(one.scores[3]).toBe(0);
    expect(one.agreement).toBeNull();
    expect(one.passes).toEqual({ requested: 1, succeeded: 1 });
  });

  it('runs k passes over different prompt orders, maps them back, counts every call', async () => {
    const f = fakeLlm(honest);
    const ctx = ctxOf(f.llm);
    const r = await rankWithPasses(ctx, input, { shuffles: 3, seed: 'req-9' });
    expect(f.calls).toHaveLength(3);
    expect(ctx.usage).toEqual({ llmCalls: 3, promptTokens: 30, completionTokens: 15 });
    const prompts = new Set(f.calls.map((c) => c.messages.at(-1)?.content));
    expect(prompts.size).toBe(3);
    expect(r.order).toEqual([1, 4, 2, 5, 0, 3]);
    expect(r.agreement).toBe(1);
    expect(r.passes).toEqual({ requested: 3, succeeded: 3 });
    expect(r.scores).toEqual([1 / 5, 1, 3 / 5, 0, 4 / 5, 2 / 5]);
  });

  it('leaves out failed and unparseable passes and aggregates the rest', async () => {
    const f = fakeLlm((ls, i) => {
      if (i === 0) throw new LlmCallError('timeout', 'slow');
      if (i === 1) return 'no idea';
      return honest(ls, i);
    });
    const ctx = ctxOf(f.llm);
    const r = await rankWithPasses(ctx, input, { shuffles: 3, seed: 'req-9' });
    expect(r.passes).toEqual({ requested: 3, succeeded: 1 });
    expect(r.order).toEqual([1, 4, 2, 5, 0, 3]);
    expect(r.outcome).toBe('ok');
    expect(r.agreement).toBeNull();
  });

  it('throws the first LlmCallError when no pass succeeds, or reports unparseable', async () => {
    const failing = fakeLlm((_ls, i) => {
      if (i === 1) throw new LlmCallError('llm_error', 'boom');
      return 'junk';
    });
    await expect(rankWithPasses(ctxOf(failing.llm), input, { shuffles: 3, seed: 's' })).rejects.toMatchObject({ reason: 'llm_error' });
    const junk = fakeLlm(() => 'junk');
    const r = await rankWithPasses(ctxOf(junk.llm), input, { shuffles: 2, seed: 's' });
    expect(r).toMatchObject({ order: [0, 1, 2, 3, 4, 5], outcome: 'unparseable', agreement: null, passes: { requested: 2, succeeded: 0 } });
  });

  it('reports disagreement when passes echo their (shuffled) prompt order', async () => {
    // Passes 1 and 2 echo the prompt order (pure position bias); only pass 0 is honest.
    const f = fakeLlm((ls, i) => (i === 0 ? honest(ls, i) : `<ranking>${ls.map((l) => l.label).join(', ')}</ranking>`));
    const r = await rankWithPasses(ctxOf(f.llm), input, { shuffles: 3, seed: 'req-9' });
    expect(r.passes.succeeded).toBe(3);
    expect(r.agreement).toBeLessThan(1);
    expect(r.agreement).toBeGreaterThanOrEqual(0);
  });
});

describe('shuffles settings', () => {
  it('parses RERANK_SHUFFLES_* and refuses bad per-domain values', () => {
    expect(loadConfig({}).rerank.shuffles).toEqual({ default: 1, domains: {}, max: 3 });
    expect(loadConfig({ RERANK_SHUFFLES_DOMAINS: ' movies=3, books=2 ' }).rerank.shuffles.domains).toEqual({ movies: 3, books: 2 });
    for (const bad of ['movies=6', 'movies=0', 'movies', 'mo vies=2', 'movies=2.5']) {
      expect(() => loadConfig({ RERANK_SHUFFLES_DOMAINS: bad })).toThrow(/RERANK_SHUFFLES_DOMAINS/);
    }
    expect(() => loadConfig({ RERANK_SHUFFLES_MAX: '6' })).toThrow(/RERANK_SHUFFLES_MAX/);
  });

  it('request, else domain default, else server default; clamped to the maximum', () => {
    const s = { default: 1, domains: { movies: 3, books: 5 }, max: 4 };
    expect(resolveShuffles(undefined, 'other', s)).toBe(1);
    expect(resolveShuffles(undefined, 'movies', s)).toBe(3);
    expect(resolveShuffles(undefined, 'books', s)).toBe(4);
    expect(resolveShuffles(2, 'movies', s)).toBe(2);
    expect(resolveShuffles(5, 'other', s)).toBe(4);
    expect(resolveShuffles(undefined, 'toString', s)).toBe(1);
  });
});
