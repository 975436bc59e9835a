/**
 * The result cache (src/agp/ranking-cache.ts) through the reranker with an in-process LLM and the memory
 * store: hit, miss, single flight, TTL, key sensitivity (each key part alone misses), erasure, what is not
 * cached, a failing store, and the request model.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { createReranker, type RerankInput } from '../../src/agp/reranker.js';
import { createProfileService } from '../../src/agp/profile-service.js';
import type { PipelineOptions } from '../../src/agp/pipeline.js';
import type { ActivePrompt, LlmClient, LlmRequest, LlmResponse, PromptRegistry, RankingCache, RankingCacheOutcome } from '../../src/agp/ports.js';
import { silentLogger } from '../../src/agp/ports.js';
import { createResultCache, pipelineSettingsDigest, rankingCacheDigest, type RankingKeyParts } from '../../src/agp/ranking-cache.js';
import { createTextSanitiser } from '../../src/agp/untrusted-text.js';
import { createMemoryProfileStore } from '../../src/store/memory-profile-store.js';
import { createMemoryRankingCache } from '../../src/store/memory-ranking-cache.js';
import { sleep } from '../../testkit/wait.js';

const PROMPT: ActivePrompt = { domain: 'default', version: 'v-test', text: 'Describe the user.', historyLength: 3 };
const registry: PromptRegistry = {
  resolve: (domain) => ({ ...PROMPT, domain }),
  activeVersions: () => ({ default: PROMPT.version }),
  get: async () => null,
  list: async () => [],
  put: async () => {},
  activate: async () => {},
  refresh: async () => {},
  ready: true,
};
const pipeline: PipelineOptions = pipelineOptions(loadConfig({}));
const items = (n: number, prefix = 'c') => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i + 1}`, title: `Title ${prefix}${i + 1}` }));
const input = (over: Partial<RerankInput> = {}): RerankInput => ({
  userId: 'u1',
  history: items(5, 'h'),
  candidates: items(4),
  domain: 'default',
  method: 'agp',
  deadlineMs: 1_000,
  includeProfile: false,
  ...over,
});

/** Profiles: a fixed text (or `profileText`); ranks: reverse, or `rank` when given. */
function fakeLlm(opts: { delayMs?: number; rank?: (req: LlmRequest) => string; profileText?: () => string } = {}) {
  const calls: LlmRequest[] = [];
  const llm: LlmClient = {
    configured: true,
    async complete(req): Promise<LlmResponse> {
      calls.push(req);
      if (opts.delayMs) await sleep(opts.delayMs);
      const user = req.messages.map((m) => m.content).join('\n');
      const labels = [...user.matchAll(/^\[(\d+)\] /gm)].map((m) => Number(m[1]));
      const text = req.role === 'profile' ? (opts.profileText?.() ?? 'Likes space operas.') : opts.rank ? opts.rank(req) : `<ranking>${labels.reverse().join(', ')}</ranking>`;
      return { text, model: req.model ?? 'fake', promptTokens: 10, completionTokens: 5, latencyMs: 1, attempts: 1 };
    },
  };
  return { llm, calls, ranks: () => calls.filter((c) => c.role === 'rerank') };
}

function setup(llm: LlmClient, opts: { store?: RankingCache; ttlSeconds?: number; now?: () => number } = {}) {
  const now = opts.now ?? Date.now;
  const store = opts.store ?? createMemoryRankingCache({ maxEntries: 100, clock: { now } });
  const outcomes: RankingCacheOutcome[] = [];
  const telemetry = { profileCache() {}, parse() {}, backgroundRefresh() {}, rankingCache: (o: RankingCacheOutcome) => void outcomes.push(o) };
  const profiles = createProfileService({
    store: createMemoryProfileStore({ maxEntries: 100 }),
    clock: { now },
    logger: silentLogger,
    freshness: 'strict',
    ttlSeconds: 60,
    refreshDeadlineMs: 1_000,
  });
  const resultCache = createResultCache({ store, ttlSeconds: opts.ttlSeconds ?? 60, clock: { now }, logger: silentLogger, telemetry });
  const reranker = createReranker({ llm, registry, profiles, clock: { now }, logger: silentLogger, telemetry, pipeline, rerankModel: 'default-model', resultCache });
  return { reranker, store, resultCache, outcomes };
}

describe('result cache', () => {
  it('misses, then hits: the second identical request makes no rank call and reports cache hit', async () => {
    const f = fakeLlm();
    const { reranker, resultCache, outcomes } = setup(f.llm);
    const first = await reranker.rerank(input());
    expect(first).toMatchObject({ cache: 'miss', model: 'default-model', order: [3, 2, 1, 0], fallback: null });
    expect(first.usage.llmCalls).toBe(2);
    await resultCache.drain();
    const second = await reranker.rerank(input());
    expect(second).toMatchObject({ cache: 'hit', model: 'default-model', order: [3, 2, 1, 0], fallback: null });
    // The profile came from the profile cache, the ranking from the result cache: no call at all.
    expect(second.usage.llmCalls).toBe(0);
    expect(f.ranks()).toHaveLength(1);
    expect(outcomes).toEqual(['miss', 'hit']);
  });

  it('shares one ranking between concurrent identical misses (single flight)', async () => {
    const f = fakeLlm({ delayMs: 50 });
    const { reranker, outcomes } = setup(f.llm);
    const outs = await Promise.all(Array.from({ length: 5 }, () => reranker.rerank(input({ method: 'direct' }))));
    expect(f.ranks()).toHaveLength(1);
    for (const o of outs) expect(o.order).toEqual([3, 2, 1, 0]);
    expect(outs.map((o) => o.cache).sort()).toEqual(['coalesced', 'coalesced', 'coalesced', 'coalesced', 'miss']);
    // The call is charged once, to the request that made it.
    expect(outs.map((o) => o.usage.llmCalls).sort()).toEqual([0, 0, 0, 0, 1]);
    expect(outcomes.filter((o) => o === 'miss')).toHaveLength(1);
  });

  it('expires after RERANK_CACHE_TTL_SECONDS', async () => {
    let now = 1_700_000_000_000;
    const f = fakeLlm();
    const { reranker, resultCache } = setup(f.llm, { ttlSeconds: 30, now: () => now });
    await reranker.rerank(input({ method: 'direct' }));
    await resultCache.drain();
    now += 29_000;
    expect((await reranker.rerank(input({ method: 'direct' }))).cache).toBe('hit');
    now += 2_000;
    expect((await reranker.rerank(input({ method: 'direct' }))).cache).toBe('miss');
    expect(f.ranks()).toHaveLength(2);
  });

  it('erasure removes the user’s cached rankings; a ranking in flight during the erasure is not written', async () => {
    const f = fakeLlm({ delayMs: 30 });
    const { reranker, store, resultCache } = setup(f.llm);
    await reranker.rerank(input({ method: 'direct' }));
    await resultCache.drain();
    expect(await store.deleteUser('u1')).toBe(1);
    expect((await reranker.rerank(input({ method: 'direct' }))).cache).toBe('miss');
    await resultCache.drain();
    // In flight across an erasure: looked up before it, finished after it.
    const inflight = reranker.rerank(input({ method: 'cot' }));
    await sleep(5);
    await store.deleteUser('u1');
    expect((await inflight).cache).toBe('miss');
    await resultCache.drain();
    expect((await reranker.rerank(input({ method: 'cot' }))).cache).toBe('miss');
  });

  it('does not cache an unparseable answer or an LLM fault', async () => {
    let junk = true;
    const f = fakeLlm({ rank: (req) => (junk ? 'no idea' : `<ranking>${[...req.messages.map((m) => m.content).join('\n').matchAll(/^\[(\d+)\] /gm)].map((m) => m[1]).join(', ')}</ranking>`) });
    const { reranker, resultCache } = setup(f.llm);
    expect((await reranker.rerank(input({ method: 'direct' }))).fallback).toEqual({ reason: 'unparseable' });
    await resultCache.drain();
    junk = false;
    const next = await reranker.rerank(input({ method: 'direct' }));
    expect(next).toMatchObject({ cache: 'miss', fallback: null, order: [0, 1, 2, 3] });
  });

  it('a failing or hanging store is a miss, never a failed rerank', async () => {
    const f = fakeLlm();
    const broken: RankingCache = {
      lookup: () => Promise.reject(new Error('redis down')),
      save: () => Promise.reject(new Error('redis down')),
      deleteUser: () => Promise.resolve(0),
    };
    const { reranker, outcomes, resultCache } = setup(f.llm, { store: broken });
    const out = await reranker.rerank(input({ method: 'direct' }));
    expect(out).toMatchObject({ cache: 'miss', fallback: null, order: [3, 2, 1, 0] });
    expect(outcomes).toEqual(['error']);
    await resultCache.drain();
    const hanging: RankingCache = { ...broken, lookup: () => new Promise(() => {}) };
    const h = setup(f.llm, { store: hanging });
    const started = Date.now();
    expect((await h.reranker.rerank(input({ method: 'direct' }))).fallback).toBeNull();
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('the request model is sent to the rank call only, reported, and keys the cache', async () => {
    const f = fakeLlm();
    const { reranker, resultCache } = setup(f.llm);
    const out = await reranker.rerank(input({ model: 'big-model' }));
    expect(out).toMatchObject({ model: 'big-model', cache: 'miss' });
    expect(f.calls.map((c) => [c.role, c.model])).toEqual([
      ['profile', undefined],
      ['rerank', 'big-model'],
    ]);
    await resultCache.drain();
    expect((await reranker.rerank(input({ model: 'big-model' }))).cache).toBe('hit');
    expect((await reranker.rerank(input())).cache).toBe('miss');
    // A fallback names no model.
    const down = setup({ configured: false, complete: () => Promise.reject(new Error('unreachable')) });
    expect(await down.reranker.rerank(input({ model: 'big-model' }))).toMatchObject({ model: null, cache: 'off', fallback: { reason: 'llm_unconfigured' } });
  });

  it('changing any one request-side key part misses: domain, method, history (direct), profile (agp), candidates', async () => {
    let profile = 'Likes space operas.';
    const f = fakeLlm({ profileText: () => profile });
    const { reranker, resultCache } = setup(f.llm);
    const variants: Array<Partial<RerankInput>> = [
      {},
      { domain: 'books' },
      { method: 'direct' },
      { method: 'direct', history: items(6, 'h') },
      { candidates: items(5) },
      { candidates: [...items(4)].reverse() },
    ];
    for (const v of variants) {
      expect((await reranker.rerank(input(v))).cache).toBe('miss');
      await resultCache.drain();
    }
    // Same inputs, different profile text (a new user history would do it): a miss.
    profile = 'Prefers documentaries.';
    expect((await reranker.rerank(input({ userId: 'u1', history: items(4, 'h') }))).cache).toBe('miss');
    await resultCache.drain();
    for (const v of variants) expect((await reranker.rerank(input(v))).cache).toBe('hit');
  });
});

describe('rankingCacheDigest', () => {
  const limits = { maxTitleChars: 20, maxTextChars: 30 };
  const base: RankingKeyParts = {
    domain: 'movies',
    promptVersion: 'v1',
    model: 'm',
    method: 'agp',
    contextDigest: 'ctx',
    shuffles: 1,
    settings: 's',
    candidates: [
      { id: 'a', title: 'Alpha', text: 'first' },
      { id: 'b', title: 'Beta' },
    ],
  };
  const digest = (p: Partial<RankingKeyParts>) => rankingCacheDigest({ ...base, ...p }, limits, createTextSanitiser());

  it('changes when any one key part changes', () => {
    const variants: Array<[string, Partial<RankingKeyParts>]> = [
      ['domain', { domain: 'books' }],
      ['promptVersion', { promptVersion: 'v2' }],
      ['model', { model: 'm2' }],
      ['method', { method: 'direct' }],
      ['contextDigest', { contextDigest: 'ctx2' }],
      ['shuffles', { shuffles: 3 }],
      ['settings', { settings: 's2' }],
      ['candidate id', { candidates: [{ id: 'a2', title: 'Alpha', text: 'first' }, { id: 'b', title: 'Beta' }] }],
      ['candidate title', { candidates: [{ id: 'a', title: 'Alpha!', text: 'first' }, { id: 'b', title: 'Beta' }] }],
      ['candidate text', { candidates: [{ id: 'a', title: 'Alpha', text: 'second' }, { id: 'b', title: 'Beta' }] }],
      ['candidate order', { candidates: [{ id: 'b', title: 'Beta' }, { id: 'a', title: 'Alpha', text: 'first' }] }],
    ];
    const seen = new Map<string, string>([[digest({}), 'base']]);
    for (const [name, v] of variants) {
      const d = digest(v);
      expect(seen.get(d), name).toBeUndefined();
      seen.set(d, name);
    }
    expect(digest({})).toBe(digest({}));
    expect(digest({})).toMatch(/^[0-9a-f]{32}$/);
  });

  it('follows the text actually sent: differences past the caps or removed by the sanitiser share a key', () => {
    const long = 'x'.repeat(25);
    const a = digest({ candidates: [{ id: 'a', title: `${long}AAA` }] });
    expect(digest({ candidates: [{ id: 'a', title: `${long}BBB` }] })).toBe(a);
    expect(digest({ candidates: [{ id: 'a', title: 'Alpha\u200b' }] })).toBe(digest({ candidates: [{ id: 'a', title: 'Alpha' }] }));
    expect(digest({ candidates: [{ id: 'a', title: 'Alpha', text: 'y'.repeat(40) + '1' }] })).toBe(
      digest({ candidates: [{ id: 'a', title: 'Alpha', text: 'y'.repeat(40) + '2' }] }),
    );
  });

  it('pipelineSettingsDigest follows the settings, not the sanitiser memo or per-role models', () => {
    const d = pipelineSettingsDigest(pipeline);
    expect(pipelineSettingsDigest({ ...pipeline, sanitiser: createTextSanitiser(), models: { rerank: 'x' } })).toBe(d);
    expect(pipelineSettingsDigest({ ...pipeline, windowSize: pipeline.windowSize + 1 })).not.toBe(d);
    expect(pipelineSettingsDigest({ ...pipeline, structuredOutput: !pipeline.structuredOutput })).not.toBe(d);
    expect(pipelineSettingsDigest({ ...pipeline, limits: { ...pipeline.limits, maxTitleChars: 7 } })).not.toBe(d);
  });
});
