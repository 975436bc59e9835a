/**
 * Coalesces the socket writes of one turn of the event loop into one `writev` per Redis socket, by corking
 * the connection's sockets at the first write of a turn and uncorking them in `setImmediate` (after every
 * promise continuation of the turn has issued its commands).
 *
 * Why, and why by hand: ioredis writes every command to its socket at once, and on this VM a socket write
 * is the largest part of what recording an exposure costs the serving process (docs/experiments-storage.md:
 * `writeUtf8String` led the recording-on minus recording-off profile). ioredis' own `enableAutoPipelining`
 * removes the writes but builds a Pipeline per turn, and measured MORE CPU per exposure than it saved. A
 * cork is the stream's own buffering: the commands, their replies and their promises are unchanged, so
 * EVALSHA/NOSCRIPT handling, Cluster redirection and error handling all behave as without it.
 *
 * Only for connections that nothing latency-sensitive shares (the `recorder` role): a held write leaves at
 * the end of the turn, not at once.
 */
import type { Writable } from 'node:stream';
import type { RedisClient } from './redis-connection.js';

/** The sockets a client writes to right now: its own, or (Cluster) each connected node's. */
function socketsOf(redis: RedisClient): Writable[] {
  const own = (redis as { stream?: Writable }).stream;
  if (own) return own.writable ? [own] : [];
  const nodes = (redis as { nodes?: (role: 'all') => Array<{ stream?: Writable }> }).nodes?.('all') ?? [];
  return nodes.map((n) => n.stream).filter((s): s is Writable => s !== undefined && s.writable);
}

/** Call `hold()` before issuing a batch of commands; the writes of the whole turn leave together. */
export interface WriteCoalescer {
  hold(): void;
}

/** Builds the coalescer of one connection. */
export function createWriteCoalescer(redis: RedisClient): WriteCoalescer {
  let held: Writable[] | null = null;
  const release = () => {
    const sockets = held ?? [];
    held = null;
    for (const s of sockets) s.uncork();
  };
  return {
    hold() {
      if (held) return;
      held = socketsOf(redis);
      for (const s of held) s.cork();
      setImmediate(release);
    },
  };
}
