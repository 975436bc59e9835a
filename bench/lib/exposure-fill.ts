/**
 * Synthetic live traffic for the dataset-build bench (bench/dataset-build.ts): exposures of one domain spread
 * evenly over a window, a share of them with a positive event, and the item catalogue holding their titles.
 * Generated in batches from a seeded RNG, so a 1M-exposure fill never holds the window in memory and the
 * Redis and in-memory variants see the same traffic.
 *
 * Shape (defaults of bench/dataset-build.ts): 20 baseline candidates and 10 history items per exposure, drawn
 * from the catalogue with a popularity skew (item = ⌊items · r²⌋, so a page of exposures shares many items
 * as real traffic does); served = a shuffle of the baseline (the reranked list); a positive on a served item
 * near the top. A small share has no history (skipped `noHistory`) and one item in 1,000 has no catalogue
 * entry (rows naming it are `titleExpired`), so every skip reason shows up.
 */
import { randomUUID } from 'node:crypto';
import { createRng } from '../../src/agp/rng.js';
import type { CatalogueEntry } from '../../src/experiments/item-catalogue.js';
import type { ExposureRecord } from '../../src/experiments/ports.js';

/** What to generate. */
export interface TrafficSpec {
  domain: string;
  exposures: number;
  users: number;
  items: number;
  /** Share of exposures with a positive event (default 0.3). */
  positiveShare: number;
  /** Share of exposures whose rerank used no history. */
  noHistoryShare: number;
  candidates: number;
  history: number;
  /** Characters of item text stored with each title (0: title only). */
  textChars: number;
  /** Epoch ms of the first exposure; they are spread evenly over [start, start + windowMs). */
  start: number;
  windowMs: number;
  seed: number;
}

/** One generated batch: the exposures and, for those with one, the positive item. */
export interface TrafficBatch {
  records: ExposureRecord[];
  positives: Array<{ requestId: string; itemId: string }>;
}

/** A 12-character item id. */
export const itemId = (i: number): string => `item-${String(i).padStart(7, '0')}`;
/** One item in 1,000 has no catalogue entry (its title expired). */
export const hasTitle = (i: number): boolean => i % 1000 !== 999;
const title = (i: number) => `The Remarkable Adventures of Item Number ${i}`.slice(0, 45);
const text = (i: number, chars: number) => `A description of item ${i}: `.padEnd(chars, 'lorem ipsum dolor sit amet ').slice(0, chars);

/** The catalogue entries of every titled item, in batches of `size`. */
export function* catalogueBatches(spec: TrafficSpec, size: number): Generator<CatalogueEntry[]> {
  let batch: CatalogueEntry[] = [];
  for (let i = 0; i < spec.items; i++) {
    if (!hasTitle(i)) continue;
    batch.push({ domain: spec.domain, id: itemId(i), title: title(i), ...(spec.textChars > 0 ? { text: text(i, spec.textChars) } : {}) });
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** The exposures of `spec`, in batches of `size`, in served-time order. */
export function* trafficBatches(spec: TrafficSpec, size: number): Generator<TrafficBatch> {
  const rng = createRng(`dataset-build:${spec.seed}`);
  const popular = () => Math.floor(spec.items * rng.next() ** 2);
  const distinct = (n: number): string[] => {
    const ids = new Set<string>();
    while (ids.size < n) ids.add(itemId(popular()));
    return [...ids];
  };
  for (let from = 0; from < spec.exposures; from += size) {
    const out: TrafficBatch = { records: [], positives: [] };
    for (let i = from; i < Math.min(spec.exposures, from + size); i++) {
      const baseline = distinct(spec.candidates);
      const served = rng.shuffle(baseline);
      const requestId = randomUUID();
      out.records.push({
        requestId,
        domain: spec.domain,
        userId: `user-${String(rng.int(spec.users)).padStart(7, '0')}`,
        at: spec.start + Math.floor((i / spec.exposures) * spec.windowMs),
        experiment: null,
        method: 'agp',
        promptVersion: 'v3',
        fallbackReason: null,
        served,
        servedArms: null,
        baseline,
        history: rng.next() < spec.noHistoryShare ? [] : distinct(spec.history),
      });
      if (rng.next() < spec.positiveShare) out.positives.push({ requestId, itemId: served[Math.floor(served.length * rng.next() ** 2)] as string });
    }
    yield out;
  }
}
