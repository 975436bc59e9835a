import { describe, expect, it } from 'vitest';
import { COMPACT_TITLE_CHARS, formatCandidates } from '../../src/agp/candidate-format.js';
import { evaluateMethods } from '../../src/agp/evaluate.js';
import { ConfigError, loadConfig, pipelineOptions } from '../../src/config.js';
import { createScriptedLlm } from '../../testkit/scripted-llm.js';
import { makeUsers } from '../../testkit/synthetic-world.js';

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
