/**
 * Deterministic, seedable random numbers (mulberry32).
 * Training shuffles, bootstrap resampling and position-bias experiments all draw from here so that a
 * run can be replayed exactly; the whole generator state is one uint32, so checkpoints can store it.
 */
import { createHash } from 'node:crypto';

/** A small deterministic random source whose state can be saved and restored. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, maxExclusive). @throws RangeError unless maxExclusive is a positive integer <= 2^32. */
  int(maxExclusive: number): number;
  /** Fisher–Yates shuffle into a NEW array; the input is left untouched. */
  shuffle<T>(xs: T[]): T[];
  /** The current state (a uint32); pass it to setState to resume the exact sequence. */
  getState(): number;
  /** Restores a state previously returned by getState. */
  setState(s: number): void;
}

const UINT32 = 4294967296;

/** Hashes any seed into a uint32 so nearby seeds (1, 2, 3) give unrelated streams. */
function seedToState(seed: number | string): number {
  if (typeof seed === 'number' && !Number.isFinite(seed)) {
    throw new RangeError(`rng seed must be finite, got ${seed}`);
  }
  return createHash('sha256').update(String(seed)).digest().readUInt32BE(0);
}

/**
 * Creates a deterministic generator. The same seed always yields the same sequence, on every platform.
 * Numbers and strings are hashed the same way, so `createRng(7)` equals `createRng('7')`.
 */
export function createRng(seed: number | string): Rng {
  let state = seedToState(seed);

  const next = (): number => {
    // mulberry32: tiny, fast, passes the statistical tests that matter for shuffles and resampling.
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / UINT32;
  };

  const int = (maxExclusive: number): number => {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > UINT32) {
      throw new RangeError(`rng.int needs a positive integer bound, got ${maxExclusive}`);
    }
    return Math.floor(next() * maxExclusive);
  };

  return {
    next,
    int,
    shuffle<T>(xs: T[]): T[] {
      const out = xs.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const tmp = out[i] as T;
        out[i] = out[j] as T;
        out[j] = tmp;
      }
      return out;
    },
    getState: () => state,
    setState(s: number): void {
      if (!Number.isInteger(s)) throw new RangeError(`rng state must be an integer, got ${s}`);
      state = s >>> 0;
    },
  };
}
