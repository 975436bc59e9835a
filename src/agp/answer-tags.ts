/**
 * Tag-delimited sections of LLM answers (`<think>…</think>`, `<ranking>…</ranking>`), found in linear time.
 * An answer is untrusted input (OWASP LLM05/LLM10): the lazy regex `<a>[\s\S]*?</a>` rescans the rest of
 * the text from every unclosed opening tag, so `"<think" × 30000` or `"<ranking>" × n` cost quadratic CPU
 * and blocked the event loop for seconds. Here every tag is found by one pass of a regex whose attribute
 * part stops at the next `<` (the scans from two tags never overlap), and openings are paired with
 * closings by a pointer that only moves forward.
 */

/**
 * Answers longer than this many UTF-16 units are cut from the front before any parsing: the final answer is
 * at the end, and a bound keeps the worst case of every scan over an answer small whatever the model sends.
 * The largest ranking a prompt asks for (100 candidates as `n. [label] title` lines) fits several times over.
 */
export const MAX_ANSWER_CHARS = 32_768;

/** The part of an answer that is parsed: its last MAX_ANSWER_CHARS units (whole, when shorter). */
export function answerTail(answer: string): string {
  return answer.length > MAX_ANSWER_CHARS ? answer.slice(-MAX_ANSWER_CHARS) : answer;
}

/** One opening or closing tag. `name` is lower-case. */
export interface AnswerTag {
  start: number;
  end: number;
  close: boolean;
  name: string;
}

/** A closed section: its opening and its first matching closing tag. */
export interface TagBlock {
  open: AnswerTag;
  close: AnswerTag;
}

/** Names of reasoning sections (`|`-separated, longest spelling wins through `\b`). */
export const THINK_TAGS = 'think|thinking|reasoning';

/**
 * Every tag named by `names` (a `|`-separated list of plain words), in order. `<name …>` takes attributes
 * when `attributes` is set; a closing tag (`</ name >`) never does. Whitespace is allowed after `<` and `/`.
 */
export function findTags(text: string, names: string, attributes: boolean): AnswerTag[] {
  // `(?:\/\s*)?` rather than `\/?\s*`: two adjacent `\s*` would try every split of a run of spaces.
  const re = new RegExp(`<\\s*(\\/\\s*)?(${names})\\b([^<>]*)>`, 'gi');
  const tags: AnswerTag[] = [];
  for (const m of text.matchAll(re)) {
    const close = m[1] !== undefined;
    const rest = m[3] ?? '';
    if ((close || !attributes) && rest.trim() !== '') continue;
    tags.push({ start: m.index, end: m.index + m[0].length, close, name: (m[2] ?? '').toLowerCase() });
  }
  return tags;
}

/**
 * Closed sections, as `/<(name)…>[\s\S]*?<\/\1>/gi` would find them: each opening (outside an earlier
 * section) pairs with the first closing tag of the same name after it; an opening with none is skipped.
 */
export function pairTags(tags: readonly AnswerTag[]): TagBlock[] {
  const closes = new Map<string, AnswerTag[]>();
  for (const t of tags) {
    if (!t.close) continue;
    const list = closes.get(t.name);
    if (list) list.push(t);
    else closes.set(t.name, [t]);
  }
  const next = new Map<string, number>();
  const blocks: TagBlock[] = [];
  let cursor = 0;
  for (const open of tags) {
    if (open.close || open.start < cursor) continue;
    const list = closes.get(open.name) ?? [];
    let i = next.get(open.name) ?? 0;
    while (i < list.length && (list[i] as AnswerTag).start < open.end) i++;
    next.set(open.name, i);
    const close = list[i];
    if (close === undefined) continue;
    blocks.push({ open, close });
    cursor = close.end;
  }
  return blocks;
}

/** `text` with every closed section of `names` replaced by a space. */
export function removeBlocks(text: string, names: string): string {
  const blocks = pairTags(findTags(text, names, true));
  if (blocks.length === 0) return text;
  let out = '';
  let from = 0;
  for (const b of blocks) {
    out += `${text.slice(from, b.open.start)} `;
    from = b.close.end;
  }
  return out + text.slice(from);
}

/** Start of the last answer marker (ranking tag, JSON ranking, authors' marker, json fence), or -1. */
function lastAnswerStart(text: string): number {
  let start = -1;
  for (const m of text.matchAll(/<\s*ranking\s*>|\|\s*beginoftext\s*\||\{\s*["']?ranking["']?\s*:|```json/gi)) {
    start = m.index;
  }
  return start;
}

/**
 * Removes reasoning sections: closed `<think>…</think>` blocks, everything before a stray closing tag
 * (chat templates that open the section in the prompt), and an unclosed `<think>` up to the answer
 * marker that follows it (all of it when there is none: half-finished reasoning is not an answer).
 */
export function stripThink(text: string): string {
  const t = removeBlocks(text, THINK_TAGS);
  const tags = findTags(t, THINK_TAGS, true);
  // Everything up to the last closing tag goes; the tags after it keep their positions in `t`.
  const from = tags.findLast((g) => g.close)?.end ?? 0;
  const open = tags.find((g) => !g.close && g.start >= from);
  if (!open) return t.slice(from);
  const after = t.slice(open.end);
  const answer = lastAnswerStart(after);
  return `${t.slice(from, open.start)} ${answer >= 0 ? after.slice(answer) : ''}`;
}
