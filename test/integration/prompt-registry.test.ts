import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ActivePrompt, Logger, PromptVersion } from '../../src/agp/ports.js';
import { createMemoryPromptStorage } from '../../src/store/memory-prompt-storage.js';
import { createPromptRegistry } from '../../src/store/prompt-registry.js';
import type { ManagedPromptRegistry, PromptRegistryOptions, PromptStorage } from '../../src/store/prompt-registry.js';
import { createRedis, whenReady } from '../../src/store/redis-connection.js';
import type { RedisClient } from '../../src/store/redis-connection.js';
import { createRedisPromptStorage } from '../../src/store/redis-prompt-storage.js';
import { startRedisServer, uniquePrefix } from '../../testkit/redis-server.js';
import type { RedisServerHandle } from '../../testkit/redis-server.js';
import { eventually, sleep } from '../../testkit/wait.js';

const BUILTIN: ActivePrompt = { domain: 'default', version: 'builtin-v0', text: 'BUILTIN', historyLength: 10 };

const pv = (domain: string, version: string, text = `${domain}/${version} prompt`, over: Partial<PromptVersion> = {}): PromptVersion => ({
  domain,
  version,
  text,
  parentVersion: null,
  createdAt: '2025-01-01T00:00:00.000Z',
  historyLength: 15,
  ...over,
});

function captureLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (_o, msg) => void warnings.push(msg ?? '') };
}

let server: RedisServerHandle;
const clients: RedisClient[] = [];
const registries: ManagedPromptRegistry[] = [];

async function connect(url: string, role: 'cache' | 'subscriber' = 'cache'): Promise<RedisClient> {
  const c = createRedis(url, { role });
  clients.push(c);
  expect(await whenReady(c, 5_000)).toBe(true);
  return c;
}

async function redisStorage(prefix: string, opts: { pubsub: boolean; url?: string } = { pubsub: true }): Promise<PromptStorage> {
  const url = opts.url ?? server.url;
  return createRedisPromptStorage({
    redis: await connect(url),
    ...(opts.pubsub ? { subscriber: await connect(url, 'subscriber') } : {}),
    keyPrefix: prefix,
  });
}

async function startRegistry(storage: PromptStorage, over: Partial<PromptRegistryOptions> = {}): Promise<ManagedPromptRegistry> {
  const reg = createPromptRegistry({ storage, builtin: BUILTIN, refreshMs: 60_000, ...over });
  registries.push(reg);
  await reg.start();
  return reg;
}

beforeAll(async () => {
  server = await startRedisServer();
});

afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
  for (const c of clients.splice(0)) c.disconnect();
});

afterAll(async () => {
  await server?.stop();
});

describe('prompt registry on Redis', () => {
  it('is ready after start and serves the built-in prompt when nothing is active', async () => {
    const reg = await startRegistry(await redisStorage(uniquePrefix()));
    expect(reg.ready).toBe(true);
    expect(reg.resolve('movies')).toEqual(BUILTIN);
    expect(reg.activeVersions()).toEqual({});
    expect(await reg.list()).toEqual([]);
  });

  it('put/get/list/activate and the resolve fallback chain', async () => {
    const reg = await startRegistry(await redisStorage(uniquePrefix()));
    await reg.put(pv('default', 'd1'));
    await reg.put(pv('movies', 'm1', 'movies one', { createdAt: '2025-01-01T00:00:00.000Z' }));
    await reg.put(pv('movies', 'm2', 'movies two', { createdAt: '2025-02-01T00:00:00.000Z', parentVersion: 'm1', metrics: { bestValNdcg: 0.5 } }));

    expect(await reg.get('movies', 'm2')).toEqual(
      pv('movies', 'm2', 'movies two', { createdAt: '2025-02-01T00:00:00.000Z', parentVersion: 'm1', metrics: { bestValNdcg: 0.5 } }),
    );
    expect(await reg.get('movies', 'nope')).toBeNull();
    expect((await reg.list('movies')).map((v) => v.version)).toEqual(['m1', 'm2']);
    expect((await reg.list()).map((v) => `${v.domain}/${v.version}`)).toEqual(['default/d1', 'movies/m1', 'movies/m2']);

    // Nothing active yet: built-in everywhere.
    expect(reg.resolve('movies').version).toBe('builtin-v0');

    await reg.activate('default', 'd1');
    expect(reg.resolve('movies')).toEqual({ domain: 'default', version: 'd1', text: 'default/d1 prompt', historyLength: 15 });
    expect(reg.resolve('books').version).toBe('d1');

    await reg.activate('movies', 'm2');
    expect(reg.resolve('movies')).toEqual({ domain: 'movies', version: 'm2', text: 'movies two', historyLength: 15 });
    expect(reg.resolve('books').version).toBe('d1');
    expect(reg.activeVersions()).toEqual({ default: 'd1', movies: 'm2' });
    const listed = await reg.list('movies');
    expect(listed.map((v) => [v.version, v.active])).toEqual([
      ['m1', false],
      ['m2', true],
    ]);

    // Rolling back is activating an older version.
    await reg.activate('movies', 'm1');
    expect(reg.resolve('movies').text).toBe('movies one');
  });

  it('re-putting an identical version is a no-op; different content is a CONFLICT', async () => {
    const reg = await startRegistry(await redisStorage(uniquePrefix()));
    await reg.put(pv('movies', 'v1', 'original'));
    // Same content with another createdAt (e.g. PROMPT_FILE re-loaded on restart) is not a conflict.
    await expect(reg.put(pv('movies', 'v1', 'original', { createdAt: '2026-01-01T00:00:00.000Z' }))).resolves.toBeUndefined();
    await expect(reg.put(pv('movies', 'v1', 'changed'))).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(reg.put(pv('movies', 'v1', 'original', { historyLength: 3 }))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await reg.get('movies', 'v1'))?.text).toBe('original');
    expect(await reg.list('movies')).toHaveLength(1);
  });

  it('activating an unknown version throws NOT_FOUND and changes nothing', async () => {
    const reg = await startRegistry(await redisStorage(uniquePrefix()));
    await reg.put(pv('movies', 'v1'));
    await reg.activate('movies', 'v1');
    const err = await reg.activate('movies', 'v9').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
    await expect(reg.activate('books', 'v1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(reg.activeVersions()).toEqual({ movies: 'v1' });
  });

  it('rejects an invalid version before storing it', async () => {
    const reg = await startRegistry(await redisStorage(uniquePrefix()));
    await expect(reg.put(pv('movies', 'v1', '   '))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(await reg.list()).toEqual([]);
  });

  it('an activation in one replica reaches another within 1 s via pub/sub (polling off)', async () => {
    const prefix = uniquePrefix();
    const a = await startRegistry(await redisStorage(prefix));
    const changes: Array<Record<string, string>> = [];
    const b = await startRegistry(await redisStorage(prefix), { onActiveChange: (m) => changes.push(m) });
    await a.put(pv('movies', 'v1', 'from A'));
    await a.activate('movies', 'v1');
    const t0 = Date.now();
    await eventually(() => b.resolve('movies').version, (v) => v === 'v1', { timeoutMs: 1_000, intervalMs: 10 });
    const took = Date.now() - t0;
    expect(took).toBeLessThan(1_000);
    expect(b.resolve('movies').text).toBe('from A');
    expect(changes).toEqual([{ movies: 'v1' }]);
  });

  it('an activation reaches another replica by polling alone when pub/sub is disabled', async () => {
    const prefix = uniquePrefix();
    const a = await startRegistry(await redisStorage(prefix, { pubsub: false }), { refreshMs: 100 });
    const b = await startRegistry(await redisStorage(prefix, { pubsub: false }), { refreshMs: 100 });
    await a.put(pv('movies', 'v1'));
    await a.activate('movies', 'v1');
    expect(a.resolve('movies').version).toBe('v1'); // the activating replica sees it at once
    await eventually(() => b.resolve('movies').version, (v) => v === 'v1', { timeoutMs: 1_000, intervalMs: 10 });

    // Without pub/sub AND without polling, nothing would arrive: the poller is what delivered it.
    const c = await startRegistry(await redisStorage(prefix, { pubsub: false }), { refreshMs: 60_000 });
    await a.put(pv('movies', 'v2'));
    await a.activate('movies', 'v2');
    await eventually(() => b.resolve('movies').version, (v) => v === 'v2', { timeoutMs: 1_000, intervalMs: 10 });
    expect(c.resolve('movies').version).toBe('v1');
  });

  it('pub/sub keeps working after a Redis restart (the subscriber re-subscribes)', async () => {
    const own = await startRedisServer({ persistence: true });
    try {
      const prefix = uniquePrefix();
      const a = await startRegistry(await redisStorage(prefix, { pubsub: false, url: own.url }));
      const b = await startRegistry(await redisStorage(prefix, { pubsub: true, url: own.url }));
      await a.put(pv('movies', 'v1'));
      await a.put(pv('movies', 'v2'));
      await own.restart();
      // Wait until A's command connection is back, then activate; B must hear it without polling.
      await eventually(() => clients.every((c) => c.status === 'ready'), Boolean, { what: 'every client ready', timeoutMs: 5_000, intervalMs: 10 });
      await sleep(100);
      await a.activate('movies', 'v2');
      await eventually(() => b.resolve('movies').version, (v) => v === 'v2', { timeoutMs: 1_000, intervalMs: 10 });
    } finally {
      await own.stop();
    }
  });

  it('a new registry object (process restart) finds the versions and the active set', async () => {
    const prefix = uniquePrefix();
    const first = await startRegistry(await redisStorage(prefix));
    await first.put(pv('movies', 'v1', 'persisted'));
    await first.activate('movies', 'v1');
    await first.close();

    const second = createPromptRegistry({ storage: await redisStorage(prefix), builtin: BUILTIN, refreshMs: 60_000 });
    registries.push(second);
    expect(second.ready).toBe(false);
    expect(second.resolve('movies')).toEqual(BUILTIN);
    await second.start();
    expect(second.ready).toBe(true);
    expect(second.resolve('movies').text).toBe('persisted');
    expect((await second.get('movies', 'v1'))?.text).toBe('persisted');
  });

  it('keeps the last snapshot (never the built-in) when Redis is down, and recovers', async () => {
    const own = await startRedisServer();
    try {
      const log = captureLogger();
      const storage = await redisStorage(uniquePrefix(), { pubsub: false, url: own.url });
      const reg = await startRegistry(storage, { logger: log, refreshMs: 50 });
      await reg.put(pv('movies', 'v1', 'kept'));
      await reg.activate('movies', 'v1');

      own.kill('SIGKILL');
      await sleep(100);
      await expect(reg.refresh()).rejects.toThrow();
      await sleep(200); // several failed polls
      expect(reg.ready).toBe(true);
      expect(reg.resolve('movies').text).toBe('kept');
      expect(log.warnings.some((w) => /keeping the last snapshot/.test(w))).toBe(true);

      await own.restart(); // no persistence: the restarted Redis is empty
      await eventually(() => reg.resolve('movies').version, (v) => v === BUILTIN.version, { timeoutMs: 5_000, intervalMs: 10 });
    } finally {
      await own.stop();
    }
  });

  it('starts ready when created right after its connections (no start-up race)', async () => {
    const prefix = uniquePrefix();
    const seed = await startRegistry(await redisStorage(prefix));
    await seed.put(pv('movies', 'v1', 'seeded'));
    await seed.activate('movies', 'v1');
    const raw = createRedis(server.url, { role: 'cache' });
    clients.push(raw);
    const reg = await startRegistry(createRedisPromptStorage({ redis: raw, keyPrefix: prefix }));
    expect(reg.ready).toBe(true);
    expect(reg.resolve('movies').text).toBe('seeded');
  });

  it('a registry that starts while Redis is down is not ready, serves the built-in, and does not throw', async () => {
    const dead = createRedis('redis://127.0.0.1:1', { role: 'cache' });
    clients.push(dead);
    const reg = await startRegistry(createRedisPromptStorage({ redis: dead, keyPrefix: uniquePrefix() }), { refreshMs: 50 });
    expect(reg.ready).toBe(false);
    expect(reg.resolve('movies')).toEqual(BUILTIN);
  });

  it('versions and the active set survive a redis-server restart with persistence', async () => {
    const own = await startRedisServer({ persistence: true });
    try {
      const prefix = uniquePrefix();
      const reg = await startRegistry(await redisStorage(prefix, { pubsub: false, url: own.url }));
      await reg.put(pv('movies', 'v1', 'durable'));
      await reg.activate('movies', 'v1');
      await own.restart();
      const after = await startRegistry(await redisStorage(prefix, { pubsub: false, url: own.url }));
      expect(after.resolve('movies').text).toBe('durable');
      expect((await after.list()).map((v) => v.version)).toEqual(['v1']);
    } finally {
      await own.stop();
    }
  });
});

describe('prompt registry on a one-node Redis Cluster', () => {
  it('put, list, activate and pub/sub work with the {reg} hash tag', async () => {
    const own = await startRedisServer({ cluster: true });
    try {
      const nodes = { clusterNodes: [`127.0.0.1:${own.port}`] };
      const mk = async (role: 'cache' | 'subscriber') => {
        const c = createRedis(nodes, { role });
        clients.push(c);
        expect(await whenReady(c, 5_000)).toBe(true);
        return c;
      };
      const prefix = uniquePrefix();
      const a = await startRegistry(createRedisPromptStorage({ redis: await mk('cache'), keyPrefix: prefix }));
      const b = await startRegistry(
        createRedisPromptStorage({ redis: await mk('cache'), subscriber: await mk('subscriber'), keyPrefix: prefix }),
      );
      await a.put(pv('movies', 'v1'));
      await a.put(pv('books', 'b1'));
      await expect(a.put(pv('movies', 'v1', 'different'))).rejects.toMatchObject({ code: 'CONFLICT' });
      expect((await a.list()).map((v) => `${v.domain}/${v.version}`)).toEqual(['books/b1', 'movies/v1']);
      await a.activate('movies', 'v1');
      await eventually(() => b.resolve('movies').version, (v) => v === 'v1', { timeoutMs: 1_000, intervalMs: 10 });
    } finally {
      for (const c of clients.splice(0)) c.disconnect();
      await own.stop();
    }
  });
});

describe('prompt registry on memory storage', () => {
  it('registries sharing one storage see each other’s activations', async () => {
    const storage = createMemoryPromptStorage();
    const a = await startRegistry(storage);
    const b = await startRegistry(storage);
    await a.put(pv('default', 'd1'));
    await a.activate('default', 'd1');
    await eventually(() => b.resolve('anything').version, (v) => v === 'd1', { timeoutMs: 1_000, intervalMs: 10 });
    await expect(a.put(pv('default', 'd1', 'other'))).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(a.activate('default', 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('an active pointer to a missing version is ignored (falls back) and reported once', async () => {
    const storage = createMemoryPromptStorage();
    const log = captureLogger();
    const reg = await startRegistry(storage, { logger: log });
    await reg.put(pv('default', 'd1'));
    await reg.activate('default', 'd1');
    await storage.setActive('movies', 'ghost'); // written by something that bypassed the registry
    await reg.refresh();
    await reg.refresh();
    expect(reg.resolve('movies').version).toBe('d1');
    expect(reg.activeVersions()).toEqual({ default: 'd1' });
    expect(log.warnings.filter((w) => /missing from storage/.test(w))).toHaveLength(1);
  });

  it('stops polling and listening after close', async () => {
    const storage = createMemoryPromptStorage();
    const a = await startRegistry(storage);
    const b = await startRegistry(storage, { refreshMs: 20 });
    await b.close();
    await a.put(pv('movies', 'v1'));
    await a.activate('movies', 'v1');
    await sleep(100);
    expect(b.resolve('movies')).toEqual(BUILTIN);
  });
});
