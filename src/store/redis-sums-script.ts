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
 * KEYS: sums, user totals (one shard). ARGV: userId, then the arm-level names of the fold (users field,
 * count² field, and the prefix and suffix around a field name of its Σs² and Σn·s fields), nIncrements,
 * (armField, delta)*, then per user delta: arm, count, nFields, (field, delta)*. The fold runs over every
 * field the user's totals hold (a field the delta does not name moves by 0) and then the delta's new fields,
 * in that order, like foldUserChange.
 */
export const APPLY_SUMS_LUA = `
local US = '\\31'
local function fmt(x) return string.format('%.17g', x) end
local function add(field, x) redis.call('HINCRBYFLOAT', KEYS[1], field, fmt(x)) end
local usersName, countSqName, sqPre, sqSuf, xPre, xSuf = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local nInc = tonumber(ARGV[8])
local i = 9
for _ = 1, nInc do
  redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  local arm = ARGV[i] .. '\\0'
  local who = arm .. ARGV[1]
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
  if users ~= 0 then add(arm .. usersName, users) end
  if n1 ~= n0 then add(arm .. countSqName, n1 * n1 - n0 * n0) end
  local nf = tonumber(ARGV[i + 2])
  local deltas = {}
  i = i + 3
  for _ = 1, nf do
    local name = ARGV[i]
    if vals[name] == nil and deltas[name] == nil then names[#names + 1] = name end
    deltas[name] = tonumber(ARGV[i + 1])
    i = i + 2
  end
  for _, name in ipairs(names) do
    local t0 = vals[name] or 0
    local t1 = t0 + (deltas[name] or 0)
    vals[name] = t1
    local ssq = t1 * t1 - t0 * t0
    local cross = n1 * t1 - n0 * t0
    if ssq ~= 0 then add(arm .. sqPre .. name .. sqSuf, ssq) end
    if cross ~= 0 then add(arm .. xPre .. name .. xSuf, cross) end
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

/**
 * The fold's arm-level names as spelled by USER_FIELDS (a field's Σs² and Σn·s names split around it), sent
 * with every update so the script cannot drift from the naming.
 */
const FOLD_NAMES: readonly string[] = (() => {
  const mark = '\u0001';
  const around = (name: string) => {
    const cut = name.indexOf(mark);
    return [name.slice(0, cut), name.slice(cut + mark.length)];
  };
  return [USER_FIELDS.users, USER_FIELDS.countSq, ...around(USER_FIELDS.sumSq(mark)), ...around(USER_FIELDS.cross(mark))];
})();

/** The ARGV of APPLY_SUMS_LUA for an update, or null when it changes nothing (no round trip needed). */
export function applySumsArgs(update: SumsUpdate): string[] | null {
  if (update.users.length === 0 && Object.keys(update.increments).length === 0) return null;
  const args = [update.userId, ...FOLD_NAMES, ''];
  for (const [arm, fields] of Object.entries(update.increments)) {
    for (const [field, d] of Object.entries(fields)) args.push(`${arm}${SEP}${field}`, String(d));
  }
  if (args.length === FOLD_NAMES.length + 2 && update.users.length === 0) return null;
  args[FOLD_NAMES.length + 1] = String((args.length - FOLD_NAMES.length - 2) / 2);
  for (const u of update.users) {
    const fields = Object.entries(u.sums);
    args.push(u.arm, String(u.count), String(fields.length));
    for (const [field, d] of fields) args.push(field, String(d));
  }
  return args;
}
