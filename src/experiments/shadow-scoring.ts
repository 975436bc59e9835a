/**
 * What shadow scoring measures about one request: the candidate's order of the SERVED items and its agreement
 * with the served order (Kendall's tau), and the one encoding both stores keep a record in.
 *
 * The candidate ranks every candidate of the request, but with `topN` only the first N were served; the
 * comparison is over the served items only (the candidate's full order restricted to them), because those
 * are the only items whose outcome (a positive event or none) was observed.
 */
import type { ShadowRecord } from './shadow-types.js';

/**
 * Kendall's tau-a of a permutation of 0..n−1 against the identity: (concordant − discordant pairs) / (n choose 2),
 * in [−1, 1]; 1 when the candidate kept the served order, −1 when it reversed it. Both orders are strict (no
 * ties), so tau-a and tau-b agree. O(n²), n ≤ 100 candidates.
 * @throws RangeError with fewer than 2 items or when `perm` is not a permutation of 0..n−1.
 */
export function kendallTau(perm: readonly number[]): number {
  const n = perm.length;
  if (n < 2) throw new RangeError(`Kendall's tau needs at least 2 items, got ${n}`);
  const seen = new Set(perm);
  if (seen.size !== n || perm.some((p) => !Number.isInteger(p) || p < 0 || p >= n)) throw new RangeError('not a permutation of 0..n-1');
  let balance = 0;
  for (let i = 0; i < n; i++) {
    const a = perm[i] as number;
    for (let j = i + 1; j < n; j++) balance += a < (perm[j] as number) ? 1 : -1;
  }
  return balance / ((n * (n - 1)) / 2);
}

/**
 * The record of one scored request: the candidate's full order (item ids, best first) restricted to the served
 * items, as positions in `served`. Candidate items that were not served are dropped; every served item is in
 * the candidate's order (the reranker returns a permutation of the request's candidates).
 * @throws RangeError when a served item is missing from the candidate's order.
 */
export function shadowRecordOf(requestId: string, served: readonly string[], candidateOrder: readonly string[]): ShadowRecord {
  const position = new Map(served.map((id, i) => [id, i]));
  const candidate: number[] = [];
  for (const id of candidateOrder) {
    const p = position.get(id);
    if (p !== undefined) candidate.push(p);
  }
  if (candidate.length !== served.length) throw new RangeError(`the candidate order misses ${served.length - candidate.length} served item(s)`);
  return { requestId, served: [...served], candidate };
}

/** The candidate's order of the served items, as item ids. */
export function candidateIds(record: ShadowRecord): string[] {
  return record.candidate.map((p) => record.served[p] as string);
}

/** A record as one string: JSON of `[requestId, served, candidate]` (made and parsed only in JavaScript). */
export function encodeShadowRecord(record: ShadowRecord): string {
  return JSON.stringify([record.requestId, record.served, record.candidate]);
}

/** Reverses {@link encodeShadowRecord}; null for a value that is not a record (never thrown at a reader). */
export function decodeShadowRecord(raw: string): ShadowRecord | null {
  try {
    const v = JSON.parse(raw) as unknown;
    if (!Array.isArray(v) || v.length !== 3) return null;
    const [requestId, served, candidate] = v as [unknown, unknown, unknown];
    if (typeof requestId !== 'string' || !Array.isArray(served) || !Array.isArray(candidate)) return null;
    if (!served.every((s) => typeof s === 'string') || candidate.length !== served.length) return null;
    if (!candidate.every((p) => Number.isInteger(p) && (p as number) >= 0 && (p as number) < served.length)) return null;
    return { requestId, served: served as string[], candidate: candidate as number[] };
  } catch {
    return null;
  }
}

/** Bytes of the encoded record, as both stores count them against the retention (UTF-8, like Redis). */
export function shadowRecordBytes(encoded: string): number {
  return Buffer.byteLength(encoded, 'utf8');
}
