/**
 * The API keys a replica serves with: an in-memory snapshot of the store's records, reloaded every
 * API_KEYS_POLL_MS (so a key created, revoked or rotated on any replica is honoured everywhere within about
 * a second, with no restart), constant-time verification, the daily LLM-call quota, usage accounting, and
 * the admin operations (create, list, revoke, rotate).
 *
 * Verification never touches the store: the presented key is hashed once and compared with every valid
 * digest of the snapshot by crypto.timingSafeEqual on equal-length (32-byte) buffers, without an early exit,
 * so the time taken does not depend on how much of a digest matched nor on which record matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock, Logger } from '../agp/ports.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import type { ApiKeyRecord, ApiKeyStore, ApiKeyUsage, UsageDelta } from './api-keys.js';
import { API_KEY_NAME, emptyKeyUsage, generateApiKey, utcDay } from './api-keys.js';

/** A verified key as a request carries it. */
export interface VerifiedKey {
  name: string;
  rateLimit?: number | undefined;
  dailyLlmCallQuota?: number | undefined;
}

/** A record as the admin API shows it: no hash, with usage. */
export interface ApiKeyView {
  name: string;
  prefix: string;
  last4: string;
  createdAt: string;
  revokedAt: string | null;
  rateLimit: number | null;
  dailyLlmCallQuota: number | null;
  /** ISO time the previous key (after a rotation with a grace period) stops working; null when none. */
  previousKeyExpiresAt: string | null;
  usage: ApiKeyUsage;
}

/** Limits a key is created with. */
export interface ApiKeyLimits {
  rateLimit?: number | undefined;
  dailyLlmCallQuota?: number | undefined;
}

/** What the service is built from. */
export interface ApiKeyServiceDeps {
  store: ApiKeyStore;
  clock: Clock;
  logger: Logger;
  pollMs: number;
  /** Called with each request's usage (Prometheus counters labelled by key name). */
  onUsage?: ((name: string, delta: UsageDelta) => void) | undefined;
}

/** The replica's API keys. */
export interface ApiKeyService {
  /** 'file' keys are read-only (managed by editing the mounted Secret). */
  readonly managed: boolean;
  start(): Promise<void>;
  /** The key's record when `presented` is a valid key, else undefined. Synchronous: no I/O. */
  verify(presented: string): VerifiedKey | undefined;
  /** True when the key has used its daily LLM-call quota (fails open: a store error answers false). */
  quotaExceeded(key: VerifiedKey): Promise<boolean>;
  /** Accounts one request's usage to the key (off the request path; errors are logged). */
  record(name: string, delta: UsageDelta): void;
  list(): Promise<ApiKeyView[]>;
  get(name: string): Promise<ApiKeyView>;
  create(name: string, limits: ApiKeyLimits): Promise<{ key: string; view: ApiKeyView }>;
  revoke(name: string): Promise<ApiKeyView>;
  rotate(name: string, graceSeconds: number): Promise<{ key: string; view: ApiKeyView }>;
  close(): Promise<void>;
}

interface Entry {
  record: ApiKeyRecord;
  digest: Buffer;
  previous?: Buffer | undefined;
}

const ZERO = Buffer.alloc(32);

/** Longest wait for a key's daily LLM-call count before the rerank is served without the quota (fails open). */
export const QUOTA_LOOKUP_TIMEOUT_MS = 100;
const toDigest = (hex: string | undefined): Buffer | undefined => {
  if (hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex');
};

/**
 * The name of the entry whose digest equals `digest`, comparing with every candidate in constant time.
 * Exported for the timing test; `entries` holds only valid keys.
 */
export function constantTimeLookup(digest: Buffer, entries: ReadonlyArray<{ digests: readonly Buffer[]; name: string }>): string | undefined {
  let found: string | undefined;
  for (const e of entries) {
    for (const d of e.digests) {
      // Every digest is 32 bytes; a malformed one is replaced by zeros so the comparison still runs.
      const same = timingSafeEqual(digest, d.length === 32 ? d : ZERO);
      if (same && found === undefined) found = e.name;
    }
  }
  return found;
}

/** Creates the service; call start() before serving. */
export function createApiKeyService(deps: ApiKeyServiceDeps): ApiKeyService {
  const { store, clock, logger } = deps;
  let byName = new Map<string, Entry>();
  let timer: NodeJS.Timeout | undefined;
  let failing = false;

  const load = async (): Promise<void> => {
    const records = await store.list();
    const next = new Map<string, Entry>();
    for (const r of records) {
      const digest = toDigest(r.hash);
      if (!digest) {
        logger.warn({ key: r.name }, 'API key record has no valid sha256 hash; ignored');
        continue;
      }
      next.set(r.name, { record: r, digest, previous: toDigest(r.previousHash) });
    }
    byName = next;
  };
  const poll = (): void => {
    load().then(
      () => {
        if (failing) logger.info({}, 'API keys reloaded');
        failing = false;
      },
      (err: unknown) => {
        // Keep serving the last snapshot: a Redis blip must not lock every caller out.
        if (!failing) logger.warn({ err: String(err) }, 'API keys reload failed; serving the last loaded keys');
        failing = true;
      },
    );
  };

  const view = (r: ApiKeyRecord, usage: ApiKeyUsage | undefined): ApiKeyView => {
    const now = clock.now();
    const graceLeft = r.previousHash !== undefined && r.previousExpiresAt !== undefined && r.previousExpiresAt > now && r.revokedAt === null;
    return {
      name: r.name,
      prefix: r.prefix,
      last4: r.last4,
      createdAt: new Date(r.createdAt).toISOString(),
      revokedAt: r.revokedAt === null ? null : new Date(r.revokedAt).toISOString(),
      rateLimit: r.rateLimit ?? null,
      dailyLlmCallQuota: r.dailyLlmCallQuota ?? null,
      previousKeyExpiresAt: graceLeft ? new Date(r.previousExpiresAt as number).toISOString() : null,
      usage: usage ?? emptyKeyUsage(),
    };
  };
  const views = async (records: ApiKeyRecord[]): Promise<ApiKeyView[]> => {
    const usage = await store.usage(
      records.map((r) => r.name),
      utcDay(clock.now()),
    );
    return records.map((r) => view(r, usage.get(r.name))).sort((a, b) => a.name.localeCompare(b.name));
  };
  const findStored = async (name: string): Promise<ApiKeyRecord> => {
    const r = (await store.list()).find((x) => x.name === name);
    if (!r) throw new NotFoundError(`API key "${name}" not found`);
    return r;
  };
  const mutable = (): Required<Pick<ApiKeyStore, 'create' | 'replace'>> => {
    if (!store.create || !store.replace) throw new ConflictError('API keys come from API_KEYS_FILE: edit the mounted file (Secret) to change them');
    return { create: store.create.bind(store), replace: store.replace.bind(store) };
  };
  const replace = async (before: ApiKeyRecord, after: ApiKeyRecord): Promise<void> => {
    if (!(await mutable().replace(before, after))) throw new ConflictError(`API key "${before.name}" was changed concurrently; retry`);
    await load(); // this replica applies the change at once; the others on their next poll
  };

  return {
    managed: store.create !== undefined,
    async start() {
      await load();
      timer = setInterval(poll, deps.pollMs);
      timer.unref();
    },
    verify(presented) {
      const digest = createHash('sha256').update(presented, 'utf8').digest();
      const now = clock.now();
      const entries: Array<{ digests: Buffer[]; name: string }> = [];
      for (const e of byName.values()) {
        if (e.record.revokedAt !== null) continue;
        const digests = [e.digest];
        if (e.previous && (e.record.previousExpiresAt ?? 0) > now) digests.push(e.previous);
        entries.push({ digests, name: e.record.name });
      }
      const name = constantTimeLookup(digest, entries);
      const r = name === undefined ? undefined : byName.get(name)?.record;
      return r ? { name: r.name, rateLimit: r.rateLimit, dailyLlmCallQuota: r.dailyLlmCallQuota } : undefined;
    },
    async quotaExceeded(key) {
      if (key.dailyLlmCallQuota === undefined) return false;
      const quota = key.dailyLlmCallQuota;
      // Bounded like the rate limiter: a slow or dead store costs a rerank at most QUOTA_LOOKUP_TIMEOUT_MS.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${QUOTA_LOOKUP_TIMEOUT_MS} ms`)), QUOTA_LOOKUP_TIMEOUT_MS);
        timer.unref();
      });
      try {
        return (await Promise.race([store.llmCallsOn(key.name, utcDay(clock.now())), timeout])) >= quota;
      } catch (err) {
        logger.warn({ err: String(err), key: key.name }, 'API key quota lookup failed; serving without the quota');
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    record(name, delta) {
      deps.onUsage?.(name, delta);
      store.addUsage(name, utcDay(clock.now()), delta).catch((err: unknown) => logger.warn({ err: String(err), key: name }, 'API key usage was not recorded'));
    },
    async list() {
      return views(await store.list());
    },
    async get(name) {
      const [v] = await views([await findStored(name)]);
      return v as ApiKeyView;
    },
    async create(name, limits) {
      if (!API_KEY_NAME.test(name)) throw new InvalidInputError('name: 1-63 characters of a-z, 0-9, "_" and "-", starting with a letter or digit');
      const { create } = mutable();
      const g = generateApiKey();
      const record: ApiKeyRecord = { name, hash: g.hash, prefix: g.prefix, last4: g.last4, createdAt: clock.now(), revokedAt: null, ...limits };
      if (!(await create(record))) throw new ConflictError(`API key "${name}" already exists`);
      await load();
      return { key: g.key, view: view(record, undefined) };
    },
    async revoke(name) {
      const before = await findStored(name);
      if (before.revokedAt !== null) return (await views([before]))[0] as ApiKeyView;
      const after: ApiKeyRecord = { ...before, revokedAt: clock.now(), previousHash: undefined, previousExpiresAt: undefined };
      await replace(before, after);
      return (await views([after]))[0] as ApiKeyView;
    },
    async rotate(name, graceSeconds) {
      const before = await findStored(name);
      if (before.revokedAt !== null) throw new ConflictError(`API key "${name}" is revoked; create a new key instead`);
      const g = generateApiKey();
      const grace = graceSeconds > 0 ? { previousHash: before.hash, previousExpiresAt: clock.now() + graceSeconds * 1000 } : { previousHash: undefined, previousExpiresAt: undefined };
      const after: ApiKeyRecord = { ...before, hash: g.hash, prefix: g.prefix, last4: g.last4, ...grace };
      await replace(before, after);
      return { key: g.key, view: (await views([after]))[0] as ApiKeyView };
    },
    async close() {
      if (timer) clearInterval(timer);
      await store.close?.();
    },
  };
}
