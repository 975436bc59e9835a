import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { LongListStrategy } from '../../src/agp/long-list.js';
import type { CallContext, PipelineOptions } from '../../src/agp/pipeline.js';
import { newContext, rankCandidates } from '../../src/agp/pipeline.js';
import { parseRanking } from '../../src/agp/permutation.js';
import { planWindows } from '../../src/agp/sliding-window.js';
import type { LlmClient, LlmRequest, PromptRegistry, RerankTelemetry } from '../../src/agp/ports.js';
import { LlmCallError, silentLogger } from '../../src/agp/ports.js';
import { createProfileService } from '../../src/agp/profile-service.js';
import { createReranker } from '../../src/agp/reranker.js';
import { createMemoryProfileStore } from '../../src/store/memory-profile-store.js';
import type { Item } from '../../src/agp/types.js';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { createScriptedLlm } from '../../testkit/scripted-llm.js';
import { sleep } from '../../testkit/wait.js';

const items = (n: number): Item[] => Array.from({ length: n }, (_, i) => ({ id: `c${i}`, title: `Item ${i}` }));
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const opts = (longList?: LongListStrategy): PipelineOptions => ({ ...pipelineOptions(loadConfig({})), longList });

/** The item numbers of a rank request, in the order shown ("[k] Item 37" → 37). */
const shown = (req: LlmRequest) => [...(req.messages.at(-1)?.content ?? '').matchAll(/^\[\d+\] Item (\d+)$/gm)].map((m) => Number(m[1]));
/** An answer ranking the shown items by a hidden relevance (higher first). */
const rankBy = (req: LlmRequest, rel: (item: number) => number) => {
  const s = shown(req);
  const labels = range(0, s.length).sort((a, b) => rel(s[b] as number) - rel(s[a] as number) || a - b);
  return `<ranking>${labels.map((l) => l + 1).join(', ')}</ranking>`;
};

function counting(): RerankTelemetry & { parses: Record<string, number> } {
  const parses: Record<string, number> = {};
  return { parses, profileCache() {}, backgroundRefresh() {}, parse: (o) => void (parses[o] = (parses[o] ?? 0) + 1) };
}

const ctxOf = (llm: LlmClient, o: PipelineOptions, telemetry?: RerankTelemetry): CallContext =>
  newContext(llm, o, Date.now() + 10_000, { telemetry });

describe('RERANK_LONG_LIST', () => {
  it('defaults to topdown in config; an absent PipelineOptions.longList means sliding (library parity)', () => {
    expect(loadConfig({}).rerank.longList).toBe('topdown');
    expect(loadConfig({ RERANK_LONG_LIST: 'sliding' }).rerank.longList).toBe('sliding');
    expect(() => loadConfig({ RERANK_LONG_LIST: 'bubble' })).toThrow(/RERANK_LONG_LIST/);
  });
});

describe('windows fail independently', () => {
  it.each(['sliding', 'topdown'] as const)('%s: one junk window keeps its input order, the rest stands', async (strategy) => {
    const telemetry = counting();
    const llm = createScriptedLlm((req, i) => (i === 1 ? 'These all look lovely.' : rankBy(req, (x) => x)));
    const res = await rankCandidates(ctxOf(llm, opts(strategy), telemetry), { method: 'direct', candidates: items(45), history: [] });
    expect(res.outcome).toBe('repaired');
    expect(sorted(res.order)).toEqual(range(0, 45));
    expect(telemetry.parses).toEqual({ unparseable: 1, ok: llm.count('rerank') - 1 });
    expect(res.windows?.filter((w) => w === 'unparseable')).toHaveLength(1);
    if (strategy === 'topdown') {
      // Call 1 is the partition [pivot, 20..32]: those items stay in backfill, in input order, at the end.
      expect(res.order.slice(-13)).toEqual(range(20, 33));
      expect(res.order[0]).toBe(44);
    } else {
      // Windows back to front: [25,45) reversed, [15,35) junk, [5,25) and [0,20) reversed again.
      const llmAll = createScriptedLlm((req) => rankBy(req, (x) => x));
      const clean = await rankCandidates(ctxOf(llmAll, opts('sliding')), { method: 'direct', candidates: items(45), history: [] });
      expect(res.order).not.toEqual(clean.order);
      // The junk window [15,35) did not carry 44..35 up: they stay where window [25,45) left them, and the
      // front windows rank what they saw (24 is the best of 0..24). Without the junk, 44 wins.
      expect(clean.order[0]).toBe(44);
      expect(res.order[0]).toBe(24);
      expect(res.order.slice(25, 35)).toEqual(range(35, 45).reverse());
    }
  });

  it.each(['sliding', 'topdown'] as const)('%s: every window junk falls back (unparseable, baseline order)', async (strategy) => {
    const llm = createScriptedLlm(() => 'no idea');
    const res = await rankCandidates(ctxOf(llm, opts(strategy)), { method: 'direct', candidates: items(60), history: [] });
    expect(res).toMatchObject({ outcome: 'unparseable', order: range(0, 60) });
  });

  it.each(['sliding', 'topdown'] as const)('%s: an LLM error in one window is treated like junk; in all of them it is thrown', async (strategy) => {
    const one = createScriptedLlm((req, i) => {
      if (i === 2) throw new LlmCallError('overloaded', 'no slot');
      return rankBy(req, (x) => x);
    });
    const res = await rankCandidates(ctxOf(one, opts(strategy)), { method: 'direct', candidates: items(45), history: [] });
    expect(res.outcome).toBe('repaired');
    expect(res.windows).toContain('failed');
    expect(sorted(res.order)).toEqual(range(0, 45));

    const all = createScriptedLlm(() => {
      throw new LlmCallError('llm_error', 'HTTP 500');
    });
    await expect(rankCandidates(ctxOf(all, opts(strategy)), { method: 'direct', candidates: items(45), history: [] })).rejects.toMatchObject({ reason: 'llm_error' });
  });

  it.each(['sliding', 'topdown'] as const)('%s: a timeout ends the ranking (the deadline is gone for every window)', async (strategy) => {
    const llm = createScriptedLlm((req, i) => {
      if (i === 1) throw new LlmCallError('timeout', 'deadline');
      return rankBy(req, (x) => x);
    });
    await expect(rankCandidates(ctxOf(llm, opts(strategy)), { method: 'direct', candidates: items(45), history: [] })).rejects.toMatchObject({ reason: 'timeout' });
  });
});

/** A fake LLM that records each call's depth: 1 + the deepest call that had finished before it started. */
function depthLlm(latencyMs: number) {
  let finishedDepth = 0;
  let inFlight = 0;
  const depths: number[] = [];
  let maxConcurrency = 0;
  const llm: LlmClient = {
    configured: true,
    async complete(req) {
      const depth = finishedDepth + 1;
      depths.push(depth);
      maxConcurrency = Math.max(maxConcurrency, ++inFlight);
      await sleep(latencyMs);
      inFlight -= 1;
      finishedDepth = Math.max(finishedDepth, depth);
      return { text: rankBy(req, (x) => (x * 37) % 101), model: 'depth', promptTokens: 1, completionTokens: 1, latencyMs, attempts: 1 };
    },
  };
  return { llm, depths, rounds: () => Math.max(0, ...depths), maxConcurrency: () => maxConcurrency };
}

describe('round count', () => {
  it('topdown ranks 100 candidates in at most 3 sequential rounds; sliding needs 9', async () => {
    const td = depthLlm(5);
    const a = await rankCandidates(ctxOf(td.llm, opts('topdown')), { method: 'direct', candidates: items(100), history: [] });
    expect(td.rounds()).toBeLessThanOrEqual(3);
    expect(a.rounds).toBe(td.rounds());
    expect(td.maxConcurrency()).toBe(5); // round 2: 80 items in 5 partitions of 16 + the pivot
    expect(td.depths).toHaveLength(7);

    const sl = depthLlm(5);
    const b = await rankCandidates(ctxOf(sl.llm, opts('sliding')), { method: 'direct', candidates: items(100), history: [] });
    expect(sl.rounds()).toBe(9);
    expect(b.rounds).toBe(9);
    expect(sl.maxConcurrency()).toBe(1);
  });

  it.each([21, 39, 40, 58, 150])('topdown stays within 3 rounds at %i candidates', async (n) => {
    const td = depthLlm(2);
    const res = await rankCandidates(ctxOf(td.llm, opts('topdown')), { method: 'direct', candidates: items(n), history: [] });
    expect(td.rounds()).toBeLessThanOrEqual(3);
    expect(sorted(res.order)).toEqual(range(0, n));
  });
});

/** Today's (pre-issue-12) sliding loop, verbatim in behaviour: the reference for parity. */
async function legacySliding(answer: (members: number[], call: number) => string, n: number, size: number, step: number) {
  let order = range(0, n);
  let call = 0;
  let repaired = false;
  for (const [start, end] of planWindows(n, size, step)) {
    const slice = order.slice(start, end);
    const parsed = parseRanking(answer(slice, call++), slice.length);
    if (parsed.outcome === 'unparseable') return { order: range(0, n), outcome: 'unparseable' };
    if (parsed.outcome === 'repaired') repaired = true;
    order = [...order.slice(0, start), ...parsed.order.map((k) => slice[k] as number), ...order.slice(end)];
  }
  return { order, outcome: repaired ? 'repaired' : 'ok' };
}

describe('sliding parity', () => {
  it('with parseable windows, sliding orders exactly as the pre-issue loop did (random answers, n 1..150)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 150 }), fc.integer({ min: 0, max: 1_000 }), fc.boolean(), async (n, seed, sloppy) => {
        const rel = (x: number) => ((x + 1) * (seed + 7919)) % 1009;
        const text = (members: number[]) => {
          const labels = range(0, members.length).sort((a, b) => rel(members[b] as number) - rel(members[a] as number) || a - b);
          // Sloppy answers drop the last label (the parser repairs it), so repaired outcomes are compared too.
          return `<ranking>${labels.slice(0, sloppy && labels.length > 2 ? -1 : undefined).map((l) => l + 1).join(', ')}</ranking>`;
        };
        const llm = createScriptedLlm((req) => text(shown(req)));
        const got = await rankCandidates(ctxOf(llm, opts()), { method: 'direct', candidates: items(n), history: [] });
        const want = await legacySliding(text, n, 20, 10);
        expect(got.order).toEqual(n === 1 ? [0] : want.order);
        if (n > 1) expect(got.outcome).toBe(want.outcome);
      }),
      { numRuns: 120, seed: 3 },
    );
  });
});

describe('a permutation every time, through the parser', () => {
  it('random (often broken) LLM answers never break the permutation, in either strategy', async () => {
    const answerArb = fc.array(
      fc.oneof(
        fc.array(fc.integer({ min: -2, max: 25 }), { maxLength: 25 }).map((ls) => `<ranking>${ls.join(', ')}</ranking>`),
        fc.constant('I like them all.'),
        fc.string({ maxLength: 40 }),
        fc.constant(''),
      ),
      { minLength: 1, maxLength: 10 },
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 150 }), fc.constantFrom('sliding', 'topdown'), answerArb, async (n, strategy, answers) => {
        const llm = createScriptedLlm((_req, i) => answers[i % answers.length] as string);
        const res = await rankCandidates(ctxOf(llm, opts(strategy as LongListStrategy)), { method: 'direct', candidates: items(n), history: [] });
        expect(sorted(res.order)).toEqual(range(0, n));
        if (res.outcome === 'unparseable') expect(res.order).toEqual(range(0, n));
      }),
      { numRuns: 150, seed: 5 },
    );
  });
});

describe('through the serving reranker', () => {
  const prompt = { domain: 'default', version: 'v-test', text: 'Describe the user.', historyLength: 3 };
  const registry: PromptRegistry = {
    resolve: () => prompt,
    activeVersions: () => ({ default: prompt.version }),
    get: async () => null,
    list: async () => [],
    put: async () => {},
    activate: async () => {},
    refresh: async () => {},
    ready: true,
  };
  const rerankWith = (llm: LlmClient, longList: LongListStrategy) => {
    const profiles = createProfileService({
      store: createMemoryProfileStore({ maxEntries: 10 }),
      clock: { now: Date.now },
      logger: silentLogger,
      freshness: 'stale-while-revalidate',
      ttlSeconds: 60,
      refreshDeadlineMs: 1000,
    });
    const reranker = createReranker({ llm, registry, profiles, clock: { now: Date.now }, logger: silentLogger, pipeline: opts(longList) });
    return reranker.rerank({ userId: 'u1', history: [], candidates: items(100), domain: 'default', method: 'direct', deadlineMs: 5_000, includeProfile: false });
  };

  it.each(['sliding', 'topdown'] as const)('%s: one junk window of 100 candidates is a repaired answer, not a fallback', async (strategy) => {
    const llm = createScriptedLlm((req, i) => (i === 1 ? 'Sorry, I cannot rank these.' : rankBy(req, (x) => x)));
    const out = await rerankWith(llm, strategy);
    expect(out.fallback).toBeNull();
    expect(out.repaired).toBe(true);
    expect(out.usage.llmCalls).toBe(strategy === 'topdown' ? 7 : 9);
    expect(sorted(out.order)).toEqual(range(0, 100));
    expect(out.order).not.toEqual(range(0, 100));
  });

  it('every window junk still falls back with reason unparseable', async () => {
    const out = await rerankWith(createScriptedLlm(() => 'no'), 'topdown');
    expect(out).toMatchObject({ fallback: { reason: 'unparseable' }, order: range(0, 100) });
  });
});
