/**
 * A tiny training world for job tests: users who watch space operas but pick the dragon film, and LLM
 * replies (via the double's script hook) under which only the trained prompt's profiles find it.
 */
import type { RecordedCall } from '../../testkit/llm-double.js';

/** A phrase only the trained prompt contains; profiles written with it name the users' real interest. */
export const DRAGON_MARK = 'focus on dragons';
/** The prompt the scripted edit step returns. */
export const TRAINED_PROMPT = `Write a short profile of the user's tastes; ${DRAGON_MARK} and on the recurring themes of their history.`;

/** Summarise and edit replies the trainer accepts; profiles follow the prompt (the double answers the rest). */
export function trainingScript(call: RecordedCall): string | undefined {
  const user = call.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  if (call.role === 'edit') return `<prompt>${TRAINED_PROMPT}</prompt>`;
  if (call.role === 'summarise') return 'Say which kinds of stories the user keeps choosing.';
  if (call.role === 'profile' && user.includes(DRAGON_MARK)) return 'Enjoys: dragons.';
  return undefined;
}

/** Canonical dataset users: five space operas in the history, the dragon film as the target. */
export function dragonUsers(n: number, prefix = 'u'): unknown[] {
  return Array.from({ length: n }, (_, i) => ({
    userId: `${prefix}${i}`,
    history: Array.from({ length: 5 }, (_, k) => ({ id: `h${i}-${k}`, title: `Space opera ${k}` })),
    candidates: [
      { id: 'c1', title: 'Space station' },
      { id: 'c2', title: 'Space pirates' },
      { id: 'c3', title: 'Cooking show' },
      { id: 'c4', title: 'Garden tales' },
      { id: 'c5', title: 'Dragons rising' },
    ],
    target: 'c5',
  }));
}
