import { describe, expect, it } from 'vitest';
import { COMPACT_TITLE_CHARS, formatCandidates } from '../../src/agp/candidate-format.js';
import { evaluateMethods } from '../../src/agp/evaluate.js';
import { ConfigError, loadConfig, pipelineOptions } from '../../src/config.js';
import { createScriptedLlm } from '../../testkit/scripted-llm.js';
import { makeUsers } from '../../testkit/synthetic-world.js';
import { createReranker } from '../../src/agp/reranker.js';
import { createProfileService } from '../../src/agp/profile-service.js';
import type { PromptRegistry } from '../../src/agp/ports.js';
import { silentLogger } from '../../src/agp/ports.js';
import { createMemoryProfileStore } from '../../src/store/memory-profile-store.js';

describe('formatCandidates', () => {
  const items = [
    { id: 'a', title: 'Alien', text: 'A crew meets something in deep space.', score: 0.9 },
    { id: 'b', title: `${'Long title '.repeat(12)}end`, text: 'More text.' },
  ];

  it('full sends the candidates as given', () => {
    expect(formatCandidates(items, 'full')).toBe(items);
  });

  it('compact keeps order and ids, drops the text and cuts long titles', () => {
    const out = formatCandidates(items, 'compact');
    expect(out.map((c) => c.id)).toEqual(['a', 'b']);
    expect(out[0]).toEqual({ id: 'a', title: 'Alien' });
    expect(out[1]?.title.length).toBeLessThanOrEqual(COMPACT_TITLE_CHARS);
    expect(items[1]?.title.startsWith(out[1]?.title ?? '?')).toBe(true);
    expect(out.some((c) => 'text' in c)).toBe(false);
  });

  it('never splits a surrogate pair at the cut', () => {
    const title = `${'x'.repeat(COMPACT_TITLE_CHARS - 1)}😀tail`;
    const [c] = formatCandidates([{ id: 'e', title }], 'compact');
    expect(c?.title).toBe('x'.repeat(COMPACT_TITLE_CHARS - 1));
  });
});

describe('candidate format in evaluation and config', () => {
  it('agp eval --candidate-format compact sends no candidate text; full does', async () => {
    const users = makeUsers(2).map((u) => ({ ...u, candidates: u.candidates.map((c) => ({ ...c, text: `blurb-of-${c.id}` })) }));
    const pipeline = pipelineOptions(loadConfig({}));
    const sent = async (candidateFormat: 'full' | 'compact') => {
      const llm = createScriptedLlm(() => '<ranking>1, 2</ranking>');
      await evaluateMethods(users, ['direct'], { llm, pipeline, historyLength: 5, candidateFormat });
      return llm.calls.map((c) => c.messages.map((m) => m.content).join('\n')).join('\n');
    };
    expect(await sent('full')).toContain('blurb-of-');
    expect(await sent('compact')).not.toContain('blurb-of-');
  });

  it('RERANK_CANDIDATE_FORMAT defaults to full, takes compact and rejects anything else', () => {
    expect(loadConfig({}).rerank.candidateFormat).toBe('full');
    expect(loadConfig({ RERANK_CANDIDATE_FORMAT: 'compact' }).rerank.candidateFormat).toBe('compact');
    expect(() => loadConfig({ RERANK_CANDIDATE_FORMAT: 'tiny' })).toThrow(ConfigError);
  });
});

describe('candidate format in serving', () => {
  it('the reranker sends titles only under compact, and its order still indexes the caller\'s candidates', async () => {
    const registry: PromptRegistry = {
      resolve: () => ({ domain: 'default', version: 'v', text: 'Describe the user.', historyLength: 3 }),
      activeVersions: () => ({ default: 'v' }),
      get: async () => null,
      list: async () => [],
      put: async () => {},
      activate: async () => {},
      refresh: async () => {},
      ready: true,
    };
    const candidates = ['a', 'b', 'c'].map((id) => ({ id, title: `Title ${id}`, text: `blurb-of-${id}` }));
    const run = async (candidateFormat: 'full' | 'compact') => {
      const llm = createScriptedLlm((req) => (req.role === 'profile' ? 'Likes things.' : '<ranking>3, 1, 2</ranking>'));
      const profiles = createProfileService({ store: createMemoryProfileStore({ maxEntries: 10 }), clock: { now: Date.now }, logger: silentLogger, freshness: 'strict', ttlSeconds: 60, refreshDeadlineMs: 1000 });
      const reranker = createReranker({ llm, registry, profiles, clock: { now: Date.now }, logger: silentLogger, pipeline: pipelineOptions(loadConfig({})), candidateFormat });
      const out = await reranker.rerank({ userId: 'u', history: [{ id: 'h', title: 'H' }], candidates, domain: 'default', method: 'agp', deadlineMs: 5000, includeProfile: false });
      const rankPrompt = llm.calls.filter((c) => c.role === 'rerank').map((c) => c.messages.map((m) => m.content).join('\n')).join('\n');
      return { order: out.order, rankPrompt };
    };
    const full = await run('full');
    const compact = await run('compact');
    expect(full.rankPrompt).toContain('blurb-of-a');
    expect(compact.rankPrompt).not.toContain('blurb-of-');
    expect(compact.rankPrompt).toContain('[1] Title a');
    expect(compact.order).toEqual([2, 0, 1]);
    expect(full.order).toEqual([2, 0, 1]);
  });
});
