/**
 * Deterministic request bodies for the bench: users with histories, top-20 candidate lists, and the
 * rotating body streams the scenarios send (cache hits over a fixed user set, unique misses, a mix,
 * growing histories). Used both by the orchestrator and (transpiled) by child processes, so node:-only.
 */

export interface BenchItem {
  id: string;
  title: string;
  text?: string;
}

export interface BenchCandidate extends BenchItem {
  score: number;
}

const WORDS = [
  'space', 'horror', 'comedy', 'romance', 'drama', 'noir', 'western', 'musical', 'documentary', 'thriller',
  'fantasy', 'animation', 'crime', 'war', 'family', 'mystery', 'adventure', 'history', 'sport', 'science',
  'robots', 'detectives', 'pirates', 'dragons', 'heist', 'survival', 'journey', 'revenge', 'friendship', 'music',
] as const;

const w = (i: number): string => WORDS[((i % WORDS.length) + WORDS.length) % WORDS.length] as string;

/** Item number `n` of a catalogue: a stable title like "The Robots Journey (1987) — science fiction". */
export function catalogueItem(n: number): BenchItem {
  return {
    id: `m${n}`,
    title: `The ${w(n * 7)} ${w(n * 3 + 1)} of ${w(n * 11 + 5)} (${1950 + (n % 70)}) — ${w(n + 2)} ${w(n * 5 + 3)}`,
  };
}

/** The history of user `u` after `len` interactions (oldest first); growing `len` appends one item. */
export function userHistory(u: number, len: number): BenchItem[] {
  const out: BenchItem[] = [];
  for (let i = 0; i < len; i++) out.push(catalogueItem(u * 131 + i * 17));
  return out;
}

/** A baseline top-k (default 20) for user `u`, scores descending, each with a short description. */
export function userCandidates(u: number, k = 20): BenchCandidate[] {
  const out: BenchCandidate[] = [];
  for (let i = 0; i < k; i++) {
    const n = 100_000 + u * 53 + i * 29;
    const item = catalogueItem(n);
    out.push({
      id: `c${n}`,
      title: item.title,
      text: `A ${w(n)} story about ${w(n * 3)} and ${w(n * 7 + 2)}, with ${w(n + 9)} at its heart.`,
      score: Math.round((1 - i / k) * 1000) / 1000,
    });
  }
  return out;
}

/** The JSON body of POST /v1/rerank (the floor accepts the same shape). */
export function rerankBody(userId: string, history: BenchItem[], candidates: BenchCandidate[]): string {
  return JSON.stringify({ userId, history, candidates });
}

/** History length sent with every request: the service's prompt uses the last 10 (DEFAULT_HISTORY_LENGTH). */
export const HISTORY_LEN = 20;

/** Bodies of the fixed, warmed cache-hit user set (`hit-<i>`). */
export function hitBodies(users: number): string[] {
  const out: string[] = [];
  for (let u = 0; u < users; u++) out.push(rerankBody(`hit-${u}`, userHistory(u, HISTORY_LEN), userCandidates(u)));
  return out;
}

/**
 * A body generator for cache misses: every call is a user never seen before (`miss-<tag>-<n>`), so neither
 * the exact nor the latest profile exists and the service must generate one synchronously.
 * The user id is spliced into a pre-serialised template to keep the load generator's own CPU low.
 */
const PLACEHOLDER = '@@USER@@';

export function missStream(tag: string, templates: number): () => string {
  const parts: Array<[string, string]> = [];
  for (let u = 0; u < templates; u++) {
    const body = rerankBody(PLACEHOLDER, userHistory(1_000 + u, HISTORY_LEN), userCandidates(1_000 + u));
    const [head, tail] = body.split(PLACEHOLDER) as [string, string];
    parts.push([head, tail]);
  }
  let n = 0;
  return () => {
    const [head, tail] = parts[n % parts.length] as [string, string];
    return `${head}miss-${tag}-${n++}${tail}`;
  };
}

/** Round-robin over a fixed list of bodies. */
export function rotate(bodies: string[]): () => string {
  let i = 0;
  return () => bodies[i++ % bodies.length] as string;
}

/** `hitPercent`% hits (round-robin over `hits`), the rest misses, interleaved deterministically. */
export function mixStream(hits: string[], misses: () => string, hitPercent: number): () => string {
  const nextHit = rotate(hits);
  const missPercent = 100 - hitPercent;
  let i = 0;
  return () => {
    // Evenly spread: request i is a miss when the running miss quota crosses an integer.
    const miss = Math.floor(((i + 1) * missPercent) / 100) > Math.floor((i * missPercent) / 100);
    i++;
    return miss ? misses() : nextHit();
  };
}
