/**
 * Ports: the small interfaces the AGP method is written against.
 * Adapters (src/llm, src/store, src/jobs) implement them; only the composition root wires them.
 * Nothing here may import fastify, ioredis, openai, bullmq or pino at runtime.
 */
import type { FallbackReason, LabelIssues, LlmRole, Usage } from './types.js';

/** A chat message in the OpenAI wire shape. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A JSON-schema response format for endpoints that support structured output. */
export interface JsonSchemaFormat {
  name: string;
  schema: Record<string, unknown>;
}

/** One LLM call. */
export interface LlmRequest {
  role: LlmRole;
  messages: ChatMessage[];
  /** Absolute deadline in epoch milliseconds (Clock.now() scale). Retries happen only before it. */
  deadline: number;
  /** Caller cancellation (client went away, job cancelled). */
  signal?: AbortSignal | undefined;
  /** Overrides the per-role model. */
  model?: string | undefined;
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  /** Ask for structured output; adapters ignore it when the endpoint is configured without support. */
  responseFormat?: JsonSchemaFormat | undefined;
}

/** A successful LLM answer with its accounting. */
export interface LlmResponse {
  text: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  /** Attempts made, including retries (>= 1). */
  attempts: number;
}

/** Reasons an LLM call can fail; each maps one to one onto a public fallback reason. */
export type LlmFailureReason = Exclude<FallbackReason, 'unparseable' | 'quota_exceeded'>;

/**
 * The only error an LlmClient throws. Serving maps `reason` straight onto `fallback.reason`,
 * so an LLM fault never becomes a 5xx.
 */
export class LlmCallError extends Error {
  override readonly name = 'LlmCallError';
  constructor(
    readonly reason: LlmFailureReason,
    message: string,
    /** Tokens/calls spent before failing (e.g. a retried 500 still cost a request). */
    readonly usage?: Usage,
  ) {
    super(message);
  }
}

/** An OpenAI-compatible chat endpoint with deadline, retries, breaker and concurrency limit inside. */
export interface LlmClient {
  /** False when no endpoint is configured: callers fall back with `llm_unconfigured` without calling. */
  readonly configured: boolean;
  complete(req: LlmRequest): Promise<LlmResponse>;
}

/** Identifies one cached profile. The history digest covers exactly the items used to build it. */
export interface ProfileKey {
  domain: string;
  promptVersion: string;
  userId: string;
  historyDigest: string;
}

/** A cached natural-language user profile. */
export interface StoredProfile {
  text: string;
  historyDigest: string;
  /** Epoch ms when generated. */
  createdAt: number;
}

/**
 * The erasure epoch of a user as a store reports it: opaque, compared only for equality by the store that
 * issued it. A profile generated from data read at one epoch is written only if the user has not been erased
 * since (see ProfileStore.save).
 */
export type ErasureEpoch = string;

/**
 * The epoch to pass when none is known (a failed lookup): the write then lands only if the store remembers
 * no erasure of the user at all.
 */
export const UNKNOWN_ERASURE_EPOCH: ErasureEpoch = '0';

/** Result of one cache lookup: the exact entry, and the user's latest for the same domain and version. */
export interface ProfileLookup {
  exact: StoredProfile | null;
  /** The most recently written profile for (domain, promptVersion, userId), whatever its digest. */
  latest: StoredProfile | null;
  /** The user's erasure epoch at the time of the lookup; hand it to `save` for a profile generated after it. */
  erasureEpoch: ErasureEpoch;
}

/**
 * Profile cache. Implementations: bounded in-memory LRU, Redis.
 *
 * Erasure wins over generation: a profile whose generation started before a `deleteUser` (it carries the
 * epoch of an earlier lookup) is never written after it, so an erased user is not served again from a
 * generation that was already in flight, on this replica or another.
 */
export interface ProfileStore {
  /** One round trip: the exact entry, the latest entry for stale-while-revalidate, and the erasure epoch. */
  lookup(key: ProfileKey): Promise<ProfileLookup>;
  /**
   * Writes the exact entry and makes it the latest, atomically with the check that the user has not been
   * erased since `erasureEpoch` (from the lookup that preceded the generation). Resolves false, writing
   * nothing, when they have. Without `erasureEpoch` the write is unconditional (imports and tests only).
   */
  save(key: ProfileKey, profile: StoredProfile, ttlSeconds: number, erasureEpoch?: ErasureEpoch): Promise<boolean>;
  /**
   * Erases every profile of the user in all domains and versions and starts a new erasure epoch (so that
   * writes of generations already in flight are dropped); returns how many entries were removed.
   */
  deleteUser(userId: string): Promise<number>;
}

/**
 * Identifies one cached ranking: the user it belongs to (its entries live under the user's erasure) and the
 * digest of everything that decides the ranked order (ranking-cache.ts, rankingCacheDigest).
 */
export interface RankingCacheKey {
  userId: string;
  digest: string;
}

/**
 * A cached ranked order: the permutation and its parse outcome, plus whatever small JSON the ranking step
 * adds (scores, agreement...). Opaque to the stores, which keep it as JSON.
 */
export interface CachedRanking {
  order: number[];
  outcome: 'ok' | 'repaired';
  [extra: string]: unknown;
}

/** Result of one ranking-cache lookup. */
export interface RankingLookup {
  entry: CachedRanking | null;
  /** The user's erasure epoch at the time of the lookup; hand it to `save` (same contract as ProfileStore). */
  erasureEpoch: ErasureEpoch;
}

/**
 * Result cache of ranked orders (RERANK_CACHE_TTL_SECONDS). Implementations: bounded in-memory LRU, Redis.
 * Every entry is filed under its user, so an erasure removes the user's cached rankings; a ranking computed
 * before an erasure is never written after it (the epoch check of ProfileStore.save).
 */
export interface RankingCache {
  /** One round trip: the entry (null on a miss or a corrupt value) and the user's erasure epoch. */
  lookup(key: RankingCacheKey): Promise<RankingLookup>;
  /** Writes the entry unless the user was erased since `erasureEpoch`; resolves false when dropped. */
  save(key: RankingCacheKey, entry: CachedRanking, ttlSeconds: number, erasureEpoch: ErasureEpoch): Promise<boolean>;
  /** Erases every cached ranking of the user and starts a new erasure epoch; returns how many were removed. */
  deleteUser(userId: string): Promise<number>;
}

/** Quality figures attached to a prompt version by training or evaluation. */
export interface PromptMetrics {
  trainNdcgPerEpoch?: number[];
  valNdcgPerEpoch?: number[];
  baselineNdcg?: number;
  bestValNdcg?: number;
  testNdcg?: number;
  llmCalls?: number;
  tokens?: number;
  [extra: string]: unknown;
}

/** One immutable version of a profile-generation prompt. */
export interface PromptVersion {
  domain: string;
  version: string;
  text: string;
  parentVersion: string | null;
  /** ISO-8601. */
  createdAt: string;
  /** History items the prompt was trained with; serving uses the last N. */
  historyLength: number;
  params?: Record<string, unknown>;
  metrics?: PromptMetrics;
}

/** The prompt serving uses for a domain right now. */
export interface ActivePrompt {
  domain: string;
  version: string;
  text: string;
  historyLength: number;
}

/**
 * Versioned prompts per domain. `resolve` is synchronous because it is on the hot path: implementations
 * keep a local snapshot of active versions and refresh it (pub/sub or polling) so activation reaches
 * every replica within seconds.
 */
export interface PromptRegistry {
  /** Active prompt for the domain, else the `default` domain's, else the built-in prompt. */
  resolve(domain: string): ActivePrompt;
  /** Map of domain to active version, as currently seen by this replica. */
  activeVersions(): Record<string, string>;
  get(domain: string, version: string): Promise<PromptVersion | null>;
  list(domain?: string): Promise<Array<PromptVersion & { active: boolean }>>;
  /** Stores a new version. Re-putting an identical version is a no-op; a different text under an existing version is a conflict. */
  put(version: PromptVersion): Promise<void>;
  /** Makes the version active for its domain in every replica. Rolling back is activating an older version. */
  activate(domain: string, version: string): Promise<void>;
  /** Re-reads the active set from storage (called by the poller and on pub/sub notification). */
  refresh(): Promise<void>;
  /** True once the first load has completed. */
  readonly ready: boolean;
}

/** Time source; injected so tests and training replays are deterministic. */
export interface Clock {
  now(): number;
}

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Minimal structured logger (pino-compatible call shape). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (tests, CLI quiet mode). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Observations the domain reports; the metrics adapter turns them into Prometheus series. */
export interface RerankTelemetry {
  profileCache(outcome: 'hit' | 'miss' | 'coalesced' | 'stale'): void;
  parse(outcome: 'ok' | 'repaired' | 'unparseable'): void;
  /**
   * Label problems in one parsed answer (duplicate, unknown, missing labels), by the LLM role that wrote it.
   * Optional so telemetry doubles written before it keep compiling; ok/repaired/unparseable alone cannot
   * tell a model that repeats labels from one that stops early.
   */
  parseIssues?(role: LlmRole, issues: LabelIssues): void;
  backgroundRefresh(outcome: 'ok' | 'error'): void;
  /** Result-cache lookups (ranking-cache.ts); optional so doubles need not implement it. */
  rankingCache?(outcome: RankingCacheOutcome): void;
}

/**
 * What the result cache did for one rerank: `hit` (served from the cache), `coalesced` (joined an identical
 * ranking in flight), `miss` (ranked by the LLM), `error` (the cache failed or was slow: ranked as a miss).
 */
export type RankingCacheOutcome = 'hit' | 'miss' | 'coalesced' | 'error';

/** Telemetry that records nothing. */
export const noTelemetry: RerankTelemetry = { profileCache() {}, parse() {}, parseIssues() {}, backgroundRefresh() {} };
