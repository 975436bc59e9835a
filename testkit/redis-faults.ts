/**
 * Redis faults for the resilience tests, on a private server from ./redis-server.ts (never on 6379):
 *
 * - paused: SIGSTOP. The socket stays open and accepts bytes, nothing answers: the worst case for a client,
 *   which learns of it only from its own timeouts. SIGCONT resumes it (queued commands then run).
 * - full: `maxmemory` reached under `maxmemory-policy noeviction`. Every write is refused with OOM, reads
 *   still work. The server is filled until a write really fails, so the fault does not depend on how much
 *   memory an empty Redis happens to use.
 * - killed: SIGKILL (the handle's `kill()`); `restart()` brings it back, empty without persistence.
 */
import { Redis } from 'ioredis';
import type { RedisServerHandle } from './redis-server.js';

/** SIGSTOPs the server; the returned function SIGCONTs it. */
export function pauseRedis(server: RedisServerHandle): () => void {
  server.kill('SIGSTOP');
  return () => server.kill('SIGCONT');
}

const FILLER = 'redis-faults:filler:';

/**
 * Makes the server full: `maxmemory 1mb` + `noeviction`, then filler values until a write fails with OOM.
 * Resolves to a function that lifts the limit and deletes the filler.
 */
export async function fillRedis(server: RedisServerHandle): Promise<() => Promise<void>> {
  const client = new Redis(server.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  await client.connect();
  await client.config('SET', 'maxmemory-policy', 'noeviction');
  await client.config('SET', 'maxmemory', '1mb');
  const chunk = 'x'.repeat(64 * 1024);
  let filled = 0;
  for (; filled < 200; filled++) {
    const err = await client.set(`${FILLER}${filled}`, chunk).then(
      () => null,
      (e: unknown) => e,
    );
    if (err) {
      if (!String(err).includes('OOM')) throw err;
      break;
    }
  }
  if (filled === 200) throw new Error('fillRedis: the server never refused a write');
  return async () => {
    await client.config('SET', 'maxmemory', '0');
    if (filled > 0) await client.del(...Array.from({ length: filled }, (_, i) => `${FILLER}${i}`));
    await client.quit();
  };
}
