import { describe, expect, it } from 'vitest';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { createReranker, type RerankInput } from '../../src/agp/reranker.js';
import { createProfileService, type FreshnessPolicy } from '../../src/agp/profile-service.js';
import type { PipelineOptions } from '../../src/agp/pipeline.js';
import type { ActivePrompt, LlmClient, LlmRequest, LlmResponse, PromptRegistry } from '../../src/agp/ports.js';
import { LlmCallError, silentLogger } from '../../src/agp/ports.js';
import { createMemoryProfileStore } from '../../src/store/memory-profile-store.js';
import { sleep } from '../../testkit/wait.js';

const PROMPT: ActivePrompt = { domain: 'default', version: 'v-test', text: 'Describe the user.', historyLength: 3 };

const registry: PromptRegistry = {
  resolve: () => PROMPT,
  activeVersions: () => ({ default: PROMPT.version }),
  get: async () => null,
  list: async () => [],
  put: async () => {},
  activate: async () => {},
  refresh: async () => {},
  ready: true,
};

/** The service's defaults: tests exercise the same settings production starts with. */
const pipeline: PipelineOptions = pipelineOptions(loadConfig({}));

type Answer = (req: LlmRequest) => string | Promise<string>;

/** An in-process LLM: answers profile calls with a fixed text and rank calls by reversing the list. */
function fakeLlm(opts: { rank?: Answer; profile?: Answer; delayMs?: number } = {}) {
  const calls: LlmRequest[] = [];
  const llm: LlmClient = {
    configured: true,
    async complete(req): Promise<LlmResponse> {
      calls.push(req);
      if (opts.delayMs) await sleep(opts.delayMs);
      const user = req.messages.map((m) => m.content).join('\n');
      let text: string;
      if (req.role === 'profile') text = opts.profile ? await opts.profile(req) : 'Likes space operas.';
      else if (opts.rank) text = await opts.rank(req);
      else {
        const labels = [...user.matchAll(/^\[(\d+)\] /gm)].map((m) => Number(m[1]));
        text = `<ranking>${labels.reverse().join(', ')}</ranking>`;
      }
      return { text, model: 'fake', promptTokens: 10, completionTokens: 5, latencyMs: 1, attempts: 1 };
    },
  };
  return { llm, calls };
}

function setup(llm: LlmClient, freshness: FreshnessPolicy = 'stale-while-revalidate') {
  const store = createMemoryProfileStore({ maxEntries: 100 });
  const profiles = createProfileService({ store, clock: { now: Date.now }, logger: silentLogger, freshness, ttlSeconds: 60, refreshDeadlineMs: 1000 });
  const reranker = createReranker({ llm, registry, profiles, clock: { now: Date.now }, logger: silentLogger, pipeline });
  return { reranker, profiles, store };
}

const items = (n: number, prefix = 'c') => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i + 1}`, title: `Title ${prefix}${i + 1}` }));

function input(over: Partial<RerankInput> = {}): RerankInput {
  return { userId: 'u1', history: items(5, 'h'), candidates: items(4), domain: 'default', method: 'agp', deadlineMs: 1000, includeProfile: false, ...over };
}

describe('reranker', () => {
  it('profiles then reranks, returning a full permutation and usage', async () => {
    const { llm, calls } = fakeLlm();
    const { reranker } = setup(llm);
    const out = await reranker.rerank(input({ includeProfile: true }));
    expect(out.order).toEqual([3, 2, 1, 0]);
    expect(out.fallback).toBeNull();
    expect(out.profile).toEqual({ cached: false, text: 'Likes space operas.' });
    expect(out.usage).toEqual({ llmCalls: 2, promptTokens: 20, completionTokens: 10 });
    expect(calls.map((c) => c.role)).toEqual(['profile', 'rerank']);
    // Only the last historyLength (3) items reach the profile prompt.
    const profilePrompt = calls[0]!.messages.map((m) => m.content).join('\n');
    expect(profilePrompt).toContain('Title h5');
    expect(profilePrompt).not.toContain('Title h2');
  });

  it('serves the second request from cache with exactly one LLM call', async () => {
    const { llm, calls } = fakeLlm();
    const { reranker } = setup(llm);
    await reranker.rerank(input());
    const out = await reranker.rerank(input());
    expect(out.profile).toEqual({ cached: true });
    expect(out.usage.llmCalls).toBe(1);
    expect(calls.filter((c) => c.role === 'profile')).toHaveLength(1);
  });

  it('single-flights concurrent misses for the same key', async () => {
    const { llm, calls } = fakeLlm({ delayMs: 20 });
    const { reranker } = setup(llm);
    const outs = await Promise.all(Array.from({ length: 10 }, () => reranker.rerank(input())));
    expect(calls.filter((c) => c.role === 'profile')).toHaveLength(1);
    expect(outs.every((o) => o.fallback === null)).toBe(true);
  });

  it('a starter that disconnects does not cancel the profile call others joined', async () => {
    const { llm, calls } = fakeLlm({ delayMs: 40 });
    const { reranker } = setup(llm);
    const abort = new AbortController();
    const first = reranker.rerank(input({ signal: abort.signal }));
    const second = reranker.rerank(input());
    setTimeout(() => abort.abort(), 5);
    const [a, b] = await Promise.all([first, second]);
    expect(a.fallback).toEqual({ reason: 'timeout' });
    expect(b.fallback).toBeNull();
    expect(calls.filter((c) => c.role === 'profile')).toHaveLength(1);
    expect(calls.filter((c) => c.role === 'profile')[0]?.signal).toBeUndefined();
  });

  it('stale-while-revalidate answers with the old profile and refreshes in the background', async () => {
    let version = 1;
    const { llm, calls } = fakeLlm({ profile: () => `profile v${version++}` });
    const { reranker, profiles } = setup(llm, 'stale-while-revalidate');
    await reranker.rerank(input());
    const grown = input({ history: [...items(5, 'h'), { id: 'h6', title: 'New one' }], includeProfile: true });
    const out = await reranker.rerank(grown);
    expect(out.profile).toEqual({ cached: true, stale: true, text: 'profile v1' });
    expect(out.usage.llmCalls).toBe(1);
    await profiles.drain();
    const after = await reranker.rerank(grown);
    expect(after.profile).toEqual({ cached: true, text: 'profile v2' });
    expect(calls.filter((c) => c.role === 'profile')).toHaveLength(2);
  });

  it('treats a hanging cache lookup as a miss instead of spending the deadline on it', async () => {
    const { llm, calls } = fakeLlm();
    const store = createMemoryProfileStore({ maxEntries: 10 });
    const hanging = { ...store, lookup: () => new Promise<never>(() => {}) };
    const profiles = createProfileService({ store: hanging, clock: { now: Date.now }, logger: silentLogger, freshness: 'strict', ttlSeconds: 60, refreshDeadlineMs: 1000, lookupTimeoutMs: 30 });
    const reranker = createReranker({ llm, registry, profiles, clock: { now: Date.now }, logger: silentLogger, pipeline });
    const started = Date.now();
    const out = await reranker.rerank(input());
    expect(Date.now() - started).toBeLessThan(500);
    expect(out.fallback).toBeNull();
    expect(out.profile).toEqual({ cached: false });
    expect(calls.map((c) => c.role)).toEqual(['profile', 'rerank']);
  });

  it('strict freshness regenerates before reranking', async () => {
    const { llm, calls } = fakeLlm();
    const { reranker } = setup(llm, 'strict');
    await reranker.rerank(input());
    const out = await reranker.rerank(input({ history: [...items(5, 'h'), { id: 'h6', title: 'New one' }] }));
    expect(out.profile).toEqual({ cached: false });
    expect(out.usage.llmCalls).toBe(2);
    expect(calls.filter((c) => c.role === 'profile')).toHaveLength(2);
  });

  it.each(['timeout', 'llm_error', 'overloaded', 'circuit_open'] as const)('falls back with %s on LLM failure', async (reason) => {
    const llm: LlmClient = { configured: true, complete: async () => { throw new LlmCallError(reason, 'boom'); } };
    const { reranker } = setup(llm);
    const out = await reranker.rerank(input());
    expect(out.fallback).toEqual({ reason });
    expect(out.order).toEqual([0, 1, 2, 3]);
  });

  it('falls back with unparseable on junk and marks repairs', async () => {
    const junk = setup(fakeLlm({ rank: () => 'I cannot decide, they are all great.' }).llm);
    expect((await junk.reranker.rerank(input())).fallback).toEqual({ reason: 'unparseable' });
    const partial = setup(fakeLlm({ rank: () => '<ranking>4, 4, 2, 3</ranking>' }).llm);
    const out = await partial.reranker.rerank(input());
    expect(out.fallback).toBeNull();
    expect(out.repaired).toBe(true);
    expect(out.order).toEqual([3, 1, 2, 0]);
  });

  it('does not call the LLM for baseline or when unconfigured', async () => {
    const { llm, calls } = fakeLlm();
    const { reranker } = setup(llm);
    const base = await reranker.rerank(input({ method: 'baseline' }));
    expect(base).toMatchObject({ order: [0, 1, 2, 3], fallback: null, profile: null });
    expect(calls).toHaveLength(0);
    const off = setup({ configured: false, complete: async () => { throw new Error('must not be called'); } });
    expect((await off.reranker.rerank(input())).fallback).toEqual({ reason: 'llm_unconfigured' });
  });

  it('ranks long lists with a sliding window and still returns a permutation', async () => {
    const { llm, calls } = fakeLlm();
    const { reranker } = setup(llm);
    const out = await reranker.rerank(input({ candidates: items(45), method: 'direct' }));
    expect(calls.filter((c) => c.role === 'rerank').length).toBe(4);
    expect([...out.order].sort((a, b) => a - b)).toEqual(Array.from({ length: 45 }, (_, i) => i));
    expect(out.profile).toBeNull();
  });
});
