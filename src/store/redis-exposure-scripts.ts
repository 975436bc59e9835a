/**
 * The Lua scripts of the Redis exposure store (redis-exposure-store.ts says when each runs). Each touches the
 * keys of one slot, so each runs on a Cluster; PUT_LUA (index step and document together) only in the
 * standalone batch.
 */
/** KEYS: index, tombstone. ARGV: tag, expiry (epoch s), now (epoch s), servedAt (ms). 1 = indexed, 0 = erased. */
export const INDEX_LUA = `
local erased = redis.call('GET', KEYS[2])
if erased and tonumber(erased) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
-- Only ever extend (EXPIREAT … GT needs Redis 7): the index outlives every exposure it lists.
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 or ttl < tonumber(ARGV[2]) - tonumber(ARGV[3]) then redis.call('EXPIREAT', KEYS[1], ARGV[2]) end
return 1
`;

/**
 * The put of one exposure as ONE script, for the standalone batch (redis-lua-batch.ts), where the user's index
 * and the document may share a script. KEYS: index, tombstone, doc. ARGV: INDEX_LUA's four, then the document
 * and its TTL (s). 1 = stored and listed; 0 = the user was erased after it was served (nothing written) or it
 * was already stored (a retry).
 */
export const PUT_LUA = `
local function index(KEYS, ARGV)
${INDEX_LUA}
end
if index(KEYS, ARGV) ~= 1 then return 0 end
if redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[6], 'NX') then return 1 end
return 0
`;

/**
 * KEYS: doc, events, positives, claimed. ARGV: (dedupeKey, itemId, positive 1|0)*. nil when the document is
 * gone. Returns the claimed counts (what the experiment's sums reflect) and the counts now, and claims the
 * latter in the same step, so concurrent batches get consecutive, disjoint transitions.
 */
export const APPLY_LUA = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 or redis.call('STRLEN', KEYS[1]) == 0 then return false end
local claimed = redis.call('HGETALL', KEYS[4])
local fresh = {}
local moved = false
for i = 1, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[2], ARGV[i], '1') == 1 then
    fresh[#fresh + 1] = 1
    if ARGV[i + 2] == '1' then
      redis.call('HINCRBY', KEYS[3], ARGV[i + 1], 1)
      moved = true
    end
  else
    fresh[#fresh + 1] = 0
  end
end
local now = redis.call('HGETALL', KEYS[3])
-- A retried batch (all duplicates) still returns claimed -> now, so a transition released after a failed
-- sums update is derived again; claiming is copying the counts.
if moved or #claimed ~= #now then
  redis.call('DEL', KEYS[4])
  if #now > 0 then redis.call('HSET', KEYS[4], unpack(now)) end
else
  for i = 1, #now, 2 do
    if redis.call('HGET', KEYS[4], now[i]) ~= now[i + 1] then
      redis.call('DEL', KEYS[4])
      redis.call('HSET', KEYS[4], unpack(now))
      break
    end
  end
end
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
  redis.call('PEXPIRE', KEYS[4], ttl)
end
return {fresh, claimed, now}
`;

/**
 * KEYS: doc, claimed. ARGV: n, then n flat (item, count) of the claim to undo, then the counts to restore.
 * Restores only when the claim is still the one given (no later batch claimed past it); 1 when restored.
 */
export const RELEASE_LUA = `
if redis.call('STRLEN', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[1])
local cur = redis.call('HGETALL', KEYS[2])
if #cur ~= n then return 0 end
for i = 2, n + 1, 2 do
  if redis.call('HGET', KEYS[2], ARGV[i]) ~= ARGV[i + 1] then return 0 end
end
redis.call('DEL', KEYS[2])
if #ARGV > n + 1 then redis.call('HSET', KEYS[2], unpack(ARGV, n + 2)) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`;

/** KEYS: doc, positives. The positive counts, or nil when the document is gone. */
export const POSITIVES_LUA = `
if redis.call('STRLEN', KEYS[1]) == 0 then return false end
return redis.call('HGETALL', KEYS[2])
`;

/** KEYS: index, tombstone. ARGV: now (ms), tombstone TTL (s). Marks the erasure, returns the indexed tags. */
export const ERASE_BEGIN_LUA = `
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;

/** KEYS: doc, events, positives, claimed. ARGV: marker TTL (s). Leaves the empty marker; 1 when an exposure was there. */
export const ERASE_ONE_LUA = `
local existed = redis.call('STRLEN', KEYS[1]) > 0 and 1 or 0
redis.call('SET', KEYS[1], '', 'EX', ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
return existed
`;
