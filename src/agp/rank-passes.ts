/**
 * Position-bias control for listwise ranking: k passes over seeded shuffles of the candidate order, run in
 * parallel under one deadline, aggregated by Borda count (permutation self-consistency, Tang et al. 2024,
 * "Found in the Middle"). The passes also give a confidence: how much they agree (Kendall's tau).
 *
 * Scores (per candidate INDEX, in [0, 1], higher = more relevant):
 *   points(i) = Σ over the s successful passes of (n − 1 − pos_p(i))      (Borda points, pos 0-based)
 *   score(i)  = points(i) / (s · (n − 1))                                 (n = 1: score 1)
 * With one pass this is the position: (n − 1 − pos) / (n − 1). The aggregated order sorts by points, higher
 * first, ties broken by the baseline order (the lower candidate index first).
 *
 * Agreement: the mean Kendall's tau over every pair of successful passes, mapped to [0, 1] as (tau + 1) / 2;
 * null with fewer than 2 successful passes. Identical passes give 1, reversed passes 0.
 */
import type { CallContext, RankInput, RankResult } from './pipeline.js';
import { identity, rankCandidates } from './pipeline.js';
import { LlmCallError } from './ports.js';
import { createRng } from './rng.js';
import type { Item, ParseOutcome } from './types.js';

/** Most passes a request may ask for (the HTTP schema and the CLI enforce it too). */
export const MAX_SHUFFLES = 5;

/** How many passes were asked for and how many produced a usable permutation. */
export interface PassCount {
  requested: number;
  succeeded: number;
}

/** Result of `rankWithPasses`: the aggregated order plus scores (per candidate index) and agreement. */
export interface PassesResult extends RankResult {
  /** scores[i] is candidate i's score in [0, 1] (see the module comment for the formula). */
  scores: number[];
  /** Mean pairwise Kendall's tau mapped to [0, 1]; null with fewer than 2 successful passes. */
  agreement: number | null;
  passes: PassCount;
}

/** Settings of a multi-pass ranking. */
export interface PassesOptions {
  /** Number of passes (1 = today's single pass over the baseline order). */
  shuffles: number;
  /** Seed of the shuffles (serving: the requestId), so a request can be reproduced. */
  seed: string;
}

/** Server settings of the pass count (RERANK_SHUFFLES_DEFAULT / _DOMAINS / _MAX). */
export interface ShufflesSettings {
  default: number;
  domains: Readonly<Record<string, number>>;
  max: number;
}

/**
 * The passes a request gets: its own `shuffles`, else its domain's default, else the server default;
 * whichever it is, clamped to the server maximum (a request above it is served with the maximum, not refused).
 */
export function resolveShuffles(requested: number | undefined, domain: string, s: ShufflesSettings): number {
  const wanted = requested ?? (Object.hasOwn(s.domains, domain) ? (s.domains[domain] as number) : s.default);
  return Math.min(wanted, s.max);
}

/**
 * The candidate order shown to pass `pass`: pass 0 is the baseline order (so a single pass is exactly
 * today's ranking); pass p > 0 is a Fisher–Yates shuffle seeded by `${seed}:${p}`.
 */
export function passPermutation(n: number, seed: string, pass: number): number[] {
  const id = identity(n);
  return pass === 0 ? id : createRng(`${seed}:${pass}`).shuffle(id);
}

/**
 * Scores are kept to 4 decimals where they are made: the API serves 4 (more cost fast-json-stringify about
 * 13 µs per 20-item response) and a cached ranking stores 4 (a full double per candidate tripled a cached
 * entry of 100 candidates).
 */
export const roundScore = (x: number): number => Math.round(x * 10_000) / 10_000;

/**
 * Scores by position in one order: scores[order[pos]] = (n − 1 − pos) / (n − 1), n = 1 → 1.
 * Also what a fallback answer (the baseline order) reports.
 */
export function positionScores(order: readonly number[]): number[] {
  const n = order.length;
  const scores = new Array<number>(n);
  for (let pos = 0; pos < n; pos++) scores[order[pos] as number] = n === 1 ? 1 : roundScore((n - 1 - pos) / (n - 1));
  return scores;
}

/**
 * Borda aggregation of full permutations of 0..n−1 (each best first). Returns the aggregated order (points
 * descending, ties by the lower index: the baseline order) and every candidate's normalised score.
 * With no passes, the baseline order with position scores.
 */
export function bordaAggregate(passes: readonly (readonly number[])[], n: number): { order: number[]; scores: number[] } {
  if (passes.length === 0) return { order: identity(n), scores: positionScores(identity(n)) };
  const points = new Array<number>(n).fill(0);
  for (const p of passes) {
    if (p.length !== n) throw new RangeError(`bordaAggregate: a pass has ${p.length} items, expected ${n}`);
    for (let pos = 0; pos < n; pos++) {
      const i = p[pos] as number;
      points[i] = (points[i] as number) + n - 1 - pos;
    }
  }
  const order = identity(n).sort((a, b) => (points[b] as number) - (points[a] as number) || a - b);
  const max = passes.length * (n - 1);
  const scores = points.map((x) => (max === 0 ? 1 : roundScore(x / max)));
  return { order, scores };
}

/** Kendall's tau (no ties) between two permutations of the same n items; 1 when n < 2. O(n²). */
export function kendallTau(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  if (n < 2) return 1;
  const posB = new Array<number>(n);
  for (let i = 0; i < n; i++) posB[b[i] as number] = i;
  let concordant = 0;
  let discordant = 0;
  for (let i = 0; i < n; i++) {
    const bi = posB[a[i] as number] as number;
    for (let j = i + 1; j < n; j++) {
      if ((posB[a[j] as number] as number) > bi) concordant += 1;
      else discordant += 1;
    }
  }
  return (concordant - discordant) / ((n * (n - 1)) / 2);
}

/** Mean pairwise Kendall's tau mapped to [0, 1] as (tau + 1) / 2; null with fewer than 2 passes. */
export function passAgreement(passes: readonly (readonly number[])[]): number | null {
  if (passes.length < 2) return null;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < passes.length; i++) {
    for (let j = i + 1; j < passes.length; j++) {
      sum += kendallTau(passes[i] as number[], passes[j] as number[]);
      pairs += 1;
    }
  }
  return (sum / pairs + 1) / 2;
}

/**
 * Ranks with `shuffles` listwise passes IN PARALLEL under the same context (one deadline; `ctx.usage`
 * counts every call), each over a seeded shuffle of the candidates, and aggregates them by Borda count.
 * Passes that throw or answer junk are left out. If none succeeds: the first LlmCallError is thrown (any
 * other error if there is none), else (every pass unparseable) outcome `unparseable` with the identity
 * order. With shuffles = 1 this is exactly `rankCandidates` over the baseline order.
 */
export async function rankWithPasses(ctx: CallContext, input: RankInput, o: PassesOptions): Promise<PassesResult> {
  const k = Number.isFinite(o.shuffles) ? Math.max(1, Math.min(MAX_SHUFFLES, Math.floor(o.shuffles))) : 1;
  const n = input.candidates.length;
  if (k === 1) {
    const r = await rankCandidates(ctx, input);
    const ok = r.outcome !== 'unparseable';
    return { ...r, scores: positionScores(r.order), agreement: null, passes: { requested: 1, succeeded: ok ? 1 : 0 } };
  }
  const perms = Array.from({ length: k }, (_, p) => passPermutation(n, o.seed, p));
  const settled = await Promise.allSettled(
    perms.map((perm) => rankCandidates(ctx, { ...input, candidates: perm.map((i) => input.candidates[i] as Item) })),
  );
  const orders: number[][] = [];
  let repaired = false;
  let firstLlmError: LlmCallError | undefined;
  let firstError: { err: unknown } | undefined;
  settled.forEach((s, p) => {
    if (s.status === 'rejected') {
      if (s.reason instanceof LlmCallError) firstLlmError ??= s.reason;
      firstError ??= { err: s.reason };
      return;
    }
    if (s.value.outcome === 'unparseable') return;
    if (s.value.outcome === 'repaired') repaired = true;
    const perm = perms[p] as number[];
    orders.push(s.value.order.map((j) => perm[j] as number)); // back to original candidate indices
  });
  const passes = { requested: k, succeeded: orders.length };
  if (orders.length === 0) {
    if (firstLlmError) throw firstLlmError;
    if (firstError) throw firstError.err;
    const order = identity(n);
    return { order, outcome: 'unparseable', scores: positionScores(order), agreement: null, passes };
  }
  const { order, scores } = bordaAggregate(orders, n);
  const outcome: ParseOutcome = repaired ? 'repaired' : 'ok';
  return { order, outcome, scores, agreement: passAgreement(orders), passes };
}
