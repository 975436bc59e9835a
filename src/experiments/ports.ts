/**
 * Ports of the experiments storage: what serving records per rerank (an exposure), what recommenders send
 * back (outcome events), and the one store both live in. Adapters (src/store/memory-exposure-store.ts,
 * src/store/redis-exposure-store.ts) implement ExposureStore; only the composition root wires one in.
 * Pure: nothing here imports fastify, ioredis or prom-client.
 */
import type { ShadowSettings } from './shadow-types.js';

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

/**
 * An exposure already encoded (exposure-codec.ts `encodedExposure`): what a store needs to route and write
 * it, and its document. The recorder encodes at record() time, so the object graph of a served list (a few
 * hundred small objects) dies young instead of surviving the gather into the old generation.
 */
export interface EncodedExposure {
  requestId: string;
  domain: string;
  userId: string;
  at: number;
  /** encodeExposure() of the record. */
  doc: string;
}

/** What ExposureStore.put takes: a record, or one already encoded. */
export type ExposureWrite = ExposureRecord | EncodedExposure;

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
  /**
   * The transition the experiment's running sums must make: `before` is the positive counts they were last
   * claimed at, `after` the counts now, which this step claims. Claims are atomic, so concurrent batches get
   * consecutive transitions that add up to exactly the final state; a retried batch whose sums update
   * failed (and was released, see releaseClaim) gets its transition again.
   */
  before: PositiveCounts;
  after: PositiveCounts;
}

/** Running sums of one experiment: arm → field → value (the field names are experiment-sums.ts's business). */
export type ArmSums = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * One user's change in one arm: `count` exposures added (0 for an event) and per-field deltas of the user's
 * own totals. The store keeps each (experiment, arm, user)'s totals and folds the change into the arm's
 * user-level sums atomically (user-level-fold.ts defines the fold; the Redis store runs the same fold in Lua).
 */
export interface UserDelta {
  arm: string;
  count: number;
  sums: Readonly<Record<string, number>>;
}

/** One atomic update of an experiment's running sums, from one exposure or one event transition. */
export interface SumsUpdate {
  /** The user the change belongs to (the shard key; never stored in any label or sum). */
  userId: string;
  /** Plain commutative increments: arm → field → delta. */
  increments: ArmSums;
  /** Per-arm changes of this user's totals (empty when none). */
  users: readonly UserDelta[];
}

/**
 * Storage of exposures, their events and per-experiment running sums.
 *
 * Erasure contract: after deleteUser(u) resolves, no exposure of u served before the erasure is readable,
 * none is written later (a put still queued is dropped), and events for those request ids find no exposure.
 */
export interface ExposureStore {
  /**
   * Stores exposures, each expiring `ttlSeconds` after the write. Returns, per record, whether it was written
   * now (false: an exposure of a user erased after it was served is dropped; a requestId already stored keeps
   * its first write, so a retried write is harmless and reports false).
   */
  put(records: readonly ExposureWrite[], ttlSeconds: number): Promise<readonly boolean[]>;
  /** The exposure of a requestId, or null when unknown, expired or erased. */
  get(requestId: string): Promise<ExposureRecord | null>;
  /**
   * Applies events to one exposure in one atomic step: each dedupe key counts once for the exposure's life
   * (a retried batch counts nothing twice); a fresh positive event adds 1 to its item's count. Resolves null
   * (and stores nothing) when the exposure no longer exists. Item ids must already be checked against `served`.
   */
  applyEvents(requestId: string, events: readonly EventWrite[]): Promise<EventApplication | null>;
  /**
   * Undoes a claim whose sums update failed: when the claimed counts are still `claimed`, sets them back to
   * `restore`, so the next batch (a retry) derives the transition again. False when a later batch claimed
   * past it (that batch's transition starts from `claimed`; the failed part is then lost and counted).
   */
  releaseClaim(requestId: string, claimed: PositiveCounts, restore: PositiveCounts): Promise<boolean>;
  /** Positive-event counts of an exposure's items (empty map when none), or null when the exposure is gone. */
  positives(requestId: string): Promise<PositiveCounts | null>;
  /** Erases every exposure and event of a user; returns the number of exposures removed. */
  deleteUser(userId: string): Promise<number>;
  /**
   * Applies one update to an experiment's running sums atomically: the increments, and for each user delta
   * the user's stored totals and the arm's user-level sums (user-level-fold.ts). Sharded by userId, so one
   * experiment's writes spread over the cluster.
   */
  applySums(experimentId: string, update: SumsUpdate): Promise<void>;
  /** The running sums of an experiment, merged over its shards (empty when it has none). */
  readSums(experimentId: string): Promise<ArmSums>;
  /** Forgets an experiment's running sums and per-user totals. */
  deleteSums(experimentId: string): Promise<void>;
  /**
   * Erasure: forgets a user's stored totals in an experiment (the only place sums hold a user id). The
   * aggregates keep the user's past contribution (they hold no id); a later exposure of the same id counts
   * as a new user.
   */
  forgetUserTotals(experimentId: string, arms: readonly string[], userId: string): Promise<void>;
  /**
   * Streams a domain's exposures served in [since, until) (epoch ms), in pages of at most `pageSize`, each
   * with its positive counts, without loading the window: the Redis store walks per-domain hour buckets
   * (a time index written in the put path), the memory store its entries. An erased or expired exposure is
   * never yielded. Order: by served time on Redis; unspecified in memory.
   */
  scan(domain: string, since: number, until: number, pageSize?: number): AsyncIterable<ScannedExposure[]>;
}

/** One exposure of a scan with its positive-event counts (per item; every positive type together). */
export interface ScannedExposure {
  exposure: ExposureRecord;
  positives: PositiveCounts;
}

/** Lifecycle of an experiment: running until stopped by a person, a promotion or a guardrail. */
export type ExperimentState = 'running' | 'stopped';

/** Why an experiment stopped. */
export interface StopReason {
  kind: 'manual' | 'promoted' | 'guardrail';
  /** Human-readable: who or what stopped it, with the numbers for a guardrail. */
  message: string;
  /** The promoted arm, or the arm that breached a guardrail. */
  arm?: string | undefined;
}

/** An experiment as stored: its definition (experiment-types.ts) and its lifecycle. */
export interface ExperimentRecord {
  id: string;
  domain: string;
  mode: 'ab' | 'interleave' | 'shadow';
  arms: ReadonlyArray<{ name: string; method: 'agp' | 'direct' | 'cot' | 'baseline'; promptVersion?: string | undefined; weight?: number | undefined }>;
  trafficShare: number;
  guardrails: {
    maxFallbackRate?: number | undefined;
    maxLatencyP99Ms?: number | undefined;
    maxLlmCallsPerExposure?: number | undefined;
    minExposures?: number | undefined;
  };
  state: ExperimentState;
  createdAt: number;
  stoppedAt: number | null;
  stopReason: StopReason | null;
  /** Always-valid p-values of the last look per treatment arm (they only ever fall; see always-valid.ts). */
  pValues: Readonly<Record<string, number>>;
  /** Mode `shadow` only: its concurrency and LLM-call budget (shadow-types.ts). */
  shadow?: ShadowSettings | undefined;
}

/** Why create() refused. */
export type CreateRefusal = { reason: 'domain_busy'; runningId: string } | { reason: 'too_many_running'; max: number };

/**
 * Storage of experiment definitions and their lifecycle. Small and rarely written (admin actions, guardrail
 * stops, p-values after a look); read by every API replica's poller once a second.
 */
export interface ExperimentStore {
  /**
   * Stores a new running experiment, atomically refusing when its domain already has a running one or
   * `maxRunning` are running. Resolves null on success.
   */
  create(record: ExperimentRecord, maxRunning: number): Promise<CreateRefusal | null>;
  get(id: string): Promise<ExperimentRecord | null>;
  /** Every experiment (optionally of one domain), newest first. */
  list(domain?: string): Promise<ExperimentRecord[]>;
  /** The running experiments (at most one per domain). */
  running(): Promise<ExperimentRecord[]>;
  /**
   * Moves a running experiment to stopped (compare-and-set: resolves null, changing nothing, when it is not
   * running or unknown), so two replicas stopping it at once record one reason.
   */
  stop(id: string, at: number, reason: StopReason): Promise<ExperimentRecord | null>;
  /** Lowers stored p-values to the given ones where smaller (a running minimum; never raises one). */
  lowerPValues(id: string, pValues: Readonly<Record<string, number>>): Promise<void>;
}
