/**
 * Untrusted text (titles, item texts, histories, generated profiles) made safe to place in a prompt
 * (OWASP LLM01): normalised, stripped of markup, delimiters, chat-template tokens and invisible characters,
 * and capped. Every prompt builder goes through sanitizeText.
 */
const OUR_TAGS = 'history|candidates?|ranking|profile|prompt|current_prompt|instruction|feedback|think|thinking|reasoning';
/** A tag in any script (`</саndidates>` with Cyrillic letters reads like ours to a model). */
const ANY_TAG = /<\s*(?:\/\s*)?\p{L}[\p{L}\p{M}\p{N}_:-]*(?:[\s/][^<>]*)?>/gu;
/**
 * An unclosed `<` before a word (closed tags are removed first): `<ranking`, or `<rаnking` in Cyrillic, which
 * the ` — ` before a candidate's text and a `>` in that text would otherwise close into a tag.
 */
const DANGLING_TAG = /((?:<[\s/]*)+)(\p{L})?/gu;
const undangle = (m: string, lts: string, letter: string | undefined): string => (letter ? `${lts.replace(/</g, '')}${letter}` : m);
/**
 * Each pass of the removal loop is linear, but nesting (`<a<a<a…>>>`) needs one pass per level: quadratic
 * CPU for a 16 KB text. No real title nests this deep; past the cap every markup character goes at once.
 */
const MAX_PASSES = 8;
const MARKUP = /[<>|[\]]/g;
/** Halves of a chat-template token (`<|`, `|>`): a title ending in one and a text starting with the other
 * would meet around the ` — ` separator of a candidate line. */
const TOKEN_HALVES = /<\s*\||\|\s*>/g;
/** Chat-template tokens (ChatML, Llama, DeepSeek after NFKC), Llama 2/Mistral markers, the authors' markers. */
const SPECIAL_TOKENS =
  /<\|[^<>|]{0,40}\|>|\|\s*(?:beginoftext|endoftext)\s*\||\[\s*(?:\/\s*)?(?:INST|SYS|SYSTEM_PROMPT|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS)\s*\]|<<\s*(?:\/\s*)?SYS\s*>>/gi;
/**
 * Invisible format characters (\p{Cf}: zero-width joiners, soft hyphen, bidi controls, BOM, Unicode tag
 * characters used for "ASCII smuggling") and supplementary variation selectors (hidden payloads after emoji).
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\u{E0100}-\u{E01EF}]/gu;
/** Angle-bracket look-alikes NFKC keeps (‹ ⟨ 〈 ❮ ˂ …): shown as parentheses so `‹/candidates›` is no tag. */
const LOOKALIKE_OPEN = /[\u2039\u27e8\u27ea\u27ec\u27ee\u3008\u300a\u2768\u276a\u276c\u276e\u2770\u29fc\u02c2]/gu;
const LOOKALIKE_CLOSE = /[\u203a\u27e9\u27eb\u27ed\u27ef\u3009\u300b\u2769\u276b\u276d\u276f\u2771\u29fd\u02c3]/gu;
/**
 * HTML entities of `<` and `>`, decoded so the tag rules see them: with or without `;` (HTML decodes `&lt` alone,
 * and so may a model: `&lt/candidates&gt` reads as a tag), numeric ones not followed by another digit (`&#600`
 * is `ɘ`), and double-encoded ones (`&amp;lt;`). Other entities are left alone.
 */
const ENTITY_LT = /&(?:amp;)*(?:lt|#0*60(?!\d)|#x0*3c(?![\da-f]));?/gi;
const ENTITY_GT = /&(?:amp;)*(?:gt|#0*62(?!\d)|#x0*3e(?![\da-f]));?/gi;
const decodeAngles = (s: string): string => s.replace(ENTITY_LT, '<').replace(ENTITY_GT, '>');
const LEADING_LABELS = /^(?:\s*\[\s*(?:(?:item|candidate)\s*(?:#\s*)?|[c#]\s*)?(?:\d{1,6}|[A-Za-z])\s*\])+/i;
const DATA_MARKERS = new RegExp(
  `<\\s*(?:/\\s*)?(?:${OUR_TAGS})\\b|<\\|[^<>|]{0,40}\\|>|\\|\\s*(?:beginoftext|endoftext)\\s*\\||\\[\\s*\\d{1,6}\\s*\\]`,
  'i',
);

/**
 * Makes untrusted text safe to place in a prompt: NFKC-normalises (so full-width `＜` cannot smuggle a
 * tag), turns newlines/tabs into spaces and drops other control and every invisible format character
 * (bidi, zero-width, soft hyphen, Unicode tag characters, supplementary variation selectors), decodes
 * `&lt;`/`&gt;` (also without `;` and double-encoded), shows angle-bracket look-alikes as parentheses, removes
 * tag-like sequences in any script (our delimiters, HTML, chat-template tokens, `[INST]`, the authors' markers),
 * strips `[n]` label prefixes and turns other bracketed numbers into `(n)` so only our labels look like labels,
 * collapses whitespace, and caps the length (in code points) with "…". Never rejects. Linear in the input,
 * which is first cut to INPUT_CHARS_PER_OUTPUT_CHAR × `maxChars`. Pure and unmemoised; serving uses the
 * memoised form from createTextSanitiser.
 */
export function sanitizeText(s: string, maxChars: number): string {
  if (!(maxChars > 0)) return '';
  const cap = INPUT_CHARS_PER_OUTPUT_CHAR * maxChars + INPUT_CHARS_SLACK;
  let t = (s.length > cap ? s.slice(0, cap) : s)
    .normalize('NFKC')
    .replace(/[\t\n\v\f\r\u0085\u2028\u2029]/g, ' ')
    .replace(INVISIBLE, '')
    .replace(LOOKALIKE_OPEN, '(')
    .replace(LOOKALIKE_CLOSE, ')');
  // Removing one tag can join the halves of another (`<cand<x>idates>`, `|<endoftext|`, `&l<x>t;`), so repeat
  // until stable; an unclosed `<` goes only once nothing else matches, so it cannot split a tag still to be
  // removed. Every change shortens the text, so the loop ends; MAX_PASSES bounds it.
  for (let pass = 1; ; pass++) {
    if (pass > MAX_PASSES) {
      t = t.replace(ENTITY_LT, ' ').replace(ENTITY_GT, ' ').replace(MARKUP, ' ');
      break;
    }
    const next = decodeAngles(t).replace(SPECIAL_TOKENS, ' ').replace(ANY_TAG, ' ').replace(TOKEN_HALVES, ' ');
    if (next !== t) {
      t = next;
      continue;
    }
    const undangled = t.replace(DANGLING_TAG, undangle);
    if (undangled === t) break;
    t = undangled;
  }
  t = t.replace(/\s+/g, ' ').trim().replace(LEADING_LABELS, '').replace(/\[\s*(\d{1,6})\s*\]/g, '($1)').trim();
  const cps = Array.from(t);
  if (cps.length <= maxChars) return t;
  return `${cps.slice(0, maxChars - 1).join('').trimEnd()}…`;
}

/**
 * Input beyond this many UTF-16 units per output code point (plus a slack) is dropped before any work: the
 * output is capped anyway, and a 1 MB text must not cost more than a title. Markup, entities and invisible
 * characters that the rules remove rarely take up 7 in 8 characters of a real text.
 */
const INPUT_CHARS_PER_OUTPUT_CHAR = 8;
const INPUT_CHARS_SLACK = 256;

/** sanitizeText with a memo: the same `(text, maxChars)` gives the same answer. */
export interface TextSanitiser {
  /** sanitizeText(s, maxChars), from the memo when seen before. */
  sanitize(s: string, maxChars: number): string;
  /** Entries in the memo now. */
  readonly size: number;
}

/** Bounds of a sanitiser's memo. */
export interface TextSanitiserOptions {
  /** Oldest-first eviction keeps the memo at most this many entries (default 20,000: a few MB at worst). */
  maxEntries?: number;
  /** Inputs longer than this are not memoised: long texts rarely repeat and would bloat it (default 512). */
  maxInputChars?: number;
}

/**
 * A memoised sanitiser, owned by whoever builds a pipeline (the composition root for serving, each training
 * or evaluation run for itself), so serving, training and tests never share one process-wide memo.
 * Catalogue titles repeat across requests: on the cache-hit path the memo turns the dominant CPU cost of
 * building a ranking prompt into a map lookup.
 */
export function createTextSanitiser(opts: TextSanitiserOptions = {}): TextSanitiser {
  const maxEntries = opts.maxEntries ?? 20_000;
  const maxInput = opts.maxInputChars ?? 512;
  const memo = new Map<string, string>();
  return {
    sanitize(s, maxChars) {
      if (s.length > maxInput || maxEntries <= 0) return sanitizeText(s, maxChars);
      const key = `${maxChars}\u0000${s}`;
      const hit = memo.get(key);
      if (hit !== undefined) return hit;
      const out = sanitizeText(s, maxChars);
      if (memo.size >= maxEntries) memo.delete(memo.keys().next().value as string);
      memo.set(key, out);
      return out;
    },
    get size() {
      return memo.size;
    },
  };
}

/** True when text contains our delimiters (also as entities), chat-template tokens or candidate labels (leaked data). */
export function containsDataDelimiters(text: string): boolean {
  return DATA_MARKERS.test(decodeAngles(text.normalize('NFKC')));
}
