/**
 * A tiny synthetic recommendation world for exact trainer tests, and the scripted "model" that lives in
 * it. Each user loves one genre; the history shows it; the target is that genre's "Signature" item.
 * The scripted model's behaviour depends on keywords in the CURRENT profile prompt:
 *
 * - "contrarian"       → profiles name a wrong genre (a bad edit: ranks get worse);
 * - "favourite genre"  → profiles name the right genre (a good edit: the genre's items rise to the top);
 * - "signature" (with "favourite genre") → training-style users' profiles also ask for signature picks
 *   (target first), but users whose history is an "archive" get a wrong genre (it overfits training).
 * - none of these      → a vague profile, so the reranker keeps the baseline order.
 *
 * The optimiser (summarise/edit) is a policy supplied by the test; the edit appends the instruction.
 */
import type { UserRecord } from '../src/agp/dataset.js';
import type { LlmRequest } from '../src/agp/ports.js';
import type { Item } from '../src/agp/types.js';
import type { ScriptedLlm, ScriptedOptions } from './scripted-llm.js';
import { createScriptedLlm } from './scripted-llm.js';

export const GENRES = ['space', 'castle', 'ocean', 'desert'] as const;

/** The starting prompt of the tests (no keyword). */
export const START_PROMPT = 'Write a short profile of the user from the history, in plain prose.';

/** Shape of the generated users. */
export interface WorldOptions {
  /** A same-genre "plain" item ahead of the target, so naming the genre alone reaches rank 2, not 1. */
  decoy?: boolean;
  /** Users whose history titles contain "archive" (validation-style users in the overfitting test). */
  archive?: boolean;
  /** Index of the first user (ids must not clash between sets). */
  offset?: number;
}

/** User i loves GENRES[i % 4]; its target sits at baseline position 2 + (i % 6). */
export function makeUsers(n: number, o: WorldOptions = {}): UserRecord[] {
  const out: UserRecord[] = [];
  for (let k = 0; k < n; k++) {
    const i = k + (o.offset ?? 0);
    const g = GENRES[i % 4] as string;
    const history: Item[] = Array.from({ length: 5 }, (_, j) => ({
      id: `h${i}-${j}`,
      title: `H ${g} ${o.archive ? 'archive ' : ''}tale ${i}-${j}`,
    }));
    const others: Item[] = GENRES.filter((x) => x !== g).flatMap((x) =>
      [0, 1, 2].map((m) => ({ id: `o${i}-${x}-${m}`, title: `C ${x} other ${i}-${m}` })),
    );
    const target: Item = { id: `t${i}`, title: `C ${g} Signature pick ${i}` };
    const list = o.decoy ? [{ id: `d${i}`, title: `C ${g} plain pick ${i}` }, ...others.slice(0, 8)] : others;
    const pos = 1 + (i % 6); // 0-based index 1..6 → rank 2..7
    const candidates = [...list.slice(0, pos), target, ...list.slice(pos)].slice(0, 10);
    out.push({ userId: `u${i}`, history, candidates, targets: [target.id] });
  }
  return out;
}

const lastUser = (req: LlmRequest) => req.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
const block = (text: string, tag: string) => new RegExp(`<${tag}>\\n([\\s\\S]*?)\\n</${tag}>`).exec(text)?.[1] ?? '';
const genreIn = (text: string) => GENRES.find((g) => text.includes(` ${g} `));
const wrongOf = (g: string) => GENRES[(GENRES.indexOf(g as (typeof GENRES)[number]) + 1) % 4] as string;

function profileAnswer(req: LlmRequest): string {
  const content = req.messages[1]?.content ?? '';
  const prompt = content.split('\n\n<history>')[0]?.toLowerCase() ?? '';
  const history = block(content, 'history');
  const g = genreIn(history) ?? 'space';
  if (prompt.includes('contrarian')) return `The user likes ${wrongOf(g)} stories.`;
  if (!prompt.includes('favourite genre')) return 'The user likes many things.';
  if (!prompt.includes('signature')) return `The user likes ${g} stories.`;
  if (history.includes('archive')) return `The user likes ${wrongOf(g)} stories.`;
  return `The user likes ${g} stories. Signature picks matter.`;
}

/** Ranks the candidates of a rerank/direct/cot request the way the world's model would. */
function rankAnswer(req: LlmRequest): string {
  const content = req.messages[1]?.content ?? '';
  const profile = content.includes('<profile>') ? block(content, 'profile') : `likes ${genreIn(block(content, 'history')) ?? 'none'} `;
  const liked = GENRES.find((g) => profile.includes(`likes ${g} `));
  const sig = /signature/i.test(profile);
  const cands = [...block(content, 'candidates').matchAll(/^\[(\d+)\] (.*)$/gm)].map((m) => ({ label: Number(m[1]), title: m[2] ?? '' }));
  const score = (t: string) => (liked && t.includes(` ${liked} `) ? 2 : 0) + (sig && t.includes('Signature') ? 1 : 0);
  const order = cands.map((c, i) => ({ ...c, s: score(c.title), i })).sort((a, b) => b.s - a.s || a.i - b.i);
  const answer = `<ranking>${order.map((c) => c.label).join(', ')}</ranking>`;
  return content.includes('step by step') ? `The history points one way.\n${answer}` : answer;
}

/** The optimiser policy: the next instruction for the current prompt (`retry` after a rejection). */
export type Policy = (currentPrompt: string, retry: boolean) => string;

/** Fixes the most important missing keyword; with `badFirst`, first proposes a contrarian edit. */
export function keywordPolicy(opts: { badFirst?: boolean } = {}): Policy {
  return (p, retry) => {
    const lower = p.toLowerCase();
    if (!lower.includes('favourite genre')) {
      return opts.badFirst && !retry ? 'Profiles should be contrarian about tastes.' : 'Always name the favourite genre.';
    }
    if (!lower.includes('signature')) return 'Mention signature picks.';
    return 'Keep it concise.';
  };
}

/** The world's answer to one request (synchronous; also usable as an HTTP LLM double's script). */
export function worldAnswer(policy: Policy): (req: Pick<LlmRequest, 'role' | 'messages'>) => string {
  return (req) => {
    const r = req as LlmRequest;
    switch (req.role) {
      case 'profile':
        return profileAnswer(r);
      case 'rerank':
        return rankAnswer(r);
      case 'summarise': {
        const current = block(req.messages[1]?.content ?? '', 'current_prompt');
        return policy(current, req.messages.length > 2);
      }
      case 'edit': {
        const content = lastUser(r);
        return `<prompt>${block(content, 'current_prompt')} ${block(content, 'instruction')}</prompt>`;
      }
      case 'reason':
        return 'The profile did not say which genre the user loves.';
    }
  };
}

/** The scripted model of the world. */
export function createWorldLlm(policy: Policy, opts: ScriptedOptions = {}): ScriptedLlm {
  return createScriptedLlm(worldAnswer(policy), opts);
}
