/**
 * The one factory for ioredis connections. Connection options depend on what the connection is for:
 *
 * - `cache` (profile store, prompt registry reads/writes): fails FAST while Redis is unreachable
 *   (`enableOfflineQueue: false`, `maxRetriesPerRequest: 1`, 2 s connect timeout, 1 s command
 *   timeout) so serving falls back immediately instead of queueing requests behind a dead socket.
 * - `queue` (BullMQ worker): `maxRetriesPerRequest: null` and an offline queue, as BullMQ's blocking
 *   commands require.
 * - `producer` (BullMQ Queue of the admin API: add, get, list, cancel): no blocking commands, so it fails
 *   fast like `cache` (no offline queue, 1 s command timeout); a paused or dead Redis gives the admin
 *   routes a 503 instead of a request that waits for Redis to come back.
 * - `subscriber` (prompt activation pub/sub): offline queue on, so SUBSCRIBE waits for the connection;
 *   ioredis re-subscribes by itself after a reconnect.
 * - `recorder` (exposure store: recording, running sums, events): the same options as `cache`, on its own
 *   connection so serving's profile lookups never wait behind a recorder batch. Not auto-pipelined: ioredis'
 *   `enableAutoPipelining` cost MORE service CPU per exposure in bench/exposure-recorder-cpu.ts (batches of
 *   100 and of 6 alike; docs/experiments-storage.md), a Pipeline per turn outweighing the writes it saves.
 *
 * Every role reconnects forever with capped exponential backoff, so the service recovers on its own
 * after a Redis restart. On a Redis Cluster (REDIS_CLUSTER_NODES) the same roles also get the
 * Cluster-level options of clusterRoleOptions() (the cache one fails fast on a dead master or CLUSTERDOWN).
 */
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { silentLogger } from '../agp/ports.js';
import type { Logger } from '../agp/ports.js';

export type RedisRole = 'cache' | 'queue' | 'producer' | 'subscriber' | 'recorder';

/** A single Redis or a Cluster; both expose the commands the adapters use. */
export type RedisClient = Redis | Cluster;

/** Where to connect: a redis:// or rediss:// URL, or the seed nodes of a Cluster (`host:port`). */
export type RedisTarget = string | { clusterNodes: readonly string[] };

export interface CreateRedisOptions {
  role: RedisRole;
  logger?: Logger;
  /** Extra ioredis options, applied last (tests, TLS tweaks). */
  overrides?: Partial<RedisOptions>;
}

/** Reconnect delay: 50 ms doubling, capped at 2 s; never gives up. */
export function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(Math.max(attempt - 1, 0), 10), 2_000);
}

/** The per-role options (exported for tests and documentation). */
export function roleOptions(role: RedisRole): RedisOptions {
  const common: RedisOptions = {
    connectTimeout: 2_000,
    retryStrategy: reconnectDelay,
    connectionName: `agp-${role}`,
  };
  switch (role) {
    case 'cache':
    case 'producer':
      return { ...common, maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 1_000 };
    case 'recorder':
      // Off the request path, one batch in flight at a time (exposure-recorder.ts), so an offline queue is
      // bounded by one batch; without it, the first command to each cluster node (whose socket ioredis opens
      // lazily) failed and an exposure was lost. The command timeout still bounds a dead Redis.
      return { ...common, maxRetriesPerRequest: 1, enableOfflineQueue: true, commandTimeout: 1_000 };
    case 'queue':
      return { ...common, maxRetriesPerRequest: null, enableOfflineQueue: true };
    case 'subscriber':
      return { ...common, maxRetriesPerRequest: null, enableOfflineQueue: true, autoResubscribe: true };
  }
}

/**
 * The Cluster-level options per role (exported for tests and documentation); see ClusterOptions in ioredis.
 *
 * Every role reconnects to the cluster forever (`clusterRetryStrategy`), bounds a topology refresh
 * (`slotsRefreshTimeout`) and refreshes the slot map every 5 s (`slotsRefreshInterval`; ioredis 5 has no
 * periodic refresh by default), so a failover or a resharding is picked up even without MOVED replies.
 *
 * - `recorder`: as `cache`, but with the offline queue (background work, one batch in flight).
 * - `cache`, `producer`: fail fast. No offline queue, and no retry loop on a master that is down or a cluster that
 *   is down (`retryDelayOnFailover: 0`, `retryDelayOnClusterDown: 0`). With the ioredis defaults a
 *   command for a slot whose master is dead bounces between MOVED and "Connection is closed" for about
 *   1 s (16 redirections, 100 ms apart) before failing; serving would spend its deadline on a cache
 *   lookup. `maxRedirections: 4` still follows a MOVED/ASK after a resharding or a failover.
 * - `queue`, `subscriber`: patient, as BullMQ and SUBSCRIBE need: offline queue and the default retries.
 */
export function clusterRoleOptions(role: RedisRole): ClusterOptions {
  const common: ClusterOptions = {
    clusterRetryStrategy: (times: number) => reconnectDelay(times),
    slotsRefreshTimeout: 1_000,
    slotsRefreshInterval: 5_000,
  };
  switch (role) {
    case 'cache':
    case 'producer':
      return { ...common, enableOfflineQueue: false, retryDelayOnFailover: 0, retryDelayOnClusterDown: 0, maxRedirections: 4 };
    case 'recorder':
      return { ...common, enableOfflineQueue: true, retryDelayOnFailover: 0, retryDelayOnClusterDown: 0, maxRedirections: 4 };
    case 'queue':
    case 'subscriber':
      return { ...common, enableOfflineQueue: true };
  }
}

/**
 * Creates a connection for a role. It starts connecting immediately; commands issued by a `cache`
 * connection before it is ready (or while Redis is down) reject at once, which the callers treat as
 * a cache miss / keep-last-snapshot.
 */
export function createRedis(target: RedisTarget, opts: CreateRedisOptions): RedisClient {
  const log = opts.logger ?? silentLogger;
  const options: RedisOptions = { ...roleOptions(opts.role), ...opts.overrides };
  let client: RedisClient;
  if (typeof target === 'string') {
    client = new Redis(target, options);
  } else {
    if (target.clusterNodes.length === 0) throw new Error('createRedis: clusterNodes is empty');
    // Per-node connections get the role's socket options; reconnecting and queueing are Cluster-level.
    const { retryStrategy, enableOfflineQueue, ...redisOptions } = options;
    const clusterOptions: ClusterOptions = {
      ...clusterRoleOptions(opts.role),
      ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
      ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) } : {}),
      redisOptions,
    };
    client = new Cluster([...target.clusterNodes], clusterOptions);
  }
  attachLogging(client, opts.role, log);
  trackFirstConnection(client);
  return client;
}

/** Upper bound on how long the first commands of a fresh connection wait for its first attempt (≈ connectTimeout). */
export const INITIAL_CONNECT_WAIT_MS = 2_000;

/** Per client: null once the first connection attempt is over (ready or given up), else the wait for it. */
const initialConnection = new WeakMap<RedisClient, Promise<void> | null>();

function trackFirstConnection(client: RedisClient): Promise<void> | null {
  const known = initialConnection.get(client);
  if (known !== undefined) return known;
  if (client.status === 'ready' || client.status === 'end' || client.status === 'wait') {
    initialConnection.set(client, null);
    return null;
  }
  const wait = firstAttempt(client, INITIAL_CONNECT_WAIT_MS).then(() => {
    initialConnection.set(client, null);
  });
  initialConnection.set(client, wait);
  return wait;
}

/** Resolves when the first connection attempt is over: ready, failed (error/close) or timed out. */
function firstAttempt(client: RedisClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const events = ['ready', 'error', 'close', 'end'] as const;
    const timer = setTimeout(finish, timeoutMs);
    timer.unref();
    function finish() {
      clearTimeout(timer);
      for (const e of events) client.off(e, finish);
      resolve();
    }
    for (const e of events) client.once(e, finish);
  });
}

/**
 * Bridges the start-up gap of a fail-fast connection: while a connection is making its FIRST attempt,
 * commands wait for that attempt to succeed or fail (once, at most INITIAL_CONNECT_WAIT_MS) instead of
 * failing with "Stream isn't writeable". Afterwards it returns at once, so an outage fails fast.
 * Costs one map lookup on the hot path.
 */
export function ensureConnected(client: RedisClient): Promise<void> | undefined {
  if (client.status === 'ready') return undefined;
  return trackFirstConnection(client) ?? undefined;
}

/** Logs state transitions once (not every failed reconnect attempt) and swallows 'error' events. */
function attachLogging(client: RedisClient, role: RedisRole, log: Logger): void {
  let healthy = true;
  client.on('ready', () => {
    if (!healthy) log.info({ redisRole: role }, 'redis connection restored');
    healthy = true;
  });
  client.on('error', (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    if (healthy) log.warn({ redisRole: role, err: message }, 'redis connection error');
    else log.debug({ redisRole: role, err: message }, 'redis still unavailable');
    healthy = false;
  });
}

/** PING with a timeout, for /readyz. Resolves true on PONG; false on error or timeout (never rejects). */
export async function pingRedis(redis: RedisClient, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
    timer.unref();
  });
  try {
    const pong = redis.ping().then(
      (r) => r === 'PONG',
      () => false,
    );
    return await Promise.race([pong, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves true once the connection is ready, or false after `timeoutMs` (never rejects).
 * A `cache` connection rejects commands until it is ready (no offline queue), so the composition root
 * and tests await this once after createRedis().
 */
export function whenReady(redis: RedisClient, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const onReady = () => finish(true);
    const timer = setTimeout(() => finish(false), timeoutMs);
    timer.unref();
    function finish(ok: boolean) {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    }
    redis.once('ready', onReady);
  });
}
