/**
 * The training queue's own Redis state: checkpoints, per-domain locks and cancellation flags.
 *
 * Checkpoints: one key per job, with a TTL refreshed on every save. A checkpoint is written after every
 * batch, so a worker killed mid-epoch resumes from its last completed batch when BullMQ hands the job to
 * another worker.
 *
 * Saves can be FENCED by the BullMQ job lock: the checkpoint is written only while the lock still holds
 * the token of the attempt that is saving. A zombie worker (one that lost its lock and whose job was
 * handed over) can therefore never overwrite the new owner's checkpoint.
 *
 * The keys of the training queue live here (not in store/key-schema.ts, which describes the cache
 * Redis): they all carry the `{<prefix>}` hash tag, the same tag as the BullMQ prefix, so the fenced
 * save is a single-slot script on Redis Cluster.
 */
import type { CheckpointStore, TrainingCheckpoint } from '../agp/checkpoint.js';
import { parseCheckpoint } from '../agp/checkpoint.js';
import { encodeSegment } from '../store/key-schema.js';
import type { RedisClient } from '../store/redis-connection.js';

/** The Redis keys of the training queue for one key prefix. */
export interface TrainingKeys {
  /** BullMQ `prefix` option: `{<keyPrefix>}` (hash-tagged for Redis Cluster). */
  readonly bullPrefix: string;
  /** BullMQ queue name: `<keyPrefix>-training`. */
  readonly queueName: string;
  checkpoint(jobId: string): string;
  /** Set while a job is cancelled; polled by the running job. */
  cancel(jobId: string): string;
  /** Held (value = job id) by the job that is training the domain. */
  domainLock(domain: string): string;
  /** BullMQ's own lock of an active job (value = the worker's token for this attempt). */
  bullLock(jobId: string): string;
  /** Prefix of the job's report and trace keys (redis-training-artifacts.ts). */
  artifacts(jobId: string): string;
}

/** Finished jobs stay listable this long (BullMQ removeOnComplete); failed ones 4× as long (removeOnFail). */
export const TRAINING_JOB_KEEP_SECONDS = 7 * 24 * 3600;

/** Builds the training keys of a prefix (REDIS_KEY_PREFIX). */
export function createTrainingKeys(keyPrefix: string): TrainingKeys {
  if (keyPrefix.length === 0 || /[{}\s:]/.test(keyPrefix)) {
    // Braces would break the hash tag; BullMQ refuses ':' in queue names.
    throw new Error(`invalid REDIS_KEY_PREFIX "${keyPrefix}" for the training queue: must be non-empty without braces, colons or whitespace`);
  }
  const bullPrefix = `{${keyPrefix}}`;
  const queueName = `${keyPrefix}-training`;
  const base = `${bullPrefix}:${keyPrefix}-training-state`;
  return Object.freeze({
    bullPrefix,
    queueName,
    checkpoint: (jobId: string) => `${base}:ckpt:${encodeSegment(jobId)}`,
    cancel: (jobId: string) => `${base}:cancel:${encodeSegment(jobId)}`,
    domainLock: (domain: string) => `${base}:lock:${encodeSegment(domain)}`,
    // BullMQ's layout: `${prefix}:${queueName}:${jobId}:lock` (Scripts.extendLock). Stable since Bull 3.
    bullLock: (jobId: string) => `${bullPrefix}:${queueName}:${jobId}:lock`,
    artifacts: (jobId: string) => `${base}:art:${encodeSegment(jobId)}`,
  });
}

/** Checkpoints outlive a job by this much by default (7 days): long enough for a retry after an outage. */
export const DEFAULT_CHECKPOINT_TTL_MS = 7 * 24 * 3600 * 1000;

/** Raised when a fenced save finds that this attempt no longer owns the job. */
export class CheckpointFencedError extends Error {
  override readonly name = 'CheckpointFencedError';
}

export interface RedisCheckpointStoreOptions {
  redis: RedisClient;
  keys: TrainingKeys;
  jobId: string;
  ttlMs?: number | undefined;
  /** The BullMQ lock token of this attempt; when set, saves are fenced by it. */
  fenceToken?: string | undefined;
}

/** A CheckpointStore for one job, plus `clear()` for final states. */
export interface RedisCheckpointStore extends CheckpointStore {
  clear(): Promise<void>;
}

const FENCED_SET = `
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

export function createRedisCheckpointStore(opts: RedisCheckpointStoreOptions): RedisCheckpointStore {
  const key = opts.keys.checkpoint(opts.jobId);
  const ttl = String(Math.max(1, Math.round(opts.ttlMs ?? DEFAULT_CHECKPOINT_TTL_MS)));
  return {
    async load(): Promise<TrainingCheckpoint | null> {
      const raw = await opts.redis.get(key);
      return raw === null ? null : parseCheckpoint(raw, `checkpoint of job ${opts.jobId}`);
    },
    async save(c: TrainingCheckpoint): Promise<void> {
      const ok = await opts.redis.eval(FENCED_SET, 2, key, opts.keys.bullLock(opts.jobId), JSON.stringify(c), ttl, opts.fenceToken ?? '');
      if (ok !== 1) throw new CheckpointFencedError(`job ${opts.jobId}: lock lost; this attempt no longer owns the job`);
    },
    async clear(): Promise<void> {
      await opts.redis.del(key);
    },
  };
}

// The lock value is `<jobId>:<attempt token>`. A new attempt of the SAME job (a retry, or a resume after
// a crash) may take the lock over at once; other jobs of the domain must wait for it to be free.
const ACQUIRE = `
local v = redis.call('GET', KEYS[1])
if (not v) or v == ARGV[1] or string.sub(v, 1, string.len(ARGV[2])) == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  return 1
end
return 0`;

const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * The per-domain training lock: at most one job trains a domain at a time. Held with a TTL and extended
 * while training; an attempt that finds its lock gone (taken over by a newer attempt of its job) must stop.
 */
export interface DomainLock {
  /** Takes the lock when free or held by an older attempt of the same job. False when another job holds it. */
  acquire(domain: string, jobId: string, attempt: string, ttlMs: number): Promise<boolean>;
  /** Extends the lock; false when this attempt no longer holds it. */
  extend(domain: string, jobId: string, attempt: string, ttlMs: number): Promise<boolean>;
  /** Releases the lock if this attempt still holds it. */
  release(domain: string, jobId: string, attempt: string): Promise<void>;
}

export function createDomainLock(redis: RedisClient, keys: TrainingKeys): DomainLock {
  const ms = (ttlMs: number) => String(Math.max(1, Math.round(ttlMs)));
  return {
    async acquire(domain, jobId, attempt, ttlMs) {
      const r = await redis.eval(ACQUIRE, 1, keys.domainLock(domain), `${jobId}:${attempt}`, `${jobId}:`, ms(ttlMs));
      return r === 1;
    },
    async extend(domain, jobId, attempt, ttlMs) {
      const r = await redis.eval(EXTEND, 1, keys.domainLock(domain), `${jobId}:${attempt}`, ms(ttlMs));
      return r === 1;
    },
    async release(domain, jobId, attempt) {
      await redis.eval(RELEASE, 1, keys.domainLock(domain), `${jobId}:${attempt}`);
    },
  };
}

/** Cancellation flags: set by `cancel`, polled by the running job between batches. */
export interface CancelFlags {
  /** Sets the flag (value: ISO time) unless already set; true when this call set it. */
  set(jobId: string, at: string, ttlMs: number): Promise<boolean>;
  /** ISO time the job was cancelled, or null. */
  get(jobId: string): Promise<string | null>;
  getMany(jobIds: string[]): Promise<Array<string | null>>;
  clear(jobId: string): Promise<void>;
}

export function createCancelFlags(redis: RedisClient, keys: TrainingKeys): CancelFlags {
  return {
    async set(jobId, at, ttlMs) {
      const r = await redis.set(keys.cancel(jobId), at, 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
      return r === 'OK';
    },
    get: (jobId) => redis.get(keys.cancel(jobId)),
    // Every key carries the same hash tag, so MGET stays single-slot on Cluster.
    getMany: async (jobIds) => (jobIds.length === 0 ? [] : redis.mget(...jobIds.map((id) => keys.cancel(id)))),
    async clear(jobId) {
      await redis.del(keys.cancel(jobId));
    },
  };
}
