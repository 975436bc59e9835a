/**
 * API keys for /v1: the record, the store port, and key generation and hashing.
 *
 * A key is `agp_` followed by 43 base64url characters (32 random bytes, 256 bits). Only its sha256 digest is
 * stored. A slow password hash (bcrypt, scrypt, argon2) exists to make guessing a LOW-entropy secret costly
 * after the hashes leak; a 256-bit random key cannot be guessed at any hash speed, so sha256 loses nothing
 * and keeps verification to about a microsecond on every /v1 request.
 */
import { createHash, randomBytes } from 'node:crypto';

/** A key's name: its identity in limits, usage, metric labels and Redis keys (so a small, safe alphabet). */
export const API_KEY_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The prefix of every generated key (lets secret scanners find leaked keys). */
export const API_KEY_PREFIX = 'agp_';

/** One key as stored: never the key itself. */
export interface ApiKeyRecord {
  name: string;
  /** sha256 of the key, lowercase hex. */
  hash: string;
  /** The key's first 8 characters (`agp_` and 4 more) and its last 4: enough to recognise it, not to use it. */
  prefix: string;
  last4: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the revocation; null while valid. */
  revokedAt: number | null;
  /** Requests per RATE_LIMIT_WINDOW_MS; absent: RATE_LIMIT_MAX. */
  rateLimit?: number | undefined;
  /** LLM calls per UTC day; absent: unlimited. */
  dailyLlmCallQuota?: number | undefined;
  /** After a rotation with a grace period: the previous key's hash, valid until previousExpiresAt. */
  previousHash?: string | undefined;
  previousExpiresAt?: number | undefined;
}

/** Cumulative usage of one key, and its LLM calls of the current UTC day. */
export interface ApiKeyUsage {
  reranks: number;
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
  llmCallsToday: number;
}

/** What one request adds to a key's usage. */
export interface UsageDelta {
  reranks: number;
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
}

/**
 * Where keys live. `replace` is a compare-and-set on the record's stored form, so two admins rotating the
 * same key at once cannot both win. Read-only stores (API_KEYS_FILE) have no `create`/`replace`.
 */
export interface ApiKeyStore {
  readonly kind: 'file' | 'redis' | 'memory';
  /** Every record (revoked ones too). */
  list(): Promise<ApiKeyRecord[]>;
  /** Adds a record; false when the name is taken. */
  create?(record: ApiKeyRecord): Promise<boolean>;
  /** Replaces `before` by `after` (same name); false when the stored record is no longer `before`. */
  replace?(before: ApiKeyRecord, after: ApiKeyRecord): Promise<boolean>;
  /** Adds a request's usage; `day` is the UTC day (YYYY-MM-DD) of the daily LLM-call count. */
  addUsage(name: string, day: string, delta: UsageDelta): Promise<void>;
  /** LLM calls of `name` on `day`. */
  llmCallsOn(name: string, day: string): Promise<number>;
  /** Cumulative usage of each name, with `day`'s LLM calls. */
  usage(names: readonly string[], day: string): Promise<Map<string, ApiKeyUsage>>;
  close?(): Promise<void>;
}

/** sha256 of a key as lowercase hex (the stored form). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key and its record fields (the caller shows the key once and stores only the record). */
export function generateApiKey(): { key: string; hash: string; prefix: string; last4: string } {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, hash: hashApiKey(key), prefix: key.slice(0, 8), last4: key.slice(-4) };
}

/** The UTC day of an epoch-ms instant, `YYYY-MM-DD` (daily quotas reset at 00:00 UTC). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Seconds a per-day counter is kept: two days, so the previous day can still be read around midnight. */
export const DAY_COUNTER_TTL_SECONDS = 2 * 86_400;

/** A zeroed usage record. */
export function emptyKeyUsage(): ApiKeyUsage {
  return { reranks: 0, llmCalls: 0, promptTokens: 0, completionTokens: 0, llmCallsToday: 0 };
}
