/**
 * A hostile LLM's answers (OWASP LLM05/LLM10): every function that reads model output must finish in
 * under 50 ms for any answer of at most 1 MB. The baits are the ones that blocked the event loop on the old
 * parser (`"item" + " " × 190000`: 22.5 s in parseRanking; `"<think" × 30000`: 6.1 s), the fuzz builds
 * 1 MB answers by repeating short runs of the tokens those regexes look for, which is how a super-linear
 * regex is found.
 *
 * Timing on a shared machine: each input is run 5 times and its cost is the fastest run (the work is
 * deterministic; the other runs only add other processes' interference). The bound is the target itself,
 * 50 ms; a super-linear scan of 1 MB costs seconds, so the margin is not what makes these pass.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRanking } from '../../src/agp/permutation.js';
import { MAX_ANSWER_CHARS } from '../../src/agp/answer-tags.js';
import { cleanProfileAnswer } from '../../src/agp/pipeline.js';
import { parseEditedPrompt, parseInstruction } from '../../src/agp/optimizer-prompts.js';
import { BUILTIN_PROFILE_PROMPT, PROFILE_MAX_CHARS } from '../../src/agp/prompts.js';
import { containsDataDelimiters, sanitizeText } from '../../src/agp/untrusted-text.js';
import { costMs, ANSWER_BAITS, ANSWER_TOKENS, repeatTo } from '../../testkit/text-baits.js';

const BOUND_MS = 50;
const MB = 1_000_000;

/** Every reader of model output, as the service calls it. */
const READERS: Record<string, (answer: string) => unknown> = {
  parseRanking: (a) => parseRanking(a, 20),
  parseRankingIds: (a) => parseRanking(a, 5, { ids: ['a', 'b', '[c]', 'item 4', 'C5'] }),
  profile: (a) => sanitizeText(cleanProfileAnswer(a, BUILTIN_PROFILE_PROMPT), PROFILE_MAX_CHARS),
  instruction: (a) => parseInstruction(a),
  editedPrompt: (a) => parseEditedPrompt(a, BUILTIN_PROFILE_PROMPT),
};

/** The slowest reader on `answer`: [name, ms]. */
function slowestReader(answer: string): [string, number] {
  let worst: [string, number] = ['', 0];
  for (const [name, read] of Object.entries(READERS)) {
    const ms = costMs(() => read(answer));
    if (ms > worst[1]) worst = [name, ms];
  }
  return worst;
}

describe('reading hostile answers is linear', () => {
  it.each(Object.entries(ANSWER_BAITS))('bait %s (1 MB) is read by every reader in under 50 ms', (_name, make) => {
    const answer = make(MB);
    expect(answer.length).toBeGreaterThanOrEqual(MB);
    const [reader, ms] = slowestReader(answer);
    expect(ms, `${reader} took ${ms.toFixed(1)} ms`).toBeLessThan(BOUND_MS);
  });

  it('the two reported baits: parseRanking under 50 ms', () => {
    expect(costMs(() => parseRanking(`item${' '.repeat(190_000)}`, 20))).toBeLessThan(BOUND_MS);
    expect(costMs(() => parseRanking('<think'.repeat(30_000), 20))).toBeLessThan(BOUND_MS);
  });

  it('repeated runs of parser tokens (fuzz, 1 MB each) are read in under 50 ms', () => {
    const unit = fc.array(fc.constantFrom(...ANSWER_TOKENS), { minLength: 1, maxLength: 6 }).map((t) => t.join(''));
    fc.assert(
      fc.property(unit, fc.constantFrom(...ANSWER_TOKENS), (u, head) => {
        const answer = head + repeatTo(u, MB);
        const [reader, ms] = slowestReader(answer);
        expect(ms, `${reader} took ${ms.toFixed(1)} ms on ${JSON.stringify(head + u)} × n`).toBeLessThan(BOUND_MS);
      }),
      { numRuns: 25, seed: 9_3 },
    );
  });

  it('containsDataDelimiters (run on edited prompts) is linear on tag openings without an end', () => {
    expect(costMs(() => containsDataDelimiters(`${'<history'.repeat(MB / 8)}`))).toBeLessThan(BOUND_MS);
    expect(costMs(() => containsDataDelimiters(`<${' '.repeat(MB)}`))).toBeLessThan(BOUND_MS);
  });
});

describe('the answer is read from its end', () => {
  it('a final ranking after more than MAX_ANSWER_CHARS of reasoning still parses', () => {
    const answer = `<think>${'hmm, 1 or 2? '.repeat(MAX_ANSWER_CHARS / 8)}</think>\n<ranking>3, 1, 2</ranking>`;
    expect(answer.length).toBeGreaterThan(MAX_ANSWER_CHARS);
    expect(parseRanking(answer, 3)).toMatchObject({ order: [2, 0, 1], outcome: 'ok' });
  });

  it('a numbered list inside JSON with long runs of blanks reads the same as the compact one', () => {
    const pad = ' '.repeat(10_000);
    expect(parseRanking(`{"ranking": ["item${pad}3", "[ 1 ]", "C2${pad}"]}`, 3).order).toEqual([2, 0, 1]);
    expect(parseRanking(`1.${pad}[3] Heat\n2. [1] Up\n3. [2] Jaws`, 3).order).toEqual([2, 0, 1]);
    expect(parseRanking(`Item${pad}3, Item 1, #${pad}2`, 3).order).toEqual([2, 0, 1]);
  });

  it('closed reasoning sections of every spelling leave a profile answer, and unclosed ones are kept as text', () => {
    expect(cleanProfileAnswer('<thinking>plan</thinking>The user likes noir.', 'x')).toBe('The user likes noir.');
    expect(cleanProfileAnswer(`${'<think>'.repeat(1000)}The user likes noir.`, 'x')).toContain('The user likes noir.');
  });
});
