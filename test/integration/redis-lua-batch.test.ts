/**
 * The standalone Lua batch (src/store/redis-lua-batch.ts) on a real redis-server: one script call per turn,
 * every operation's own result, a failing operation isolated (the others applied exactly once), arguments as
 * ioredis would send them, long batches split, and refused on a Cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, whenReady, type RedisClient } from '../../src/store/redis-connection.js';
import { batchLua, createLuaBatch, LuaBatchOpError } from '../../src/store/redis-lua-batch.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';

const OPS = {
  // KEYS: counter. ARGV: by. The new value.
  incr: `return redis.call('INCRBY', KEYS[1], ARGV[1])`,
  // KEYS: key. ARGV: value. 1 when set, 0 when it existed.
  setnx: `if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 1 end return 0`,
  // Raises after a write of its own: the batch must report it and keep the others.
  boom: `redis.call('SET', KEYS[1], 'partial') error('boom')`,
};

let server: RedisServerHandle;
let redis: RedisClient;
beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedis(server.url, { role: 'recorder' });
  if (!(await whenReady(redis, 5_000))) throw new Error('redis-server did not come up');
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

/** Counts the commands the server executed of one kind (INFO commandstats), so a test can see the batching. */
async function evalshaCalls(): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(info)?.[1] ?? 0) + Number(/cmdstat_eval:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe('Lua batch (standalone)', () => {
  it("sends one turn's operations as one script call, each with its own result", async () => {
    const batch = createLuaBatch(redis, OPS);
    const p = uniquePrefix();
    await batch.run('incr', [`${p}:warm`], [1]); // the first call loads the script (EVAL), later ones are EVALSHA
    const before = await evalshaCalls();
    const results = await Promise.all([batch.run('incr', [`${p}:a`], [2]), batch.run('incr', [`${p}:a`], [3]), batch.run('setnx', [`${p}:b`], ['x']), batch.run('setnx', [`${p}:b`], ['y'])]);
    expect(results).toEqual([2, 5, 1, 0]);
    expect((await evalshaCalls()) - before).toBe(1);
    expect(await redis.get(`${p}:b`)).toBe('x');
  });

  it('a failing operation rejects alone: the others are applied once and resolve', async () => {
    const batch = createLuaBatch(redis, OPS);
    const p = uniquePrefix();
    const settled = await Promise.allSettled([batch.run('incr', [`${p}:n`], [1]), batch.run('boom', [`${p}:z`], []), batch.run('incr', [`${p}:n`], [10])]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(LuaBatchOpError);
    expect(await redis.get(`${p}:n`)).toBe('11');
  });

  it('passes keys and arguments as ioredis would: numbers as decimal strings, a lone surrogate as U+FFFD, any byte of JSON', async () => {
    const batch = createLuaBatch(redis, OPS);
    const p = uniquePrefix();
    const odd = ['lone \ud800 high', 'quote " backslash \\ tab \t unit \u001f', 'ünïcödé 🎬', '{"json":[1,2]}'];
    const stored = await Promise.all(odd.map((v, i) => batch.run('setnx', [`${p}:s${i}`], [v])));
    expect(stored).toEqual([1, 1, 1, 1]);
    const direct = uniquePrefix();
    await redis.set(`${direct}:s0`, odd[0]!);
    expect(await redis.getBuffer(`${p}:s0`)).toEqual(await redis.getBuffer(`${direct}:s0`));
    expect(await Promise.all(odd.slice(1).map((_, i) => redis.get(`${p}:s${i + 1}`)))).toEqual(odd.slice(1));
    // A key too: the same bytes ioredis would address it by.
    expect(await batch.run('setnx', [`${p}:key\udc00`], ['k'])).toBe(1);
    expect(await redis.get(`${p}:key\udc00`)).toBe('k');
    await batch.run('setnx', [`${p}:num`], [1_733_350_000_123]);
    expect(await redis.get(`${p}:num`)).toBe('1733350000123');
  });

  it('splits a long turn into calls of at most 256 operations, all applied', async () => {
    const batch = createLuaBatch(redis, OPS);
    const p = uniquePrefix();
    await batch.run('incr', [`${p}:warm`], [1]);
    const before = await evalshaCalls();
    const results = await Promise.all(Array.from({ length: 600 }, () => batch.run('incr', [`${p}:c`], [1])));
    expect(new Set(results).size).toBe(600);
    expect(await redis.get(`${p}:c`)).toBe('600');
    expect((await evalshaCalls()) - before).toBe(3);
  });

  it('resends the script after a flush, and rejects every operation of a call that cannot be sent', async () => {
    const batch = createLuaBatch(redis, OPS);
    const p = uniquePrefix();
    await redis.script('FLUSH');
    expect(await batch.run('incr', [`${p}:r`], [1])).toBe(1); // NOSCRIPT → ioredis resends the body
    const gone = createRedis(server.url, { role: 'recorder', overrides: { enableOfflineQueue: false } });
    expect(await whenReady(gone, 5_000)).toBe(true);
    gone.disconnect();
    const dead = createLuaBatch(gone, OPS);
    const settled = await Promise.allSettled([dead.run('incr', [`${p}:r`], [1]), dead.run('setnx', [`${p}:q`], ['v'])]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(await redis.get(`${p}:r`)).toBe('1');
    expect(await redis.exists(`${p}:q`)).toBe(0);
  });

  it('wraps each body as a function of KEYS and ARGV, so a body runs alone and inside the batch alike', () => {
    const lua = batchLua(OPS);
    expect(lua).toContain('local function op0(KEYS, ARGV)');
    expect(lua).toContain('cjson.decode(ARGV[1])');
    expect(lua).toContain('pcall(');
  });

  it('refuses a Cluster connection', () => {
    const fake = { isCluster: true } as unknown as RedisClient;
    expect(() => createLuaBatch(fake, OPS)).toThrow(/Cluster/);
  });
});
