/**
 * Redis LoopStore. Every key of one domain shares the tag `{loop.<sha256(domain)[:32]>}` (key-schema.ts), so
 * each operation on a domain is one single-slot command or script and works on a Cluster unchanged; the two
 * cross-domain indexes (scheduled domains, pinned domains) are sets of their own, written after the domain's
 * key and read tolerant of holes (a listed domain whose key is gone is skipped).
 *
 * Keys of a domain: `schedule` and `pin` strings (JSON); `run` hash {id, done '0'|'1', doc JSON}: the current
 * run, with id and done apart from the document so the compare-and-set scripts never decode JSON; `runs` list
 * of finished runs, newest first, capped at LOOP_RUNS_KEPT, each entry `<doc JSON>US<runId>` (JSON never holds
 * a raw US, so the first US ends the document); `audit` list, newest first, capped at LOOP_AUDIT_KEPT, each
 * entry `<id bytes>:<runId bytes or -1>:<id><runId><record JSON>` so a script can filter by runId and order by
 * id without decoding a record.
 *
 * - beginRun: refuses (returns the stored run) while the current run is not done, or when the runId is the
 *   current one or a recent one; else writes `run` (and, for a run begun done, the head of `runs`).
 * - updateRun: compare-and-set on (id, done = '0'); a run written done is also pushed on `runs` and trimmed.
 * - appendAudit: one script: LPUSH (or, for a record older than the head, an insert at its place, so the list
 *   stays ordered by id) and LTRIM. listAudit: one script reading the list from the head in chunks, skipping ids
 *   not below `before` and other runIds, until `limit` records. Ids are compared byte by byte: Lua's `<` follows
 *   the server's LC_COLLATE, which Redis takes from its environment.
 */
import type { Clock } from '../agp/ports.js';
import { LOOP_AUDIT_KEPT, LOOP_RUNS_KEPT } from '../loop/ports.js';
import type { AuditRecord, LoopRun, LoopStore, Pin, Schedule } from '../loop/ports.js';
import { createKeySchema, DEFAULT_KEY_PREFIX } from './key-schema.js';
import { pageSize, runsNewestFirst } from './memory-loop-store.js';
import { ensureConnected } from './redis-connection.js';
import type { RedisClient } from './redis-connection.js';
import { defineScript } from './redis-script.js';

/** The connection and key prefix of the Redis loop store. */
export interface RedisLoopStoreOptions {
  redis: RedisClient;
  keyPrefix?: string;
  /** Accepted for symmetry with the memory store; no operation reads the time (records carry their own). */
  clock?: Clock;
}

/** Ends the run document in a `runs` entry. */
const US = '\u001f';

/** KEYS: run, runs. ARGV: runId, done, doc, kept. {'ok'} or {'stored', doc}. */
const BEGIN_LUA = `
local id = redis.call('HGET', KEYS[1], 'id')
if id and (id == ARGV[1] or redis.call('HGET', KEYS[1], 'done') ~= '1') then
  return {'stored', redis.call('HGET', KEYS[1], 'doc')}
end
for _, e in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local cut = string.find(e, '\\31', 1, true)
  if cut and string.sub(e, cut + 1) == ARGV[1] then return {'stored', string.sub(e, 1, cut - 1)} end
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'done', ARGV[2], 'doc', ARGV[3])
if ARGV[2] == '1' then
  redis.call('LPUSH', KEYS[2], ARGV[3] .. '\\31' .. ARGV[1])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
end
return {'ok'}
`;

/** KEYS: run, runs. ARGV: runId, done, doc, kept. 1 when written, 0 when the stored run is another or done. */
const UPDATE_LUA = `
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'done') ~= '0' then return 0 end
redis.call('HSET', KEYS[1], 'done', ARGV[2], 'doc', ARGV[3])
if ARGV[2] == '1' then
  redis.call('LPUSH', KEYS[2], ARGV[3] .. '\\31' .. ARGV[1])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
end
return 1
`;

/**
 * KEYS: run, runs. ARGV: 'get', runId → {doc} or {}; 'list', limit → {current doc or '', recent entries…}
 * (at most `limit`: a done current run is the head of the recent ones).
 */
const READ_RUNS_LUA = `
local id = redis.call('HGET', KEYS[1], 'id')
if ARGV[1] == 'get' then
  if id == ARGV[2] then return {redis.call('HGET', KEYS[1], 'doc')} end
  for _, e in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
    local cut = string.find(e, '\\31', 1, true)
    if cut and string.sub(e, cut + 1) == ARGV[2] then return {string.sub(e, 1, cut - 1)} end
  end
  return {}
end
local out = {''}
if id and redis.call('HGET', KEYS[1], 'done') ~= '1' then out[1] = redis.call('HGET', KEYS[1], 'doc') end
local limit = tonumber(ARGV[2])
if limit > 0 then
  for _, e in ipairs(redis.call('LRANGE', KEYS[2], 0, limit - 1)) do out[#out + 1] = e end
end
return out
`;

/** Lua: `lt` orders two ids by bytes; `header` reads (id, runId or false, start of the JSON) from an `audit` entry. */
const AUDIT_LUA_HELPERS = `
local function lt(x, y)
  local n = math.min(#x, #y)
  for i = 1, n do
    local p, q = string.byte(x, i), string.byte(y, i)
    if p ~= q then return p < q end
  end
  return #x < #y
end
local function header(e)
  local a = string.find(e, ':', 1, true)
  local b = string.find(e, ':', a + 1, true)
  local idLen, runLen = tonumber(string.sub(e, 1, a - 1)), tonumber(string.sub(e, a + 1, b - 1))
  local pos, run = b + idLen + 1, false
  if runLen >= 0 then run = string.sub(e, pos, pos + runLen - 1); pos = pos + runLen end
  return string.sub(e, b + 1, b + idLen), run, pos
end
`;

/**
 * KEYS: audit. ARGV: entry, id, kept. Keeps the list ordered by id, greatest first (equal ids: newest appended
 * first): the usual record is the newest and is pushed on the head; one appended late (another writer's clock) is
 * inserted before the first entry whose id is not greater. Then trims to the `kept` greatest ids.
 */
const APPEND_AUDIT_LUA = `${AUDIT_LUA_HELPERS}
local head = redis.call('LINDEX', KEYS[1], 0)
if not head or not lt(ARGV[2], (header(head))) then
  redis.call('LPUSH', KEYS[1], ARGV[1])
else
  local pivot, start = false, 0
  while not pivot do
    local chunk = redis.call('LRANGE', KEYS[1], start, start + 99)
    if #chunk == 0 then break end
    for _, e in ipairs(chunk) do
      if not lt(ARGV[2], (header(e))) then pivot = e; break end
    end
    start = start + 100
  end
  if pivot then redis.call('LINSERT', KEYS[1], 'BEFORE', pivot, ARGV[1]) else redis.call('RPUSH', KEYS[1], ARGV[1]) end
end
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
return 1
`;

/**
 * KEYS: audit. ARGV: limit, hasBefore '1'|'0', before, hasRunId '1'|'0', runId. The record JSON of the first
 * `limit` entries (the list is ordered by id) below `before` and of `runId`: a binary search (LINDEX) finds the
 * first id below `before`, then the list is read from there in chunks, so a page costs its own entries (plus the
 * ones a runId filter skips), not the trail above it.
 */
const LIST_AUDIT_LUA = `${AUDIT_LUA_HELPERS}
local limit = tonumber(ARGV[1])
local chunk = math.max(limit, 50)
local out, start = {}, 0
if ARGV[2] == '1' then
  local hi = redis.call('LLEN', KEYS[1])
  while start < hi do
    local mid = math.floor((start + hi) / 2)
    if lt((header(redis.call('LINDEX', KEYS[1], mid))), ARGV[3]) then hi = mid else start = mid + 1 end
  end
end
while #out < limit do
  local entries = redis.call('LRANGE', KEYS[1], start, start + chunk - 1)
  if #entries == 0 then break end
  for _, e in ipairs(entries) do
    local id, run, pos = header(e)
    if (ARGV[2] == '0' or lt(id, ARGV[3])) and (ARGV[4] == '0' or run == ARGV[5]) then
      out[#out + 1] = string.sub(e, pos)
      if #out == limit then break end
    end
  end
  start = start + chunk
end
return out
`;

/** The `audit` list entry of a record (see the file comment). */
function auditEntry(record: AuditRecord): string {
  const run = record.runId === null ? '-1' : String(Buffer.byteLength(record.runId));
  return `${Buffer.byteLength(record.id)}:${run}:${record.id}${record.runId ?? ''}${JSON.stringify(record)}`;
}

/** The run document of a `runs` entry. */
function runOfEntry(entry: string): LoopRun {
  return JSON.parse(entry.slice(0, entry.indexOf(US))) as LoopRun;
}

/** Builds the Redis loop store; every operation on a domain is single-slot. Redis errors propagate. */
export function createRedisLoopStore(opts: RedisLoopStoreOptions): LoopStore {
  const { redis } = opts;
  const keys = createKeySchema(opts.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const script = {
    begin: defineScript(redis, BEGIN_LUA, 2),
    update: defineScript(redis, UPDATE_LUA, 2),
    readRuns: defineScript(redis, READ_RUNS_LUA, 2),
    append: defineScript(redis, APPEND_AUDIT_LUA, 1),
    listAudit: defineScript(redis, LIST_AUDIT_LUA, 1),
  };
  const runArgs = (run: LoopRun) => [run.runId, run.step === 'done' ? '1' : '0', JSON.stringify(run), String(LOOP_RUNS_KEPT)];

  /** Reads a JSON string key; null when absent. */
  const getJson = async <T>(key: string): Promise<T | null> => {
    await ensureConnected(redis);
    const raw = await redis.get(key);
    return raw === null ? null : (JSON.parse(raw) as T);
  };
  /** Every value of an index's domains, by domain, skipping holes (a listed domain whose key is gone). */
  const listIndexed = async <T>(index: string, keyOf: (domain: string) => string): Promise<T[]> => {
    await ensureConnected(redis);
    const domains = (await redis.smembers(index)).sort();
    const values = await Promise.all(domains.map((d) => redis.get(keyOf(d))));
    return values.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as T]));
  };
  /** Writes the domain's key, then adds it to the index (a crash between leaves a key the listing misses until rewritten). */
  const putIndexed = async (index: string, key: string, domain: string, value: unknown): Promise<void> => {
    await ensureConnected(redis);
    await redis.set(key, JSON.stringify(value));
    await redis.sadd(index, domain);
  };
  /**
   * Deletes the domain's key, then removes it from the index, then puts it back when a concurrent write made the key
   * again meanwhile (the two keys are in different slots, so no script can do both): a put racing a delete never
   * ends up missing from the index; at worst the index holds a hole, which the listing skips.
   */
  const deleteIndexed = async (index: string, key: string, domain: string): Promise<boolean> => {
    await ensureConnected(redis);
    const deleted = await redis.del(key);
    await redis.srem(index, domain);
    if ((await redis.exists(key)) === 1) await redis.sadd(index, domain);
    return deleted > 0;
  };

  return {
    putSchedule: (schedule: Schedule) => putIndexed(keys.loopDomains(), keys.loopSchedule(schedule.domain), schedule.domain, schedule),
    getSchedule: (domain: string) => getJson<Schedule>(keys.loopSchedule(domain)),
    listSchedules: () => listIndexed<Schedule>(keys.loopDomains(), (d) => keys.loopSchedule(d)),
    deleteSchedule: (domain: string) => deleteIndexed(keys.loopDomains(), keys.loopSchedule(domain), domain),

    getPin: (domain: string) => getJson<Pin>(keys.loopPin(domain)),
    listPins: () => listIndexed<Pin>(keys.loopPinned(), (d) => keys.loopPin(d)),
    async setPin(domain: string, pin: Pin | null): Promise<boolean> {
      if (pin === null) return deleteIndexed(keys.loopPinned(), keys.loopPin(domain), domain);
      await putIndexed(keys.loopPinned(), keys.loopPin(domain), domain, pin);
      return true;
    },

    async beginRun(run: LoopRun): Promise<LoopRun | null> {
      await ensureConnected(redis);
      const [verdict, doc] = (await script.begin(keys.loopRun(run.domain), keys.loopRuns(run.domain), ...runArgs(run))) as [string, string?];
      return verdict === 'ok' ? null : (JSON.parse(doc ?? 'null') as LoopRun);
    },
    async currentRun(domain: string): Promise<LoopRun | null> {
      await ensureConnected(redis);
      const doc = await redis.hget(keys.loopRun(domain), 'doc');
      return doc === null ? null : (JSON.parse(doc) as LoopRun);
    },
    async getRun(domain: string, runId: string): Promise<LoopRun | null> {
      await ensureConnected(redis);
      const [doc] = (await script.readRuns(keys.loopRun(domain), keys.loopRuns(domain), 'get', runId)) as string[];
      return doc === undefined ? null : (JSON.parse(doc) as LoopRun);
    },
    async updateRun(run: LoopRun): Promise<boolean> {
      await ensureConnected(redis);
      return (await script.update(keys.loopRun(run.domain), keys.loopRuns(run.domain), ...runArgs(run))) === 1;
    },
    async listRuns(domain: string, limit: number): Promise<LoopRun[]> {
      const n = pageSize(limit);
      if (n === 0) return [];
      await ensureConnected(redis);
      const [current = '', ...recent] = (await script.readRuns(keys.loopRun(domain), keys.loopRuns(domain), 'list', String(n))) as string[];
      return runsNewestFirst(current === '' ? null : (JSON.parse(current) as LoopRun), recent.map(runOfEntry), n);
    },

    async appendAudit(record: AuditRecord): Promise<void> {
      await ensureConnected(redis);
      await script.append(keys.loopAudit(record.domain), auditEntry(record), record.id, String(LOOP_AUDIT_KEPT));
    },
    async listAudit(domain: string, o: { limit: number; before?: string | undefined; runId?: string | undefined }): Promise<AuditRecord[]> {
      const n = pageSize(o.limit);
      if (n === 0) return [];
      await ensureConnected(redis);
      const args = [String(n), o.before === undefined ? '0' : '1', o.before ?? '', o.runId === undefined ? '0' : '1', o.runId ?? ''];
      const docs = (await script.listAudit(keys.loopAudit(domain), ...args)) as string[];
      return docs.map((d) => JSON.parse(d) as AuditRecord);
    },
  };
}
