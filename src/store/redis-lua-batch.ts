/**
 * Runs many small scripts as ONE EVALSHA per turn of the event loop, on a standalone Redis only.
 *
 * Why, and why by hand: recording an exposure is paid by the serving process (issue 10 caps it at 5 % of a
 * cache-hit rerank). On ioredis each command costs a Command object, its argument encoding, a promise, a
 * queue entry and the parse of its own reply; per exposure that was three commands (user index, document,
 * running sums) plus the time index, and they made most of what recording cost (docs/experiments-storage.md
 * has the profiles). Batched, a turn's operations are one command and one reply. No library does this:
 * ioredis' pipelines and auto-pipelining still build one Command per operation.
 *
 * Each operation is an ordinary script body (using KEYS and ARGV) wrapped as a Lua function with KEYS and
 * ARGV as parameters, so the same text runs alone (on a Cluster) or inside the batch. Every operation runs under pcall and
 * reports its own result (a number) or failure (-1): one failing operation never undoes or repeats the
 * others, so a caller can retry exactly the operations that failed.
 *
 * Not for a Cluster: a batch's keys span slots. Callers keep their one-script-per-operation path there.
 */
import type { RedisClient } from './redis-connection.js';
import { defineScript } from './redis-script.js';

/** An operation's outcome in the batch's reply: its script returned a number, or it raised (-1). */
const FAILED = -1;
/** Most operations in one script call: a long script blocks Redis for every other client meanwhile. */
const MAX_OPS = 256;

/** One kind of operation: a script body over KEYS and ARGV that returns an integer. */
export type LuaOps = Readonly<Record<string, string>>;

/** Queues operations and sends each turn's as one script call. */
export interface LuaBatch<K extends string> {
  /** Resolves with the operation's integer result; rejects when it raised or the call failed. */
  run(op: K, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<number>;
}

/** Why one operation of a batch failed (its script raised, e.g. an OOM refusal). */
export class LuaBatchOpError extends Error {
  constructor(readonly op: string) {
    super(`batched Redis script '${op}' failed`);
    this.name = 'LuaBatchOpError';
  }
}

/**
 * The batch script: every op as a local function, then a loop over ARGV[1], a JSON array of
 * [op, keys, args] (decoded by Redis' cjson). One argument, not one per key and value: ioredis converts and
 * measures every argument of a command one by one, and per argument that cost more than the JSON encoding.
 * The keys are not declared (numkeys 0), which only a standalone Redis allows; every op's keys are its own.
 */
export function batchLua(ops: LuaOps): string {
  const names = Object.keys(ops);
  const fns = names.map((n, i) => `local function op${i}(KEYS, ARGV)\n${ops[n]}\nend`).join('\n');
  const table = names.map((n, i) => `[${JSON.stringify(n)}] = op${i}`).join(', ');
  return `${fns}
local fns = { ${table} }
local out = {}
for i, o in ipairs(cjson.decode(ARGV[1])) do
  local ok, res = pcall(fns[o[1]], o[2], o[3])
  out[i] = (ok and tonumber(res)) or (ok and 0) or ${FAILED}
end
return out
`;
}

interface Pending {
  op: string;
  keys: readonly string[];
  args: ReadonlyArray<string | number>;
  resolve: (v: number) => void;
  reject: (e: unknown) => void;
}

/**
 * A key or argument as the script must see it: a string, with any lone surrogate as U+FFFD. That is what ioredis
 * sends for a separate argument (UTF-8 encoding replaces it), and cjson would refuse the escaped surrogate
 * JSON.stringify writes, failing the whole batch.
 */
function wellFormed(v: string | number): string {
  // ES2024 string methods (Node 20 has them; the project's TypeScript lib is older).
  const s = String(v) as string & { isWellFormed(): boolean; toWellFormed(): string };
  return s.isWellFormed() ? s : s.toWellFormed();
}

/**
 * Builds a batch over `ops` on a standalone connection.
 * @throws Error on a Cluster connection (a batch would be cross-slot).
 */
export function createLuaBatch<K extends string>(redis: RedisClient, ops: Readonly<Record<K, string>>): LuaBatch<K> {
  if (redis.isCluster) throw new Error('createLuaBatch: a batch spans slots; use one script per operation on a Cluster');
  // By digest like every script here; numkeys 0: the keys ride in the JSON.
  const call = defineScript(redis, batchLua(ops), 0);

  let queue: Pending[] = [];
  const send = (batch: Pending[]) => {
    const payload = JSON.stringify(batch.map((p) => [p.op, p.keys.map(wellFormed), p.args.map(wellFormed)]));
    call(payload).then(
      (reply) => {
        const results = Array.isArray(reply) ? (reply as unknown[]) : [];
        batch.forEach((p, i) => {
          const r = Number(results[i]);
          if (i >= results.length || r === FAILED || !Number.isFinite(r)) p.reject(new LuaBatchOpError(p.op));
          else p.resolve(r);
        });
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  };
  const flush = () => {
    const all = queue;
    queue = [];
    for (let i = 0; i < all.length; i += MAX_OPS) send(all.slice(i, i + MAX_OPS));
  };
  return {
    run(op, keys, args) {
      return new Promise<number>((resolve, reject) => {
        // setImmediate: after every promise continuation of this turn has queued its operations.
        if (queue.length === 0) setImmediate(flush);
        queue.push({ op, keys, args, resolve, reject });
      });
    },
  };
}
