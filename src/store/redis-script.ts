/**
 * Lua scripts sent by digest, not by body: ioredis `defineCommand` sends EVAL with the body the first time
 * on each socket, then EVALSHA, and re-sends the body by itself after a NOSCRIPT (a restarted or flushed
 * server, a failover to a replica that never saw the script). Works on a Cluster unchanged (per node socket).
 *
 * Why: the stores' scripts are 0.3–2 KB; sending the body on every call (EVAL) costs the service the bytes
 * and Redis a hash of the body and a script-cache lookup per call (docs/experiments-storage.md measures it).
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connection.js';

/** Runs the script with its keys (exactly `numberOfKeys` of them) followed by its arguments. */
export type LuaScript = (...keysThenArgs: Array<string | number>) => Promise<unknown>;

type ScriptHost = Record<string, ((...args: Array<string | number>) => Promise<unknown>) | undefined>;

/**
 * Defines `lua` on the client (once per client and body: the command name is derived from the body's digest,
 * so two stores sharing a connection never overwrite each other's scripts) and returns a caller for it.
 */
export function defineScript(redis: RedisClient, lua: string, numberOfKeys: number): LuaScript {
  const name = `agp_${createHash('sha1').update(lua).digest('hex').slice(0, 16)}`;
  const host = redis as unknown as ScriptHost;
  if (typeof host[name] !== 'function') redis.defineCommand(name, { lua, numberOfKeys });
  const run = host[name];
  if (!run) throw new Error(`defineScript: ${name} was not defined`);
  return (...keysThenArgs) => run.apply(redis, keysThenArgs);
}
