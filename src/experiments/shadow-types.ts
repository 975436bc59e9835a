/**
 * Shadow scoring (issue 11): an experiment mode that reranks a sampled share of a domain's live requests with a
 * candidate arm OFF the request path and never serves it. This file holds its vocabulary and the one storage
 * port its scheduler writes and its results read (adapters: src/store/memory-shadow-store.ts and
 * src/store/redis-shadow-store.ts). Types and constants only.
 */
import type { RunningStats } from './always-valid.js';

/** The limits of one shadow experiment, as stored (defaults filled in at creation). */
export interface ShadowSettings {
  /** Candidate reranks in flight at once, per API replica. */
  maxConcurrency: number;
  /** LLM calls the candidate may make per clock hour (UTC), over all replicas. */
  llmCallsPerHour: number;
}

/** Defaults of {@link ShadowSettings}. */
export const SHADOW_DEFAULTS: Readonly<ShadowSettings> = Object.freeze({ maxConcurrency: 4, llmCallsPerHour: 1_000 });

/** Largest values the admin API accepts (a typo of 40000 concurrent calls is refused, not obeyed). */
export const SHADOW_MAX: Readonly<ShadowSettings> = Object.freeze({ maxConcurrency: 64, llmCallsPerHour: 1_000_000 });

/** Scored records kept per experiment (the oldest are dropped first). */
export const SHADOW_MAX_RECORDS = 50_000;

/** Encoded bytes of scored records kept per experiment (a list of 100 long ids is ~26 KB; the count alone is no bound). */
export const SHADOW_MAX_BYTES = 32 * 1024 * 1024;

/**
 * One scored request: the served list and the candidate's order of the same items. `candidate[i]` is the
 * position in `served` of the candidate's i-th item, so the record is a permutation plus the served ids; no
 * user id is kept (the requestId leads to the exposure, which erasure removes).
 */
export interface ShadowRecord {
  requestId: string;
  /** Item ids as served (after topN), best first. */
  served: readonly string[];
  /** The candidate's order of the served items, as positions in `served`. */
  candidate: readonly number[];
}

/** Why a sampled request was not scored. */
export const SHADOW_SKIPS = ['budget', 'queueFull', 'failed'] as const;
/** One of {@link SHADOW_SKIPS}. */
export type ShadowSkip = (typeof SHADOW_SKIPS)[number];

/** The running counters of a shadow experiment (over every replica, for its whole life). */
export interface ShadowCounters {
  scored: number;
  skipped: Record<ShadowSkip, number>;
  /** LLM calls the candidate made (scored and failed reranks). */
  llmCalls: number;
  /** Kendall's tau of every scored request (count = scored). */
  tau: RunningStats;
}

/** What one write adds: a scored record (with its tau) or none, the LLM calls spent, skips counted. */
export interface ShadowEntry {
  record?: { value: ShadowRecord; tau: number } | undefined;
  /** The clock hour (epoch ms / 3,600,000, floored) the calls are charged to. */
  hour: number;
  llmCalls: number;
  skipped?: Partial<Record<ShadowSkip, number>> | undefined;
}

/** How long and how much a store keeps. */
export interface ShadowRetention {
  /** Records and counters expire this long after the experiment's last write (EXPOSURE_TTL_SECONDS). */
  ttlSeconds: number;
  maxRecords: number;
  maxBytes: number;
}

/** The stored state of a shadow experiment. */
export interface ShadowState {
  counters: ShadowCounters;
  /** Newest first, at most one per requestId. */
  records: ShadowRecord[];
}

/**
 * Storage of shadow scoring. Cluster-safe in Redis: every key of one experiment shares one hash tag. Writes are
 * rare (bounded by the LLM-call budget) except skips, which the scheduler batches.
 */
export interface ShadowStore {
  /** LLM calls charged to (experiment, hour) so far, over every replica. */
  callsThisHour(experimentId: string, hour: number): Promise<number>;
  /** Applies one entry atomically: the record (trimming the oldest beyond the retention), the calls, the counters. */
  add(experimentId: string, entry: ShadowEntry, retention: ShadowRetention): Promise<void>;
  /** Counters (zeros when none) and the retained records, newest first. */
  read(experimentId: string): Promise<ShadowState>;
  /** Forgets an experiment's records and counters. */
  delete(experimentId: string): Promise<void>;
}

/** Counters of an experiment with nothing recorded. */
export function emptyShadowCounters(): ShadowCounters {
  return { scored: 0, skipped: { budget: 0, queueFull: 0, failed: 0 }, llmCalls: 0, tau: { count: 0, sum: 0, sumSq: 0 } };
}

/** The clock hour of an epoch-ms time (what the per-hour budget is charged to). */
export function clockHour(epochMs: number): number {
  return Math.floor(epochMs / 3_600_000);
}
