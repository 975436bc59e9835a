/**
 * How a conformance suite gets the implementation it tests: the same `describe…Conformance` factory is
 * called once per adapter, each with a harness that builds that adapter.
 */
import { createRedis, whenReady } from '../../src/store/redis-connection.js';
import type { RedisClient } from '../../src/store/redis-connection.js';
import { startRedisServer } from '../../testkit/redis-server.js';
import type { RedisServerHandle } from '../../testkit/redis-server.js';

export interface PortHarness<T, A = void> {
  /** Once per suite, before the first test (e.g. start a private redis-server). */
  start(): Promise<void>;
  /** Once per suite, after the last test. */
  stop(): Promise<void>;
  /** A fresh, empty instance (its own key prefix where storage is shared). */
  create(arg: A): Promise<T>;
}

/** A harness for adapters that need nothing started around them. */
export function standalone<T, A = void>(create: (arg: A) => T | Promise<T>): PortHarness<T, A> {
  return { start: () => Promise.resolve(), stop: () => Promise.resolve(), create: async (arg) => create(arg) };
}

/** What a Redis adapter is built from: a connection of `role` to the suite's private server (made on demand). */
export type RedisConnect = (role?: 'cache' | 'subscriber') => Promise<RedisClient>;

/**
 * A harness for Redis adapters: one private redis-server per suite, and `create` builds each adapter from
 * connections to it (each adapter should take its own `uniquePrefix()`); every connection closes with the suite.
 */
export function onRedisServer<T, A = void>(create: (connect: RedisConnect, arg: A) => T | Promise<T>): PortHarness<T, A> {
  let server: RedisServerHandle | undefined;
  const clients: RedisClient[] = [];
  const connect: RedisConnect = async (role = 'cache') => {
    const client = createRedis((server as RedisServerHandle).url, { role });
    clients.push(client);
    if (!(await whenReady(client, 5_000))) throw new Error('redis-server did not come up');
    return client;
  };
  return {
    async start() {
      server = await startRedisServer();
    },
    async stop() {
      for (const c of clients.splice(0)) c.disconnect();
      await server?.stop();
    },
    create: async (arg) => create(connect, arg),
  };
}
