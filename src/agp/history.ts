/**
 * Which part of a user's history a profile is built from, and the digest that identifies it.
 * The profile cache is keyed by this digest, so any change to the items used must change it.
 */
import { createHash } from 'node:crypto';
import type { Item } from './types.js';

/**
 * The last `n` items of the history, oldest first (the order is preserved).
 * `n <= 0` (or NaN) selects nothing; fractional `n` is floored.
 */
export function selectHistory(history: Item[], n: number): Item[] {
  const k = Number.isFinite(n) ? Math.floor(n) : n > 0 ? history.length : 0;
  if (!(k > 0)) return [];
  return history.slice(-k);
}

/**
 * Stable hex digest (first 32 hex chars of sha256) of the ids and titles of exactly these items, in order.
 * JSON of `[[id, title], ...]` is unambiguous: no choice of ids or titles can make two different
 * histories encode to the same string (a plain join on a separator could), and JSON.stringify writes a lone
 * surrogate as an escape (`\ud800`), so the UTF-8 being hashed is exact even for ill-formed text.
 */
export function historyDigest(items: Item[]): string {
  const encoded = JSON.stringify(items.map((it) => [it.id, it.title]));
  return createHash('sha256').update(encoded, 'utf8').digest('hex').slice(0, 32);
}
