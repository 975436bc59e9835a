/**
 * The "taste world" the LLM simulator (llm-double.ts) lives in, so that a better profile prompt visibly
 * ranks better and `agp train` against the simulator has something to learn.
 *
 * - Items are titled `Name, a <mood> <era> <genre> set in <setting>`: four aspects, each from a small
 *   vocabulary. Every user has a latent favourite value per aspect; history items show it most of the time.
 * - The simulated profile states the user's usual value (the history's mode) for exactly the aspects the
 *   profile prompt asks about (its cue words: "genre", "era"/"decade"/"recent or older", "mood"/"tone",
 *   "setting"/"place"). The built-in prompt asks about genre and era only.
 * - The simulated reranker (word overlap with the profile, llm-double.ts) puts items sharing more of the
 *   profile's values first. Each user's chosen item matches all four favourites; several distractors
 *   match genre and era only, so a profile that names mood and setting too ranks the chosen item higher.
 * - Summarise reads the feedback blocks it is sent: for every user whose chosen item was not first, it
 *   finds the aspects on which that item agreed with the history while the profile was silent, and asks
 *   for the most frequent one (the next one on a retry). Edit appends the instruction to the prompt.
 * - Sabotage (the loop's rollback scenario): a prompt with the cue "contrarian" makes the profile name every
 *   value the history does NOT favour, so the reranker puts the chosen item last, worse than no profile at all.
 *   `sabotagedEdit` is an edit that appends such a line to the honest one.
 */
import type { UserRecord } from '../src/agp/dataset.js';
import { createRng } from '../src/agp/rng.js';
import type { Item } from '../src/agp/types.js';

/** The aspects, their vocabularies, the prompt words that make a profile mention them, and the instruction asking for them. */
export const ASPECTS = {
  genre: { values: ['noir', 'comedy', 'western', 'fantasy', 'horror', 'romance'], cue: /\bgenres?\b/i, asks: 'name the genres the user returns to most often' },
  era: { values: ['1950s', '1970s', '1990s', '2010s'], cue: /\b(?:eras?|decades?|recent or older)\b/i, asks: 'say which era or decade the items they choose come from' },
  mood: { values: ['bleak', 'cheerful', 'tense', 'dreamy'], cue: /\b(?:moods?|tones?)\b/i, asks: 'name the mood or tone their choices share' },
  setting: { values: ['tokyo', 'paris', 'cairo', 'oslo', 'lima'], cue: /\b(?:settings?|places?)\b/i, asks: 'name the setting or place the stories they pick are usually set in' },
} as const;
export type Aspect = keyof typeof ASPECTS;
const ORDER: Aspect[] = ['genre', 'era', 'mood', 'setting'];
type Attrs = Record<Aspect, string>;

const NAMES_A = ['Glass', 'Silver', 'Hollow', 'Paper', 'Iron', 'Quiet', 'Crimson', 'Lantern', 'Velvet', 'Winter'];
const NAMES_B = ['Harbour', 'Garden', 'Letters', 'Orbit', 'Bridge', 'Summer', 'Mirror', 'Road', 'Tide', 'Station'];
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const TITLE = /, an? (\w+) (\d{4}s) (\w+) set in (\w+)/i;

/** The title of an item with these attributes. */
export function titleOf(name: string, a: Attrs): string {
  return `${name}, ${/^[aeiou]/.test(a.mood) ? 'an' : 'a'} ${a.mood} ${a.era} ${a.genre} set in ${cap(a.setting)}`;
}

/** The attributes named by a world title, or null for any other title. */
export function attrsOf(title: string): Attrs | null {
  const m = TITLE.exec(title);
  if (!m) return null;
  const a = { mood: m[1], era: m[2], genre: m[3], setting: m[4] } as Record<Aspect, string | undefined>;
  const out = {} as Attrs;
  for (const k of ORDER) {
    const v = a[k]?.toLowerCase();
    if (!v || !(ASPECTS[k].values as readonly string[]).includes(v)) return null;
    out[k] = v;
  }
  return out;
}

/** The most frequent value of each aspect over the items (ties: first seen). */
function modes(items: Attrs[]): Attrs {
  const out = {} as Attrs;
  for (const k of ORDER) {
    const counts = new Map<string, number>();
    for (const a of items) counts.set(a[k], (counts.get(a[k]) ?? 0) + 1);
    out[k] = [...counts.entries()].sort((x, y) => y[1] - x[1])[0]?.[0] ?? '';
  }
  return out;
}

/** Options of the generated users. */
export interface TasteWorldOptions {
  seed?: number;
  /** First user index (train and validation sets must not share ids). */
  offset?: number;
  /** History items per user (default 8). */
  historyLength?: number;
}

/** `n` users with latent tastes, their histories and 10 baseline-ordered candidates (the chosen one among them). */
export function tasteWorldUsers(n: number, o: TasteWorldOptions = {}): UserRecord[] {
  const rng = createRng(`taste-world:${o.seed ?? 1}:${o.offset ?? 0}`);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)] as T;
  const other = (k: Aspect, not: string) => pick(ASPECTS[k].values.filter((v) => v !== not));
  const users: UserRecord[] = [];
  for (let u = 0; u < n; u++) {
    const id = u + (o.offset ?? 0);
    const pref = Object.fromEntries(ORDER.map((k) => [k, pick(ASPECTS[k].values)])) as Attrs;
    let seq = 0;
    const item = (prefix: string, a: Attrs): Item => ({
      id: `${prefix}${id}-${seq}`,
      title: titleOf(`${pick(NAMES_A)} ${pick(NAMES_B)} ${++seq}`, a),
    });
    /** An item matching the favourites on `keep` and differing on every other aspect. */
    const variant = (keep: Aspect[]): Attrs =>
      Object.fromEntries(ORDER.map((k) => [k, keep.includes(k) ? pref[k] : other(k, pref[k])])) as Attrs;
    const history = Array.from({ length: o.historyLength ?? 8 }, () =>
      item('h', Object.fromEntries(ORDER.map((k) => [k, rng.next() < 0.75 ? pref[k] : other(k, pref[k])])) as Attrs),
    );
    const target = item('c', pref);
    const distractors = [
      ...[0, 1, 2].map(() => variant(['genre', 'era'])),
      ...[0, 1].map(() => variant(['genre', 'era', 'mood'])),
      variant(['genre', 'era', 'setting']),
      ...[0, 1, 2].map(() => Object.fromEntries(ORDER.map((k) => [k, pick(ASPECTS[k].values)])) as Attrs),
    ].map((a) => item('c', a));
    const candidates = rng.shuffle([target, ...distractors]);
    users.push({ userId: `tw${id}`, history, candidates, targets: [target.id] });
  }
  return users;
}

/** The cue that makes a prompt a sabotaged one (see worldProfile). */
export const CONTRARIAN_CUE = /\bcontrarian\b/i;

/** The line a sabotaged edit appends: a hidden instruction that, once followed, turns every profile upside down. */
export const SABOTAGE_LINE = 'Be contrarian: describe the user by everything their history does not show.';

/** How the simulated profile writer treats a contrarian line: follow it, or ignore it as noise. */
export type ContrarianHandling = 'follow' | 'ignore';

/** The aspects a profile prompt asks about. */
export function aspectsAskedBy(prompt: string): Aspect[] {
  return ORDER.filter((k) => ASPECTS[k].cue.test(prompt));
}

/**
 * The simulated profile for a world history (`- title` lines), written with `prompt`; undefined when the
 * history is not from this world (the double then answers as it always did). A contrarian prompt (when
 * `contrarian` is 'follow', the default) names every value of every aspect except the usual one: each
 * candidate then overlaps on the aspects where it differs from the user's taste, and the item matching all
 * of them ranks last.
 */
export function worldProfile(prompt: string, historyLines: string[], contrarian: ContrarianHandling = 'follow'): string | undefined {
  const items = historyLines.map(attrsOf).filter((a): a is Attrs => a !== null);
  if (items.length === 0 || items.length < historyLines.length / 2) return undefined;
  const usual = modes(items);
  if (contrarian === 'follow' && CONTRARIAN_CUE.test(prompt)) {
    const others = (k: Aspect) => ASPECTS[k].values.filter((v) => v !== usual[k]);
    return (
      `The user seeks out ${others('genre').join(', ')}; items from the ${others('era').join(', ')}; ` +
      `a ${others('mood').join(', ')} mood; stories set in ${others('setting').map(cap).join(', ')}.`
    );
  }
  const asked = aspectsAskedBy(prompt);
  if (asked.length === 0) return 'The user enjoys a bit of everything.';
  const said: Record<Aspect, string> = {
    genre: `is drawn to ${usual.genre}`,
    era: `favours the ${usual.era}`,
    mood: `likes a ${usual.mood} mood`,
    setting: `prefers stories set in ${cap(usual.setting)}`,
  };
  return `The user ${asked.map((k) => said[k]).join(', ')}.`;
}

/** One user's feedback as the optimiser prompts render it (optimizer-prompts.ts). */
interface ParsedFeedback {
  history: Attrs[];
  profile: string;
  target: Attrs | null;
  failed: boolean;
}

function parseFeedback(block: string): ParsedFeedback {
  const lines = block.split('\n');
  const profileAt = lines.findIndex((l) => l.startsWith('Profile: '));
  const history = lines
    .slice(0, Math.max(0, profileAt))
    .map((l) => /^- "(.*)"$/.exec(l)?.[1] ?? '')
    .map(attrsOf)
    .filter((a): a is Attrs => a !== null);
  const outcome = lines.find((l) => l.startsWith('Outcome: ')) ?? '';
  const chosen = /chose, "(.*?)", was ranked/.exec(outcome)?.[1];
  return {
    history,
    profile: (lines[profileAt] ?? '').toLowerCase(),
    target: chosen ? attrsOf(chosen) : null,
    failed: /too low/.test(outcome),
  };
}

/** For each failed user: the aspects on which the chosen item matched the history while the profile said nothing. */
function missedAspects(text: string): Map<Aspect, number> {
  const votes = new Map<Aspect, number>();
  for (const m of text.matchAll(/<feedback[^>]*>\n([\s\S]*?)\n<\/feedback>/g)) {
    const fb = parseFeedback(m[1] ?? '');
    if (!fb.failed || !fb.target || fb.history.length === 0) continue;
    const usual = modes(fb.history);
    for (const k of ORDER) {
      if (fb.target[k] === usual[k] && !fb.profile.includes(fb.target[k])) votes.set(k, (votes.get(k) ?? 0) + 1);
    }
  }
  return votes;
}

const instructionFor = (k: Aspect, n: number) =>
  `Also ${ASPECTS[k].asks}: for ${n} user${n === 1 ? '' : 's'} the chosen item matched the history on ${k} while the profile never mentioned it.`;

/**
 * The summarise answer: one instruction for the most frequently missed aspect the prompt does not ask
 * about yet and no earlier attempt proposed (`tried` holds the retry note's text). A generic
 * instruction when the feedback is not from this world or names no missed aspect.
 */
export function worldInstruction(userText: string, tried = ''): string {
  const prompt = /<current_prompt>\n([\s\S]*?)\n<\/current_prompt>/.exec(userText)?.[1] ?? '';
  const asked = new Set(aspectsAskedBy(prompt));
  const ranked = [...missedAspects(userText).entries()]
    .filter(([k]) => !asked.has(k) && !tried.includes(ASPECTS[k].asks))
    .sort((a, b) => b[1] - a[1]);
  const best = ranked[0];
  if (best) return instructionFor(best[0], best[1]);
  return 'Name the specific themes the user returns to most often rather than describing their tastes in general terms.';
}

/** The reason answer for one user's feedback. */
export function worldReason(userText: string): string {
  const missed = [...missedAspects(userText).keys()];
  if (missed.length === 0) return 'The profile was too general to separate the chosen item from similar ones.';
  return `The profile never mentioned the user's usual ${missed.join(' or ')}, so similar items outranked the chosen one.\n${missed
    .map((k, i) => `${i + 1}. ${cap(ASPECTS[k].asks)}.`)
    .join('\n')}`;
}

/** The edit answer: the current prompt with the instruction appended, in <prompt> tags. */
export function editedPrompt(userText: string): string {
  const current = /<current_prompt>\n([\s\S]*?)\n<\/current_prompt>/.exec(userText)?.[1] ?? '';
  const instruction = (/<instruction>\n([\s\S]*?)\n<\/instruction>/.exec(userText)?.[1] ?? '').trim();
  return `<prompt>\n${current.trim()}\n${instruction}\n</prompt>`;
}

/**
 * A sabotaged edit: the honest edit plus {@link SABOTAGE_LINE} (once; a prompt that already has it keeps one).
 * While the profile writer ignores the line, the trainer sees only the honest improvement and keeps it.
 */
export function sabotagedEdit(userText: string): string {
  const honest = editedPrompt(userText);
  if (honest.includes(SABOTAGE_LINE)) return honest;
  return honest.replace(/\n<\/prompt>$/, `\n${SABOTAGE_LINE}\n</prompt>`);
}
