/**
 * Inputs that make a super-linear regex show itself: long runs of what one quantifier matches after
 * something that starts a match, and openings without their end. Shared by the adversarial tests and
 * bench/text-adversarial.ts, so the figures in docs/security.md come from the inputs the tests bound.
 */

/** `unit` repeated (and cut) to exactly `length` characters. */
export function repeatTo(unit: string, length: number): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/** `head`, then `unit` repeated to `length` characters in all, then `tail`. */
const fill = (head: string, unit: string, tail = '') => (length: number) =>
  head + repeatTo(unit, Math.max(0, length - head.length - tail.length)) + tail;

/** Model answers built to `length` characters, each aimed at one reading rule. */
export const ANSWER_BAITS: Record<string, (length: number) => string> = {
  'item + blanks': fill('item', ' '),
  '<think × n': fill('', '<think'),
  '<think> × n': fill('', '<think>'),
  '<ranking> × n': fill('', '<ranking>'),
  '<< + blanks': fill('<<', ' '),
  'list line + blanks + CR': fill('1.', ' ', 'x\rx'),
  'JSON label + blanks': fill('{"ranking": ["item', ' ', '"]}'),
  '# + blanks': fill('#', ' '),
  '[ × n': fill('', '['),
  '[ + blanks': fill('[', ' '),
  'newlines': fill('', '\n'),
  'blank lines with spaces': fill('', ' \n'),
  'exact answer without end': fill('<ranking>', '1, ', 'x'),
  '|beginoftext| × n': fill('', '|beginoftext|'),
  'C × n': fill('', 'C '),
  '<a b × n': fill('', '<a b'),
  '{ + blanks': fill('{', ' '),
  'ranking: + blanks': fill('"ranking":', ' '),
  'nested JSON': fill('{"ranking": ', '['),
  'sentence ends': fill('', '. '),
  'profile prompt echoed': fill('', 'From the interaction history below, write a short profile of this user. '),
  '<prompt> × n': fill('', '<prompt>'),
  '<instruction> × n': fill('', '<instruction>'),
  'trailing blanks': fill('a', ' ', 'b'),
  '&lt × n': fill('', '&lt'),
};

/** The pieces the reading rules look for; the fuzz repeats short runs of them. */
export const ANSWER_TOKENS = [
  ' ', '\n', '\r', '\t', '<', '>', '/', '<think', '<think>', '</think>', '<thinking ', '<ranking>', '</ranking>',
  '<prompt>', '</prompt>', '<instruction>', 'item', 'candidate', 'rank', 'C', 'A', '#', '[', ']', '[1]', '1', '12',
  ',', '.', ':', ')', '"', '\\', '{', '{"ranking":', '"ranking": [', '|beginoftext|', '|endoftext|', '|', '```json',
  '```', '&lt', '&gt;', '&amp;', '&#60', '<|', '|>', '<<SYS', '[INST', '。', 'x',
];

/** Input texts for the sanitiser, built to `length` characters. */
export const TEXT_BAITS: Record<string, (length: number) => string> = {
  '<< + blanks': fill('<<', ' '),
  '< + blanks': fill('<', ' '),
  '</ + blanks': fill('</', ' '),
  '<a + blanks': fill('<a', ' '),
  '[ + blanks': fill('[', ' '),
  '<a<a<a… nested': fill('', '<a'),
  '<cand<x>idates> × n': fill('', '<cand<x>idates>'),
  '&lt × n': fill('', '&lt'),
  '&amp;lt; × n': fill('', '&amp;lt;'),
  '<| × n': fill('', '<|'),
  '[INST + blanks': fill('[INST', ' '),
  'item + blanks': fill('[item', ' '),
  'invisible × n': fill('', '\u200b'),
};

/**
 * Cost of `fn` in ms: the fastest of `runs` runs. The work is deterministic, so the slower runs measure
 * only what else the machine was doing; the fastest is the cost of the input.
 */
export function costMs(fn: () => unknown, runs = 5): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}
