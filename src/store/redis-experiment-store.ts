/**
 * Redis ExperimentStore. Experiments are few and rarely written, so every key shares the `{registry}` tag
 * (key-schema.ts): each operation is one script on one slot, atomic, and works on a Cluster unchanged.
 *
 * Keys: `doc` hash id → the definition as JSON (written once by create, never rewritten); `stop` hash id →
 * `{stoppedAt, stopReason}` JSON (present = stopped); `pv` hash id → the p-values as `arm US p …`
 * (US = \x1f, each p as JavaScript spelled it); `running` hash domain → id; `order` sorted set of ids by
 * createdAt (listing, newest first).
 *
 * Why the mutable parts live apart from the definition: the scripts never decode or re-encode JSON, so no
 * number is rounded (Redis's cjson keeps 14 significant digits). Every JSON string is made and parsed in
 * JavaScript; Lua only compares p-values with tonumber and copies the winning spelling verbatim.
 *
 * - create: refuses `domain_busy` when running[domain] is set, else `too_many_running` when HLEN(running)
 *   >= maxRunning, else writes doc, running, order and pv.
 * - stop: compare-and-set: only when doc exists and stop does not; HDELs running[domain] where it names the id.
 * - lowerPValues: per arm, keeps the smaller of the stored and the given p-value.
 */
import type { CreateRefusal, ExperimentRecord, ExperimentStore, StopReason } from '../experiments/ports.js';
import { createKeySchema, DEFAULT_KEY_PREFIX } from './key-schema.js';
import { ensureConnected } from './redis-connection.js';
import { defineScript } from './redis-script.js';
import type { RedisClient } from './redis-connection.js';

/** The connection and key prefix of the Redis experiment store. */
export interface RedisExperimentStoreOptions {
  redis: RedisClient;
  keyPrefix?: string;
}

/** Separates arms and p-values in the `pv` value (arm names must not contain it). */
const US = '\u001f';

/** KEYS: doc, running, order, pv. ARGV: id, domain, docJson, createdAt, maxRunning, pv. */
const CREATE_LUA = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {'exists'} end
local busy = redis.call('HGET', KEYS[2], ARGV[2])
if busy then return {'domain_busy', busy} end
if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[5]) then return {'too_many_running'} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[4], ARGV[1], ARGV[6]) end
return {'ok'}
`;

/** KEYS: doc, stop, pv, running, order. ARGV: 'one' id | 'running' | 'all'. Flat (doc, stop, pv)*, '' for none. */
const READ_LUA = `
local ids
if ARGV[1] == 'one' then ids = {ARGV[2]}
elseif ARGV[1] == 'running' then ids = redis.call('HVALS', KEYS[4])
else ids = redis.call('ZREVRANGE', KEYS[5], 0, -1) end
local out = {}
for _, id in ipairs(ids) do
  local doc = redis.call('HGET', KEYS[1], id)
  if doc then
    out[#out + 1] = doc
    out[#out + 1] = redis.call('HGET', KEYS[2], id) or ''
    out[#out + 1] = redis.call('HGET', KEYS[3], id) or ''
  end
end
return out
`;

/** KEYS: doc, stop, running, pv. ARGV: id, stopJson. (doc, stop, pv) of the stopped record, or nil. */
const STOP_LUA = `
local doc = redis.call('HGET', KEYS[1], ARGV[1])
if not doc or redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return false end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local flat = redis.call('HGETALL', KEYS[3])
for i = 1, #flat, 2 do
  if flat[i + 1] == ARGV[1] then redis.call('HDEL', KEYS[3], flat[i]) end
end
return {doc, ARGV[2], redis.call('HGET', KEYS[4], ARGV[1]) or ''}
`;

/** KEYS: doc, pv. ARGV: id, (arm, p)*. Keeps the minimum per arm; nothing for an unknown id. */
const LOWER_LUA = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local US = '\\31'
local cur = redis.call('HGET', KEYS[2], ARGV[1]) or ''
local tokens, pos = {}, 1
while cur ~= '' do
  local cut = string.find(cur, US, pos, true)
  if not cut then tokens[#tokens + 1] = string.sub(cur, pos) break end
  tokens[#tokens + 1] = string.sub(cur, pos, cut - 1)
  pos = cut + 1
end
local names, vals = {}, {}
for i = 1, #tokens - 1, 2 do
  names[#names + 1] = tokens[i]
  vals[tokens[i]] = tokens[i + 1]
end
for i = 2, #ARGV - 1, 2 do
  local old = vals[ARGV[i]]
  if old == nil then names[#names + 1] = ARGV[i] end
  if old == nil or tonumber(ARGV[i + 1]) < tonumber(old) then vals[ARGV[i]] = ARGV[i + 1] end
end
local out = {}
for _, name in ipairs(names) do
  out[#out + 1] = name
  out[#out + 1] = vals[name]
end
redis.call('HSET', KEYS[2], ARGV[1], table.concat(out, US))
return 1
`;

type Definition = Omit<ExperimentRecord, 'state' | 'stoppedAt' | 'stopReason' | 'pValues'>;

/** The stored `pv` spelling of p-values (non-finite ones are ignored: they cannot be compared). */
function encodePValues(pValues: Readonly<Record<string, number>>): string {
  return Object.entries(pValues)
    .filter(([, p]) => Number.isFinite(p))
    .flatMap(([arm, p]) => [arm, String(p)])
    .join(US);
}

/** A record from its three stored parts ('' = absent). */
function decodeRecord(doc: string, stop: string, pv: string): ExperimentRecord {
  const def = JSON.parse(doc) as Definition;
  const stopped = stop === '' ? null : (JSON.parse(stop) as { stoppedAt: number; stopReason: StopReason });
  const tokens = pv === '' ? [] : pv.split(US);
  const pValues: Record<string, number> = {};
  for (let i = 0; i + 1 < tokens.length; i += 2) pValues[tokens[i] as string] = Number(tokens[i + 1]);
  return { ...def, state: stopped ? 'stopped' : 'running', stoppedAt: stopped?.stoppedAt ?? null, stopReason: stopped?.stopReason ?? null, pValues };
}

/** A flat (doc, stop, pv)* reply as records. */
function recordsOf(reply: unknown): ExperimentRecord[] {
  const flat = Array.isArray(reply) ? (reply as unknown[]).map(String) : [];
  const out: ExperimentRecord[] = [];
  for (let i = 0; i + 2 < flat.length; i += 3) out.push(decodeRecord(flat[i] as string, flat[i + 1] as string, flat[i + 2] as string));
  return out;
}

/** Newest first; ties by id, descending (ZREVRANGE's order). */
function newestFirst(a: ExperimentRecord, b: ExperimentRecord): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * Builds the Redis experiment store; every operation is one single-slot script.
 * @throws Error from create when the record is not running or its id is already stored (a caller bug).
 */
export function createRedisExperimentStore(opts: RedisExperimentStoreOptions): ExperimentStore {
  const { redis } = opts;
  // EVALSHA, not the body on every call (redis-script.ts): the poller reads every second on every replica.
  const script = { read: defineScript(redis, READ_LUA, 5), create: defineScript(redis, CREATE_LUA, 4), stop: defineScript(redis, STOP_LUA, 4), lower: defineScript(redis, LOWER_LUA, 2) };
  const keys = createKeySchema(opts.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const [doc, stops, pv, running, order] = [keys.experimentDocs(), keys.experimentStops(), keys.experimentPValues(), keys.experimentRunning(), keys.experimentOrder()];
  const read = async (...args: string[]) => {
    await ensureConnected(redis);
    return recordsOf(await script.read(doc, stops, pv, running, order, ...args));
  };

  return {
    async create(record: ExperimentRecord, maxRunning: number): Promise<CreateRefusal | null> {
      if (record.state !== 'running' || record.stoppedAt !== null || record.stopReason !== null) {
        throw new Error(`create takes a running record, got state ${record.state}`);
      }
      const { state: _s, stoppedAt: _t, stopReason: _r, pValues, ...def } = record;
      await ensureConnected(redis);
      const args = [record.id, record.domain, JSON.stringify(def), String(record.createdAt), String(maxRunning), encodePValues(pValues)];
      const [verdict, runningId] = (await script.create(doc, running, order, pv, ...args)) as [string, string?];
      if (verdict === 'exists') throw new Error(`experiment ${record.id} already exists`);
      if (verdict === 'domain_busy') return { reason: 'domain_busy', runningId: runningId ?? '' };
      if (verdict === 'too_many_running') return { reason: 'too_many_running', max: maxRunning };
      return null;
    },

    async get(id: string): Promise<ExperimentRecord | null> {
      return (await read('one', id))[0] ?? null;
    },

    async list(domain?: string): Promise<ExperimentRecord[]> {
      const all = await read('all');
      return domain === undefined ? all : all.filter((r) => r.domain === domain);
    },

    async running(): Promise<ExperimentRecord[]> {
      return (await read('running')).sort(newestFirst);
    },

    async stop(id: string, at: number, reason: StopReason): Promise<ExperimentRecord | null> {
      await ensureConnected(redis);
      const reply = (await script.stop(doc, stops, running, pv, id, JSON.stringify({ stoppedAt: at, stopReason: reason }))) as unknown;
      return recordsOf(reply)[0] ?? null;
    },

    async lowerPValues(id: string, pValues: Readonly<Record<string, number>>): Promise<void> {
      const args = Object.entries(pValues)
        .filter(([, p]) => Number.isFinite(p))
        .flatMap(([arm, p]) => [arm, String(p)]);
      if (args.length === 0) return;
      await ensureConnected(redis);
      await script.lower(doc, pv, id, ...args);
    },
  };
}
