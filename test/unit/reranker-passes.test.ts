/** The serving reranker with `shuffles`: parallel passes, one profile call, scores and agreement, fallbacks. */
import { describe, expect, it } from 'vitest';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { createReranker, type RerankInput } from '../../src/agp/reranker.js';
import { createProfileService } from '../../src/agp/profile-service.js';
import type { ActivePrompt, LlmClient, LlmRequest, LlmResponse, PromptRegistry } from '../../src/agp/ports.js';
import { LlmCallError, silentLogger } from '../../src/agp/ports.js';
import { createMemoryProfileStore } from '../../src/store/memory-profile-store.js';

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

/** Rank calls order the candidates by the number in their title ("Title cK": higher K is better). */
function fakeLlm(fail?: (rankCall: number) => Error | string | undefined) {
  const calls: LlmRequest[] = [];
  let rankCalls = 0;
  const llm: LlmClient = {
    configured: true,
    async complete(req): Promise<LlmResponse> {
      calls.push(req);
      let text = 'Likes space operas.';
      if (req.role === 'rerank') {
        const f = fail?.(rankCalls++);
        if (f instanceof Error) throw f;
        const user = req.messages.at(-1)?.content ?? '';
        const labels = [...user.matchAll(/^\[(\d+)\] Title c(\d+)/gm)].map((m) => ({ label: Number(m[1]), k: Number(m[2]) }));
        text = f ?? `<ranking>${labels.sort((a, b) => b.k - a.k).map((l) => l.label).join(', ')}</ranking>`;
      }
      return { text, model: 'fake', promptTokens: 10, completionTokens: 5, latencyMs: 1, attempts: 1 };
    },
  };
  return { llm, calls };
}

function reranker(llm: LlmClient) {
  const profiles = createProfileService({
    store: createMemoryProfileStore({ maxEntries: 10 }),
    clock: { now: Date.now },
    logger: silentLogger,
    freshness: 'stale-while-revalidate',
    ttlSeconds: 60,
    refreshDeadlineMs: 1000,
  });
  return createReranker({ llm, registry, profiles, clock: { now: Date.now }, logger: silentLogger, pipeline: pipelineOptions(loadConfig({})) });
}

const items = (n: number, p = 'c') => Array.from({ length: n }, (_, i) => ({ id: `${p}${i + 1}`, title: `Title ${p}${i + 1}` }));
const input = (over: Partial<RerankInput> = {}): RerankInput => ({
  userId: 'u1', history: items(5, 'h'), candidates: items(5), domain: 'default', method: 'agp', deadlineMs: 1000, includeProfile: false, ...over,
});

describe('reranker with shuffles', () => {
  it('one profile call, k parallel rank calls, usage counts them all; scores by candidate index', async () => {
    const { llm, calls } = fakeLlm();
    const out = await reranker(llm).rerank(input({ shuffles: 3, seed: 'req-1' }));
    expect(calls.map((c) => c.role)).toEqual(['profile', 'rerank', 'rerank', 'rerank']);
    expect(out.usage.llmCalls).toBe(4);
    expect(out.order).toEqual([4, 3, 2, 1, 0]);
    expect(out.scores).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(out.agreement).toBe(1);
    expect(out.passes).toEqual({ requested: 3, succeeded: 3 });
  });

  it('with one pass (the default) reports position scores, null agreement, and one rank call', async () => {
    const { llm, calls } = fakeLlm();
    const out = await reranker(llm).rerank(input({ method: 'direct' }));
    expect(calls).toHaveLength(1);
    expect(out.scores).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(out.agreement).toBeNull();
    expect(out.passes).toEqual({ requested: 1, succeeded: 1 });
  });

  it('a failed pass is left out; when every pass fails, the answer falls back with baseline scores', async () => {
    const some = await reranker(fakeLlm((i) => (i === 0 ? new LlmCallError('timeout', 'slow') : undefined)).llm).rerank(
      input({ method: 'direct', shuffles: 3, seed: 'x' }),
    );
    expect(some.fallback).toBeNull();
    expect(some.passes).toEqual({ requested: 3, succeeded: 2 });
    expect(some.order).toEqual([4, 3, 2, 1, 0]);

    const none = await reranker(fakeLlm((i) => (i === 1 ? new LlmCallError('llm_error', 'x') : 'junk')).llm).rerank(
      input({ method: 'direct', shuffles: 3, seed: 'x' }),
    );
    expect(none.fallback).toEqual({ reason: 'llm_error' });
    expect(none.order).toEqual([0, 1, 2, 3, 4]);
    expect(none.scores).toEqual([1, 0.75, 0.5, 0.25, 0]);
    expect(none.agreement).toBeNull();
    expect(none.passes).toEqual({ requested: 3, succeeded: 0 });

    const junk = await reranker(fakeLlm(() => 'junk').llm).rerank(input({ method: 'direct', shuffles: 2, seed: 'x' }));
    expect(junk.fallback).toEqual({ reason: 'unparseable' });
  });

  it('the same seed reproduces the same prompts; another seed shuffles differently', async () => {
    const prompts = async (seed: string) => {
      const { llm, calls } = fakeLlm();
      await reranker(llm).rerank(input({ method: 'direct', candidates: items(12), shuffles: 3, seed }));
      return calls.map((c) => c.messages.at(-1)?.content).sort();
    };
    expect(await prompts('a')).toEqual(await prompts('a'));
    expect(await prompts('a')).not.toEqual(await prompts('b'));
  });
});
