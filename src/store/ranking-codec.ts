/**
 * JSON form of a cached ranking, shared by the memory and Redis result caches: anything that is not an
 * object with a permutation-shaped `order` and a cacheable outcome reads as a miss.
 */
import type { CachedRanking } from '../agp/ports.js';

/** Most bytes of one encoded ranking: 100 candidates with scores fit in a few KB; more is not ours. */
export const MAX_RANKING_BYTES = 64 * 1024;

/** The stored text of a ranking. */
export function encodeRanking(entry: CachedRanking): string {
  return JSON.stringify(entry);
}

/** Parses a stored ranking; corrupt, oversized or foreign values read as null (a miss). */
export function decodeRanking(raw: string | null | undefined): CachedRanking | null {
  if (raw == null || raw.length > MAX_RANKING_BYTES) return null;
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
    const { order, outcome } = v as Record<string, unknown>;
    if (outcome !== 'ok' && outcome !== 'repaired') return null;
    if (!Array.isArray(order) || !isPermutation(order)) return null;
    return v as CachedRanking;
  } catch {
    return null;
  }
}

/** True when `order` holds each of 0..n-1 exactly once. */
function isPermutation(order: unknown[]): boolean {
  const seen = new Uint8Array(order.length);
  for (const i of order) {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= order.length || seen[i]) return false;
    seen[i] = 1;
  }
  return true;
}
