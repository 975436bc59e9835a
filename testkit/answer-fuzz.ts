/**
 * Generated LLM ranking answers for the answer fuzz (issue 9): every shape the parser accepts
 * (src/agp/permutation.ts), wrapped in reasoning and prose, with label edits (dropped, duplicated, unknown
 * labels) and text mutations (truncation, duplicated spans, huge repeats, unicode, tag soup, whitespace
 * runs, the baits of text-baits.ts).
 *
 * A recipe is small and independent of the candidate count; `realizeAnswer(recipe, k)` builds the text for
 * a prompt of k labels. So the fuzz keeps 10,000 recipes, not 10,000 answers of up to a megabyte, and an
 * answer for any window of any request is rebuilt exactly from its recipe.
 */
import fc from 'fast-check';
import { ANSWER_BAITS, ANSWER_TOKENS, repeatTo } from './text-baits.js';

/** The answer shapes of the parser's tests, over a ranking of labels (1-based). */
const SHAPES = {
  tags: (l: number[]) => `<ranking>${l.join(', ')}</ranking>`,
  'tags, one per line': (l: number[]) => `<ranking>\n${l.join('\n')}\n</ranking>`,
  'tags, spaced and upper-case': (l: number[]) => `< RANKING >${l.join(';')}</ ranking >`,
  json: (l: number[]) => JSON.stringify({ ranking: l }),
  'json, mixed label styles': (l: number[]) =>
    `{"ranking": [${l.map((x, i) => JSON.stringify(i % 3 === 0 ? `[${x}]` : i % 3 === 1 ? `C${x}` : String(x))).join(', ')}]}`,
  'json in a fence': (l: number[]) => `Here:\n\`\`\`json\n{ "ranking": [${l.join(', ')}] }\n\`\`\``,
  brackets: (l: number[]) => l.map((x) => `[${x}]`).join(' > '),
  bare: (l: number[]) => l.join(' > '),
  'numbered list, bracketed labels': (l: number[]) => l.map((x, i) => `${i + 1}. [${x}] The film of the evening`).join('\n'),
  'numbered list, bare labels': (l: number[]) => l.map((x, i) => `${i + 1}. ${x}`).join('\n'),
  'label-dot-title lines': (l: number[]) => l.map((x) => `${x}. Quiet seas`).join('\n'),
  'rank lines': (l: number[]) => l.map((x, i) => `Rank ${i + 1}: [${x}]`).join('\n'),
  'Item n': (l: number[]) => l.map((x) => `Item ${x}`).join(', '),
  Cn: (l: number[]) => l.map((x) => `C${x}`).join(', '),
  '#n': (l: number[]) => l.map((x) => `#${x}`).join(' '),
  letters: (l: number[]) => l.map(letter).join(', '),
  'bracketed letters': (l: number[]) => `The ranking is: ${l.map((x) => `[${letter(x)}]`).join(' > ')}`,
  "authors' markers": (l: number[]) => `Answer: |beginoftext|${l.join(', ')}|endoftext|`,
} as const satisfies Record<string, (labels: number[]) => string>;

export type ShapeName = keyof typeof SHAPES;
const SHAPE_NAMES = Object.keys(SHAPES) as ShapeName[];
/** Shapes that carry an answer marker, so an unclosed <think> before them still leaves the answer. */
const MARKED: ReadonlySet<ShapeName> = new Set<ShapeName>([
  'tags', 'tags, one per line', 'tags, spaced and upper-case', 'json', 'json, mixed label styles', 'json in a fence', "authors' markers",
]);
const TAGGED: ReadonlySet<ShapeName> = new Set<ShapeName>(['tags', 'tags, one per line', 'tags, spaced and upper-case']);
/** Letters stand for labels 1..26 only. */
const LETTERED: ReadonlySet<ShapeName> = new Set<ShapeName>(['letters', 'bracketed letters']);

function letter(label: number): string {
  return label >= 1 && label <= 26 ? String.fromCharCode(64 + label) : String(label);
}

/** Reasoning around the answer: none, a closed section, an unclosed one, or a stray closing tag. */
export type Think = 'none' | 'closed' | 'unclosed' | 'stray-close';

/** An edit of the text after the shape is built; `at`/`to` are fractions of the current length. */
export type TextMutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate span'; at: number; to: number; times: number }
  | { kind: 'repeat token'; token: string; length: number; at: number }
  | { kind: 'unicode'; text: string; at: number }
  | { kind: 'tag soup'; text: string; at: number }
  | { kind: 'whitespace run'; unit: string; length: number; at: number }
  | { kind: 'bait'; name: string; length: number; place: 'before' | 'after' | 'instead' };

/** Everything that determines one answer, for any label count. */
export interface AnswerRecipe {
  shape: ShapeName;
  /** Sort keys: the intended ranking is the labels ordered by these (any length works). */
  keys: number[];
  think: Think;
  prose: boolean;
  /** A draft <ranking> block before the final one (tag shapes only). */
  draft: boolean;
  /** Label edits: keep only this fraction of the ranking; repeat this many labels; add these unknown ones. */
  keep: number;
  repeats: number;
  unknown: number[];
  mutations: TextMutation[];
}

/** Longest answer made (UTF-16 units): a longer one loses its front, as the parser's own bound does. */
export const MAX_ANSWER_CHARS = 1_048_576;

/**
 * Lengths: mostly small, sometimes tens of kilobytes (past the parser's 32 K-character window, inside the
 * default 76,800-byte body cap), rarely up to a million characters (past the cap).
 */
const length = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 1, max: 2_000 }) },
  { weight: 5, arbitrary: fc.integer({ min: 2_000, max: 60_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 1_000_000 }) },
);
/** A position, as a fraction of the text (fast-check favours the ends: the very start and the very end). */
const at = fc.double({ min: 0, max: 1, noNaN: true });
/** A cut that leaves something: an empty answer is one case, not one in ten. */
const cut = fc.double({ min: 0.02, max: 0.98, noNaN: true });
const ODD_UNITS = ['\ud800', '\udfff', '\u0000', '\u202e', '\ufeff', '\u200b', '𝕏', 'é', '\uff11', '\u0661', '\u00a0'];
const TAG_PIECES = [
  '<think>', '</think>', '<think', '<thinking reason="x">', '</thinking>', '<reasoning>', '<ranking>', '</ranking>',
  '< ranking >', '</ ranking>', '<ranking', '|beginoftext|', '|endoftext|', '{"ranking": [', ']}', '```json', '```',
];

const mutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: cut }),
  fc.record({ kind: fc.constant('duplicate span' as const), at, to: at, times: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ kind: fc.constant('repeat token' as const), token: fc.constantFrom(...ANSWER_TOKENS), length, at }),
  fc.record({
    kind: fc.constant('unicode' as const),
    text: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.array(fc.constantFrom(...ODD_UNITS), { maxLength: 50 }).map((a) => a.join(''))),
    at,
  }),
  fc.record({ kind: fc.constant('tag soup' as const), text: fc.array(fc.constantFrom(...TAG_PIECES), { minLength: 1, maxLength: 40 }).map((a) => a.join('')), at }),
  fc.record({ kind: fc.constant('whitespace run' as const), unit: fc.constantFrom(' ', '\n', '\t', '\r\n', ' \n', '\r', '\u00a0', '\u3000'), length, at }),
  fc.record({ kind: fc.constant('bait' as const), name: fc.constantFrom(...Object.keys(ANSWER_BAITS)), length, place: fc.constantFrom('before' as const, 'after' as const, 'instead' as const) }),
);

/** Recipes: a third are well-formed answers (no edit, no mutation), the rest carry label edits and mutations. */
export const answerRecipe: fc.Arbitrary<AnswerRecipe> = fc.record({
  shape: fc.constantFrom(...SHAPE_NAMES),
  keys: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 20, maxLength: 20 }),
  think: fc.constantFrom<Think>('none', 'none', 'closed', 'unclosed', 'stray-close'),
  prose: fc.boolean(),
  draft: fc.boolean(),
  broken: fc.integer({ min: 0, max: 2 }),
  keep: fc.oneof(fc.constant(1), at),
  repeats: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 })),
  unknown: fc.array(fc.oneof(fc.constantFrom(0, 21, 99, 999_999, 1e7), fc.integer({ min: 0, max: 1_000_000 })), { maxLength: 5 }),
  mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
}).map(({ broken, ...r }) =>
  broken === 0 ? { ...r, keep: 1, repeats: 0, unknown: [], mutations: [] } : r,
);

/** The ranking a recipe means for k labels (1-based labels, best first). */
export function intendedRanking(recipe: AnswerRecipe, k: number): number[] {
  const key = (label: number) => recipe.keys[(label - 1) % recipe.keys.length] ?? 0;
  return Array.from({ length: k }, (_, i) => i + 1).sort((a, b) => key(a) - key(b) || a - b);
}

/**
 * True when the answer of `recipe` for k labels is well-formed, so the parser must read exactly
 * intendedRanking: no edits or mutations, and none of the few combinations whose reading is ambiguous by
 * design (a plain 1..k list of titles, letters past Z, an unclosed <think> with no answer marker after it).
 */
export function isWellFormed(recipe: AnswerRecipe, k: number): boolean {
  if (recipe.keep < 1 || recipe.repeats > 0 || recipe.unknown.length > 0 || recipe.mutations.length > 0) return false;
  if (recipe.think === 'unclosed' && !MARKED.has(recipe.shape)) return false;
  if (LETTERED.has(recipe.shape) && k > 26) return false;
  const ranking = intendedRanking(recipe, k);
  return !(recipe.shape === 'label-dot-title lines' && ranking.every((x, i) => x === i + 1));
}

/** Index in `text` for a fraction. */
const pos = (text: string, f: number) => Math.floor(Math.min(1, Math.max(0, f)) * text.length);
const insert = (text: string, f: number, piece: string) => text.slice(0, pos(text, f)) + piece + text.slice(pos(text, f));

function mutate(text: string, m: TextMutation): string {
  switch (m.kind) {
    case 'truncate':
      return text.slice(0, pos(text, m.at));
    case 'duplicate span': {
      const [a, b] = [pos(text, Math.min(m.at, m.to)), pos(text, Math.max(m.at, m.to))];
      const times = Math.min(m.times, Math.floor(MAX_ANSWER_CHARS / Math.max(1, b - a)));
      return text.slice(0, b) + text.slice(a, b).repeat(times) + text.slice(b);
    }
    case 'repeat token':
      return insert(text, m.at, repeatTo(m.token, m.length));
    case 'unicode':
    case 'tag soup':
      return insert(text, m.at, m.text);
    case 'whitespace run':
      return insert(text, m.at, repeatTo(m.unit, m.length));
    case 'bait': {
      const bait = (ANSWER_BAITS[m.name] ?? ((n: number) => 'x'.repeat(n)))(m.length);
      return m.place === 'before' ? bait + text : m.place === 'after' ? text + bait : bait;
    }
  }
}

/** The answer text of `recipe` for a prompt of k labels. */
export function realizeAnswer(recipe: AnswerRecipe, k: number): string {
  let labels = intendedRanking(recipe, k);
  labels = labels.slice(0, Math.ceil(labels.length * recipe.keep));
  for (let i = 0; i < recipe.repeats && labels.length > 0; i++) labels.push(labels[(i * 7) % labels.length] as number);
  recipe.unknown.forEach((u, i) => labels.splice((i * 3) % (labels.length + 1), 0, u));

  let text = SHAPES[recipe.shape](labels);
  if (recipe.draft && TAGGED.has(recipe.shape)) text = `draft <ranking>${[...labels].reverse().join(', ')}</ranking> final ${text}`;
  if (recipe.prose) text = `Sure, here is my ranking:\n${text}\nhope this helps.`;
  if (recipe.think === 'closed') text = `<think>Maybe [2] then 1, or C3? No, 5.</think>\n${text}`;
  else if (recipe.think === 'unclosed') text = `<think>candidate 1 or 2, hmm, so the answer ${text}`;
  else if (recipe.think === 'stray-close') text = `reasoning about 1 2 3 </think> ${text}`;
  for (const m of recipe.mutations) text = mutate(text, m);
  return text.length > MAX_ANSWER_CHARS ? text.slice(-MAX_ANSWER_CHARS) : text;
}

/** One line describing a recipe for failure messages (lengths, not the megabytes they make). */
export function describeRecipe(recipe: AnswerRecipe): string {
  const muts = recipe.mutations.map((m) => ('length' in m ? `${m.kind}(${m.length})` : m.kind));
  return `${recipe.shape}, think ${recipe.think}${recipe.prose ? ', prose' : ''}${recipe.draft ? ', draft' : ''}, keep ${recipe.keep.toFixed(2)}, repeats ${recipe.repeats}, unknown [${recipe.unknown.join(',')}], mutations [${muts.join(', ')}]`;
}
