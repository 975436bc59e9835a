/**
 * The Redis side of ExposureStore.applySums: one Lua script on one sums shard (key-schema.ts: the shard's
 * sums hash and per-user totals hash share a tag), so a whole update is atomic.
 *
 * The fold is user-level-fold.ts's foldUserChange, line for line, in double arithmetic (Lua numbers are
 * doubles, like JS numbers): a user's stored totals come out bit-identical to the memory store's. The
 * arm-level field names are spelled here in TypeScript (USER_FIELDS) and sent as arguments, so the script
 * cannot drift from the naming. Arm sums are added with HINCRBYFLOAT (long double inside Redis, so they may
 * differ from the memory store's in the last bits; the conformance suite compares to 1e-9).
 *
 * A user's totals are one hash field `<arm>\0<userId>` → `count US name US value …` (US = \x1f), every
 * number at %.17g (round-trips a double; cjson would round to 14 digits). Names must not contain \x1f.
 */
import type { SumsUpdate } from '../experiments/ports.js';
import { USER_FIELDS } from '../experiments/user-level-fold.js';

/** Separates arm and field in a sums field name, and arm and userId in a totals field name. */
export const SEP = '\u0000';

/**
 * KEYS: sums, user totals (one shard). ARGV: userId, nIncrements, (armField, delta)*, then per user delta:
 * arm, count, usersField, countSqField, nFields, (field, delta, sumSqField, crossField)*.
 */
export const APPLY_SUMS_LUA = `
local US = '\\31'
local function fmt(x) return string.format('%.17g', x) end
local function add(field, x) redis.call('HINCRBYFLOAT', KEYS[1], field, fmt(x)) end
local nInc = tonumber(ARGV[2])
local i = 3
for _ = 1, nInc do
  redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  local who = ARGV[i] .. '\\0' .. ARGV[1]
  local n0, names, vals = 0, {}, {}
  local stored = redis.call('HGET', KEYS[2], who)
  if stored then
    local parts, pos = {}, 1
    while true do
      local cut = string.find(stored, US, pos, true)
      if not cut then parts[#parts + 1] = string.sub(stored, pos) break end
      parts[#parts + 1] = string.sub(stored, pos, cut - 1)
      pos = cut + 1
    end
    n0 = tonumber(parts[1])
    for j = 2, #parts - 1, 2 do
      names[#names + 1] = parts[j]
      vals[parts[j]] = tonumber(parts[j + 1])
    end
  end
  local n1 = n0 + tonumber(ARGV[i + 1])
  local users = (n1 > 0 and 1 or 0) - (n0 > 0 and 1 or 0)
  if users ~= 0 then add(ARGV[i + 2], users) end
  if n1 ~= n0 then add(ARGV[i + 3], n1 * n1 - n0 * n0) end
  local nf = tonumber(ARGV[i + 4])
  i = i + 5
  for _ = 1, nf do
    local name = ARGV[i]
    local t0 = vals[name]
    if t0 == nil then
      t0 = 0
      names[#names + 1] = name
    end
    local t1 = t0 + tonumber(ARGV[i + 1])
    vals[name] = t1
    local ssq = t1 * t1 - t0 * t0
    local cross = n1 * t1 - n0 * t0
    if ssq ~= 0 then add(ARGV[i + 2], ssq) end
    if cross ~= 0 then add(ARGV[i + 3], cross) end
    i = i + 4
  end
  local out = { fmt(n1) }
  for _, name in ipairs(names) do
    out[#out + 1] = name
    out[#out + 1] = fmt(vals[name])
  end
  redis.call('HSET', KEYS[2], who, table.concat(out, US))
end
return 0
`;

/** The ARGV of APPLY_SUMS_LUA for an update, or null when it changes nothing (no round trip needed). */
export function applySumsArgs(update: SumsUpdate): string[] | null {
  const inc = Object.entries(update.increments).flatMap(([arm, fields]) => Object.entries(fields).flatMap(([field, d]) => [`${arm}${SEP}${field}`, String(d)]));
  if (inc.length === 0 && update.users.length === 0) return null;
  const args = [update.userId, String(inc.length / 2), ...inc];
  for (const u of update.users) {
    const fields = Object.entries(u.sums);
    const at = (name: string) => `${u.arm}${SEP}${name}`;
    args.push(u.arm, String(u.count), at(USER_FIELDS.users), at(USER_FIELDS.countSq), String(fields.length));
    for (const [field, d] of fields) args.push(field, String(d), at(USER_FIELDS.sumSq(field)), at(USER_FIELDS.cross(field)));
  }
  return args;
}
