/**
 * How candidates are written into a ranking prompt. `full` sends the title and the text (each capped by
 * TextLimits); `compact` sends only the title, cut to COMPACT_TITLE_CHARS: the text is most of a candidate's
 * tokens, and with 100 candidates the candidate block is most of the prompt (bench/token-cost.ts measures it).
 * The labels `[n]` and the answer format stay the same, so the parser and every order are unaffected.
 */
import type { Item } from './types.js';

/** Candidate formats a ranking prompt can use. */
export const CANDIDATE_FORMATS = ['full', 'compact'] as const;
export type CandidateFormat = (typeof CANDIDATE_FORMATS)[number];

/** Longest title the compact format sends, in characters (a title is rarely longer; a hostile one may be). */
export const COMPACT_TITLE_CHARS = 80;

/**
 * The candidates as the format sends them, in the same order and with the same ids (so a ranking of the
 * result is a ranking of the input). `full` returns the input itself.
 */
export function formatCandidates<T extends Item>(candidates: T[], format: CandidateFormat): Item[] {
  if (format === 'full') return candidates;
  return candidates.map((c) => ({ id: c.id, title: cutTitle(c.title) }));
}

function cutTitle(title: string): string {
  if (title.length <= COMPACT_TITLE_CHARS) return title;
  let end = COMPACT_TITLE_CHARS;
  const code = title.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--; // never split a surrogate pair
  return title.slice(0, end).trimEnd();
}
