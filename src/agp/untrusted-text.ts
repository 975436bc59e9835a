/**
 * Untrusted text (titles, item texts, histories, generated profiles) made safe to place in a prompt
 * (OWASP LLM01): normalised, stripped of markup, delimiters, chat-template tokens and invisible characters,
 * and capped. Every prompt builder goes through sanitizeText.
 */
const OUR_TAGS = 'history|candidates?|ranking|profile|prompt|current_prompt|instruction|feedback|think|thinking|reasoning';
/** A tag in any script (`</саndidates>` with Cyrillic letters reads like ours to a model). */
const ANY_TAG = /<\s*\/?\s*\p{L}[\p{L}\p{M}\p{N}_:-]*(?:\s[^<>]*)?\/?\s*>/gu;
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
  /<\|[^<>|]{0,40}\|>|\|\s*(?:beginoftext|endoftext)\s*\||\[\s*\/?\s*(?:INST|SYS|SYSTEM_PROMPT|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS)\s*\]|<<\s*\/?\s*SYS\s*>>/gi;
/**
 * Invisible format characters (\p{Cf}: zero-width joiners, soft hyphen, bidi controls, BOM, Unicode tag
 * characters used for "ASCII smuggling") and supplementary variation selectors (hidden payloads after emoji).
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\u{E0100}-\u{E01EF}]/gu;
/** Angle-bracket look-alikes NFKC keeps (‹ ⟨ 〈 ❮ ˂ …): shown as parentheses so `‹/candidates›` is no tag. */
const LOOKALIKE_OPEN = /[\u2039\u27e8\u27ea\u27ec\u27ee\u3008\u300a\u2768\u276a\u276c\u276e\u2770\u29fc\u02c2]/gu;
const LOOKALIKE_CLOSE = /[\u203a\u27e9\u27eb\u27ed\u27ef\u3009\u300b\u2769\u276b\u276d\u276f\u2771\u29fd\u02c3]/gu;
/** HTML entities of `<` and `>` (a model may decode them). Other entities are left alone. */
const ENTITY_LT = /&(?:lt|#0*60|#x0*3c);/gi;
const ENTITY_GT = /&(?:gt|#0*62|#x0*3e);/gi;
const LEADING_LABELS = /^(?:\s*\[\s*(?:(?:item|candidate)\s*#?\s*|[c#]\s*)?(?:\d{1,6}|[A-Za-z])\s*\])+/i;
const DATA_MARKERS = new RegExp(
  `<\\s*/?\\s*(?:${OUR_TAGS})\\b[^>]*>|<\\|[^<>|]{0,40}\\|>|\\|\\s*(?:beginoftext|endoftext)\\s*\\||\\[\\s*\\d{1,6}\\s*\\]`,
  'i',
);

/**
 * Makes untrusted text safe to place in a prompt: NFKC-normalises (so full-width `＜` cannot smuggle a
 * tag), turns newlines/tabs into spaces and drops other control and every invisible format character
 * (bidi, zero-width, soft hyphen, Unicode tag characters, supplementary variation selectors), decodes
 * `&lt;`/`&gt;`, shows angle-bracket look-alikes as parentheses, removes tag-like sequences in any script
 * (our delimiters, HTML, chat-template tokens, `[INST]`, the authors' markers), strips `[n]`
 * label prefixes and turns other bracketed numbers into `(n)` so only our labels look like labels,
 * collapses whitespace, and caps the length (in code points) with "…". Never rejects.
 */
export function sanitizeText(s: string, maxChars: number): string {
  if (!(maxChars > 0)) return '';
  // Catalogue titles repeat across requests, so the (pure) result is memoised: on the cache-hit path this
  // turns the dominant CPU cost of building a ranking prompt into a map lookup.
  if (s.length > MEMO_MAX_INPUT) return sanitizeUncached(s, maxChars);
  const key = `${maxChars}\u0000${s}`;
  const hit = sanitizeMemo.get(key);
  if (hit !== undefined) return hit;
  const out = sanitizeUncached(s, maxChars);
  if (sanitizeMemo.size >= MEMO_MAX_ENTRIES) sanitizeMemo.delete(sanitizeMemo.keys().next().value as string);
  sanitizeMemo.set(key, out);
  return out;
}

/** Inputs longer than this are not memoised (long texts rarely repeat and would bloat the memo). */
const MEMO_MAX_INPUT = 512;
/** Bound of the memo: oldest-first eviction keeps it at most this many entries (a few MB at worst). */
const MEMO_MAX_ENTRIES = 20_000;
const sanitizeMemo = new Map<string, string>();

function sanitizeUncached(s: string, maxChars: number): string {
  let t = s
    .normalize('NFKC')
    .replace(/[\t\n\v\f\r\u0085\u2028\u2029]/g, ' ')
    .replace(INVISIBLE, '')
    .replace(ENTITY_LT, '<')
    .replace(ENTITY_GT, '>')
    .replace(LOOKALIKE_OPEN, '(')
    .replace(LOOKALIKE_CLOSE, ')');
  // Removing one tag can join the halves of another (`<cand<x>idates>`, `|<endoftext|`), so repeat until
  // stable; an unclosed `<` goes only once nothing else matches, so it cannot split a tag still to be removed.
  for (let pass = 1; ; pass++) {
    if (pass > MAX_PASSES) {
      t = t.replace(MARKUP, ' ');
      break;
    }
    const next = t.replace(SPECIAL_TOKENS, ' ').replace(ANY_TAG, ' ').replace(TOKEN_HALVES, ' ');
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

/** True when text contains our delimiters, chat-template tokens or candidate labels (leaked data). */
export function containsDataDelimiters(text: string): boolean {
  return DATA_MARKERS.test(text.normalize('NFKC'));
}
