/**
 * Worst-case CPU of reading hostile text: every reader of model output (ranking parser, profile cleaning,
 * optimiser answers) on 1 MB answers built to trip super-linear regexes, and the sanitiser on hostile item
 * texts. Reports, per bait, the slowest reader's cost (fastest of `--runs` runs: the work is deterministic,
 * slower runs only measure the rest of the machine). The figures in docs/security.md come from here.
 *
 *   npx tsx bench/text-adversarial.ts [--size 1000000] [--runs 5] [--json]
 */
import { parseArgs } from 'node:util';
import { parseRanking } from '../src/agp/permutation.js';
import { cleanProfileAnswer } from '../src/agp/pipeline.js';
import { parseEditedPrompt, parseInstruction } from '../src/agp/optimizer-prompts.js';
import { BUILTIN_PROFILE_PROMPT, PROFILE_MAX_CHARS } from '../src/agp/prompts.js';
import { sanitizeText } from '../src/agp/untrusted-text.js';
import { LIMITS } from '../src/http/schemas.js';
import { ANSWER_BAITS, TEXT_BAITS, costMs } from '../testkit/text-baits.js';

const { values } = parseArgs({
  options: { size: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' }, json: { type: 'boolean', default: false } },
});
const size = Number(values.size);
const runs = Number(values.runs);

const readers: Record<string, (answer: string) => unknown> = {
  parseRanking: (a) => parseRanking(a, 20),
  profile: (a) => sanitizeText(cleanProfileAnswer(a, BUILTIN_PROFILE_PROMPT), PROFILE_MAX_CHARS),
  instruction: (a) => parseInstruction(a),
  editedPrompt: (a) => parseEditedPrompt(a, BUILTIN_PROFILE_PROMPT),
};

interface Row {
  kind: 'answer' | 'text';
  bait: string;
  chars: number;
  worst: string;
  ms: number;
}
const rows: Row[] = [];

/** Records the slowest of `fns` on `input`. */
function measure(kind: Row['kind'], bait: string, input: string, fns: Record<string, (s: string) => unknown>): void {
  let worst: Row = { kind, bait, chars: input.length, worst: '', ms: 0 };
  for (const [name, fn] of Object.entries(fns)) {
    const ms = costMs(() => fn(input), runs);
    if (ms > worst.ms) worst = { ...worst, worst: name, ms };
  }
  rows.push(worst);
}

measure('answer', 'reported: "item" + 190000 blanks', `item${' '.repeat(190_000)}`, readers);
measure('answer', 'reported: "<think" × 30000', '<think'.repeat(30_000), readers);
for (const [name, make] of Object.entries(ANSWER_BAITS)) measure('answer', name, make(size), readers);
const sanitise = { 'sanitizeText(·, 500)': (s: string) => sanitizeText(s, 500) };
measure('text', 'reported: "<<" + 16382 blanks', `<<${' '.repeat(16_382)}`, sanitise);
for (const [name, make] of Object.entries(TEXT_BAITS)) {
  for (const length of [LIMITS.textMax, size]) measure('text', name, make(length), sanitise);
}

if (values.json) console.log(JSON.stringify({ size, runs, node: process.version, rows }, null, 2));
else {
  for (const r of rows) console.log(`${r.kind.padEnd(6)} ${r.bait.padEnd(36)} ${String(r.chars).padStart(8)} chars  ${r.ms.toFixed(1).padStart(7)} ms  (${r.worst})`);
  for (const kind of ['answer', 'text'] as const) {
    const worst = rows.filter((r) => r.kind === kind).reduce((a, b) => (b.ms > a.ms ? b : a));
    console.log(`worst ${kind}: ${worst.ms.toFixed(1)} ms on ${worst.bait} (${worst.chars} chars, ${worst.worst})`);
  }
}
