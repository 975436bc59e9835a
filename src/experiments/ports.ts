/**
 * Ports of the experiments storage: what serving records per rerank (an exposure), what recommenders send
 * back (outcome events), and the one store both live in. Adapters (src/store/memory-exposure-store.ts,
 * src/store/redis-exposure-store.ts) implement ExposureStore; only the composition root wires one in.
 * Pure: nothing here imports fastify, ioredis or prom-client.
 */

/** Event types a recommender may send (the contract of POST /v1/events). */
export const EVENT_TYPES = ['impression', 'click', 'add_to_cart', 'purchase'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The types that make an item "positive" for the metrics (an impression does not). */
export const POSITIVE_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>(['click', 'add_to_cart', 'purchase']);

/** The experiment an exposure was served under. `arm` is null under interleaving (see `servedArms`). */
export interface ExposureExperiment {
  id: string;
  arm: string | null;
}

/** Everything the service keeps about one 200 from POST /v1/rerank, keyed by its requestId. */
export interface ExposureRecord {
  requestId: string;
  domain: string;
  userId: string;
  /** When it was served (epoch ms). */
  at: number;
  experiment: ExposureExperiment | null;
  method: string;
  promptVersion: string;
  /** The fallback reason of the rerank, or null when the LLM order was served. */
  fallbackReason: string | null;
  /** Item ids as served (after topN), best first. */
  served: readonly string[];
  /** Under interleaving: per served position, the arm that contributed the item; otherwise null. */
  servedArms: readonly (string | null)[] | null;
  /** Every candidate id in the baseline (caller's) order. */
  baseline: readonly string[];
  /** The history item ids the rerank used. */
  history: readonly string[];
}

/** One event ready to be stored: validated, attributed to an exposure, with its deduplication key. */
export interface EventWrite {
  /** Unique per exposure: `eventId` when the caller gave one, else (itemId, type); see event-validation.ts. */
  dedupeKey: string;
  itemId: string;
  positive: boolean;
}

/** Positive-event counts per served item id (items without a positive event are absent). */
export type PositiveCounts = ReadonlyMap<string, number>;

/** What applying a batch of events to one exposure did, atomically. */
export interface EventApplication {
  /** Per event, in order: true when it was counted, false when its dedupe key was already seen. */
  fresh: readonly boolean[];
  /** Positive counts just before this batch, and just after it (one atomic transition). */
  before: PositiveCounts;
  after: PositiveCounts;
}

/** Running sums of one experiment: arm → field → value (the fields are the statistics' business). */
export type ArmSums = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * Storage of exposures, their events and per-experiment running sums.
 *
 * Erasure contract: after deleteUser(u) resolves, no exposure of u served before the erasure is readable,
 * none is written later (a put still queued is dropped), and events for those request ids find no exposure.
 */
export interface ExposureStore {
  /**
   * Stores exposures, each expiring `ttlSeconds` after the write. Returns how many were written (an exposure
   * of a user erased after it was served is dropped). The first write of a requestId wins: writing it again
   * changes nothing (a retried write is harmless).
   */
  put(records: readonly ExposureRecord[], ttlSeconds: number): Promise<number>;
  /** The exposure of a requestId, or null when unknown, expired or erased. */
  get(requestId: string): Promise<ExposureRecord | null>;
  /**
   * Applies events to one exposure in one atomic step: each dedupe key counts once for the exposure's life
   * (a retried batch counts nothing twice); a fresh positive event adds 1 to its item's count. Resolves null
   * (and stores nothing) when the exposure no longer exists. Item ids must already be checked against `served`.
   */
  applyEvents(requestId: string, events: readonly EventWrite[]): Promise<EventApplication | null>;
  /** Positive-event counts of an exposure's items (empty map when none), or null when the exposure is gone. */
  positives(requestId: string): Promise<PositiveCounts | null>;
  /** Erases every exposure and event of a user; returns the number of exposures removed. */
  deleteUser(userId: string): Promise<number>;
  /** Adds `deltas` (arm → field → increment) to an experiment's running sums. Not reversed by erasure: they hold no ids. */
  addToSums(experimentId: string, deltas: ArmSums): Promise<void>;
  /** The running sums of an experiment (empty when it has none). */
  readSums(experimentId: string): Promise<ArmSums>;
  /** Forgets an experiment's running sums. */
  deleteSums(experimentId: string): Promise<void>;
}
