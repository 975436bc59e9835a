/**
 * The one place Redis keys are spelled. Every adapter asks this module for its keys.
 *
 * Profile keys share a per-user hash tag so that one user's entries live in one Redis Cluster slot
 * (MGET, MULTI and the erase script stay single-slot). The tag is a digest of the user id, so raw
 * user ids never appear in key names and no character of a user id can break the tag.
 * Result-cache keys (cached rankings, their per-user index and erasure epoch) carry the same per-user tag,
 * so a user's rankings are erased by one single-slot script.
 * Prompt-registry keys share the `{reg}` tag for the same reason.
 *
 * Experiments (src/experiments): every key of one exposure (its document, its event dedupe hash, its positive
 * counts) shares a tag derived from the requestId, so applying events is one single-slot script. The per-user
 * exposure index and erasure tombstone carry the user's tag (the profiles' slot). An experiment's running sums
 * are split into SUMS_SHARDS shards by user (sumsShard): shard k's sums hash and per-user totals hash share
 * the tag `<experiment id>.<k>`, so one update is one single-slot script while one experiment's writes spread
 * over 16 slots. A shadow experiment's records, counters and hourly LLM-call counts share one tag per experiment
 * (writes are bounded by its LLM budget). Experiment definitions (low volume) all share the `{registry}` tag. Erasure touches the
 * user's slot and each exposure's slot in separate commands; no command spans two slots.
 *
 * The loop (src/loop): every key of one domain (schedule, pin, current run, recent runs, audit trail) shares the
 * tag `loop.<sha256(domain)[:32]>`, so each store operation is one single-slot command or script. The indexes of
 * scheduled and of pinned domains are keys of their own (no tag), written after the domain's key and read
 * tolerant of holes (redis-loop-store.ts).
 */
import { createHash, hash } from 'node:crypto';
import type { ProfileKey } from '../agp/ports.js';
import { identityBytes, isWellFormedText } from '../agp/text-identity.js';

/** The default key prefix (REDIS_KEY_PREFIX). */
export const DEFAULT_KEY_PREFIX = 'agp';

/** Hex characters of the sha256 digest used as the per-user tag. */
const USER_HASH_CHARS = 32;

/**
 * sha256(userId) as hex, first 32 characters: the per-user hash tag content. Hashed over identityBytes, not
 * plain UTF-8, so an id with a lone surrogate never shares a tag with the id where it reads as U+FFFD.
 */
export function userHash(userId: string): string {
  let h = memo.cur.get(userId);
  if (h !== undefined) return h;
  h = memo.prev.get(userId) ?? idHash(userId);
  if (memo.cur.size >= HASH_MEMO_SIZE) {
    memo.prev = memo.cur;
    memo.cur = new Map();
  }
  memo.cur.set(userId, h);
  return h;
}

/** userHash without the memo: for ids seen once or twice (request ids), which would only churn it. */
export function idHash(id: string): string {
  // The one-shot crypto.hash (Node ≥ 20.12; engines asks 20.19) skips the Hash object and the Buffer: 0.26–0.30
  // against 1.33–1.37 µs for a UUID (`npx tsx bench/key-hash-cpu.ts`), and every recorded rerank hashes its
  // requestId. A well-formed string hashes as its UTF-8, the very bytes identityBytes gives it, so every key
  // keeps its name.
  const digest = isWellFormedText(id) ? hash('sha256', id, 'hex') : createHash('sha256').update(identityBytes(id)).digest('hex');
  return digest.slice(0, USER_HASH_CHARS);
}

/**
 * Recent userHash results, two generations of HASH_MEMO_SIZE (a pure function's memo, not state). One rerank
 * hashes its user for the profile, ranking-cache and exposure keys (up to six sha256 of the same id), and a
 * sha256 costs 3–5 µs here: a measured hot path (docs/experiments-storage.md), and lru-cache's bookkeeping
 * would cost about what it saves.
 */
const HASH_MEMO_SIZE = 8_192;
const memo = { cur: new Map<string, string>(), prev: new Map<string, string>() };

/** Shards of one experiment's running sums (a fixed number: changing it would orphan stored shards). */
export const SUMS_SHARDS = 16;

/**
 * The sums shard of a user: FNV-1a of the userId's UTF-16 code units, mod SUMS_SHARDS. Stable across
 * processes and versions (it decides where a user's totals live), and cheap: it runs once per sums update.
 */
export function sumsShard(userId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    h ^= userId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SUMS_SHARDS;
}

/** Encodes a free-form key segment (domain, version, digest): no `:`, `{`, `}` or whitespace survive. */
export function encodeSegment(value: string): string {
  return encodeURIComponent(value);
}

/** Reverses encodeSegment. */
export function decodeSegment(value: string): string {
  return decodeURIComponent(value);
}

/**
 * A history digest as a key segment. A digest spelled `latest` is written `%6Catest` (an escape
 * encodeURIComponent never produces) so that it can never collide with the latest entry.
 */
function digestSegment(digest: string): string {
  const enc = encodeSegment(digest);
  return enc === 'latest' ? '%6Catest' : enc;
}

/** The keys of one prefix. Build it once with createKeySchema and pass it to the adapters. */
export interface KeySchema {
  readonly prefix: string;
  /** Exact profile entry for (domain, version, user, history digest). */
  profileExact(key: ProfileKey): string;
  /** The user's most recent profile for (domain, version), whatever its digest. */
  profileLatest(key: Pick<ProfileKey, 'domain' | 'promptVersion' | 'userId'>): string;
  /** Set of every profile key written for the user (erasure reads it instead of SCANning). */
  profileIndex(userId: string): string;
  /** The user's erasure epoch (a counter with a TTL, bumped by every erasure); see redis-profile-store.ts. */
  profileErasure(userId: string): string;
  /** One cached ranking (JSON) of the user, by its key digest (src/agp/ranking-cache.ts). */
  rankingEntry(userId: string, digest: string): string;
  /**
   * Sorted set of the user's ranking digests (encoded; rankingEntry(userId, '') + member is the entry key), scored by
   * expiry (epoch s): erasure reads it instead of SCANning.
   */
  rankingIndex(userId: string): string;
  /** The user's ranking-cache erasure epoch (a counter with a TTL), like profileErasure. */
  rankingErasure(userId: string): string;
  /** Hash version → PromptVersion JSON for one domain. */
  promptVersions(domain: string): string;
  /** Set of the (encoded) domains that have at least one version. */
  promptDomains(): string;
  /** Hash domain → active version. */
  promptActive(): string;
  /** Pub/sub channel announcing an activation (a channel, not a key: no hash tag needed). */
  promptActivatedChannel(): string;
  /** The hash-tag content of one exposure's keys (a digest of the requestId); also the user index's member. */
  exposureTag(requestId: string): string;
  /** String: the exposure document (exposure-codec.ts), or an empty erasure marker, by its tag. */
  exposureDoc(tag: string): string;
  /** Hash dedupeKey → 1: the events already counted for the exposure. */
  exposureEvents(tag: string): string;
  /** Hash itemId → positive-event count of the exposure. */
  exposurePositives(tag: string): string;
  /** Hash itemId → positive count as last claimed for the experiment's running sums (what they reflect). */
  exposureClaimed(tag: string): string;
  /** Set of the exposure tags of a user (erasure reads it instead of SCANning); the user's slot. */
  exposureUserIndex(userId: string): string;
  /** The user's exposure-erasure tombstone (the time of the last erasure, with a TTL); the user's slot. */
  exposureErasure(userId: string): string;
  /**
   * Sorted set requestId → served time (ms) of one domain's exposures served in one hour (epoch hours): the
   * time index a dataset build streams; its own slot per (domain, hour), so a busy domain spreads over slots.
   */
  exposureTimeBucket(domain: string, hour: number): string;
  /** String: the catalogue entry (title, text) of one item of a domain; its own slot (item-catalogue.ts). */
  catalogueItem(domain: string, itemId: string): string;
  /** Hash `arm\u0000field` → running sum, of one sums shard (sumsShard) of an experiment. */
  experimentSums(experimentId: string, shard: number): string;
  /**
   * Hash `arm\u0000userId` → the user's totals in that arm (count and field sums, redis-exposure-store.ts),
   * of one sums shard; same slot as experimentSums(experimentId, shard). The only key holding user ids.
   */
  experimentUserTotals(experimentId: string, shard: number): string;
  /** Hash experiment id → definition JSON (the record as created). The `{registry}` slot, like every xreg key. */
  experimentDocs(): string;
  /** Hash experiment id → `{stoppedAt, stopReason}` JSON, present once it stopped. */
  experimentStops(): string;
  /** Hash experiment id → its p-values (redis-experiment-store.ts spells the value). */
  experimentPValues(): string;
  /** Hash domain → id of the running experiment of that domain. */
  experimentRunning(): string;
  /** Sorted set of experiment ids scored by createdAt (listing, newest first). */
  experimentOrder(): string;
  /**
   * List of a shadow experiment's scored records (encoded, newest first); every shadow key of one experiment
   * shares the tag `{<experiment id>}` under `xsh`, so each write is one single-slot script.
   */
  shadowRecords(experimentId: string): string;
  /** Hash of a shadow experiment's counters (scored, skips, LLM calls, tau sums, retained bytes). */
  shadowCounters(experimentId: string): string;
  /** String: LLM calls a shadow experiment made in one clock hour (epoch hours), with a short TTL. */
  shadowHourCalls(experimentId: string, hour: number): string;
  /** Hash key name → API key record JSON (hashes only). Every API-key key shares the `{apikeys}` slot. */
  apiKeyRecords(): string;
  /** String: the domain's retraining schedule (JSON). Every loop key of a domain shares its `{loop.…}` tag. */
  loopSchedule(domain: string): string;
  /** String: the domain's pin (JSON), present while pinned. */
  loopPin(domain: string): string;
  /** Hash `id`, `done` ('0'|'1'), `doc` (JSON): the domain's current run; the scripts compare id and done. */
  loopRun(domain: string): string;
  /** List of the domain's finished runs, newest first, capped (redis-loop-store.ts spells the entries). */
  loopRuns(domain: string): string;
  /** List of the domain's audit records, newest first, capped (redis-loop-store.ts spells the entries). */
  loopAudit(domain: string): string;
  /** Set of the domains that have a schedule (raw domain names); its own slot. */
  loopDomains(): string;
  /** Set of the pinned domains (raw domain names); its own slot. */
  loopPinned(): string;
  /** Hash field → cumulative usage (reranks, llmCalls, promptTokens, completionTokens) of one API key. */
  apiKeyUsage(name: string): string;
  /** String: LLM calls of one API key on one UTC day (YYYY-MM-DD), with a two-day TTL. */
  apiKeyDaily(name: string, day: string): string;
}

/**
 * Builds the key schema for a prefix.
 * @throws Error when the prefix is empty or contains `{` or `}` (it would capture the hash tag).
 */
export function createKeySchema(prefix: string = DEFAULT_KEY_PREFIX): KeySchema {
  if (prefix.length === 0 || /[{}\s]/.test(prefix)) {
    throw new Error(`invalid Redis key prefix "${prefix}": must be non-empty without braces or whitespace`);
  }
  const p = prefix;
  // Every lookup and save spells 2–3 keys of the same user in a row: remember the last user's tag so the
  // sha256 runs once per operation instead of once per key.
  let lastUser: string | undefined;
  let lastBase = '';
  const profileBase = (userId: string) => {
    if (userId !== lastUser) {
      lastBase = `${p}:prof:{${userHash(userId)}}`;
      lastUser = userId;
    }
    return lastBase;
  };
  const reg = `${p}:prompts:{reg}`;
  // The requestId is hashed like the user id: any character is safe and the tag length is fixed.
  const exposureBase = (tag: string) => `${p}:exp:{${tag}}`;
  // `.` is kept by encodeSegment and the shard has no dot, so (id, shard) → tag is injective.
  const sumsBase = (experimentId: string, shard: number) => `${p}:xsum:{${encodeSegment(experimentId)}.${shard}}`;
  const xreg = `${p}:xreg:{registry}`;
  const apikeys = `${p}:apikeys:{apikeys}`;
  // Hashed like a user id: any domain name is safe in the tag, and the `loop.` prefix keeps it apart from the
  // per-user tags (a user id equal to a domain name would otherwise share its slot, harmlessly but confusingly).
  const loopBase = (domain: string) => `${p}:loop:{loop.${userHash(domain)}}`;
  return Object.freeze({
    prefix: p,
    profileExact: (k: ProfileKey) =>
      `${profileBase(k.userId)}:${encodeSegment(k.domain)}:${encodeSegment(k.promptVersion)}:${digestSegment(k.historyDigest)}`,
    profileLatest: (k: Pick<ProfileKey, 'domain' | 'promptVersion' | 'userId'>) =>
      `${profileBase(k.userId)}:${encodeSegment(k.domain)}:${encodeSegment(k.promptVersion)}:latest`,
    profileIndex: (userId: string) => `${profileBase(userId)}:idx`,
    profileErasure: (userId: string) => `${profileBase(userId)}:erased`,
    rankingEntry: (userId: string, digest: string) => `${p}:rank:{${userHash(userId)}}:e:${encodeSegment(digest)}`,
    rankingIndex: (userId: string) => `${p}:rank:{${userHash(userId)}}:idx`,
    rankingErasure: (userId: string) => `${p}:rank:{${userHash(userId)}}:erased`,
    promptVersions: (domain: string) => `${reg}:versions:${encodeSegment(domain)}`,
    promptDomains: () => `${reg}:domains`,
    promptActive: () => `${reg}:active`,
    promptActivatedChannel: () => `${p}:prompts:activated`,
    exposureTag: (requestId: string) => idHash(requestId),
    exposureDoc: (tag: string) => exposureBase(tag),
    exposureEvents: (tag: string) => `${exposureBase(tag)}:ev`,
    exposurePositives: (tag: string) => `${exposureBase(tag)}:pos`,
    exposureClaimed: (tag: string) => `${exposureBase(tag)}:cl`,
    exposureUserIndex: (userId: string) => `${p}:expu:{${userHash(userId)}}:idx`,
    exposureErasure: (userId: string) => `${p}:expu:{${userHash(userId)}}:erased`,
    exposureTimeBucket: (domain: string, hour: number) => `${p}:xt:{${encodeSegment(domain)}:${hour}}`,
    // Hashed like a requestId: any id is safe, the key length is fixed and ids never appear in key names.
    catalogueItem: (domain: string, itemId: string) => `${p}:item:{${userHash(`${domain}\u0000${itemId}`)}}`,
    experimentSums: (experimentId: string, shard: number) => sumsBase(experimentId, shard),
    experimentUserTotals: (experimentId: string, shard: number) => `${sumsBase(experimentId, shard)}:u`,
    experimentDocs: () => `${xreg}:doc`,
    experimentStops: () => `${xreg}:stop`,
    experimentPValues: () => `${xreg}:pv`,
    experimentRunning: () => `${xreg}:running`,
    experimentOrder: () => `${xreg}:order`,
    shadowRecords: (experimentId: string) => `${p}:xsh:{${encodeSegment(experimentId)}}:r`,
    shadowCounters: (experimentId: string) => `${p}:xsh:{${encodeSegment(experimentId)}}:c`,
    shadowHourCalls: (experimentId: string, hour: number) => `${p}:xsh:{${encodeSegment(experimentId)}}:h:${hour}`,
    loopSchedule: (domain: string) => `${loopBase(domain)}:schedule`,
    loopPin: (domain: string) => `${loopBase(domain)}:pin`,
    loopRun: (domain: string) => `${loopBase(domain)}:run`,
    loopRuns: (domain: string) => `${loopBase(domain)}:runs`,
    loopAudit: (domain: string) => `${loopBase(domain)}:audit`,
    loopDomains: () => `${p}:loop:domains`,
    loopPinned: () => `${p}:loop:pins`,
    apiKeyRecords: () => `${apikeys}:records`,
    apiKeyUsage: (name: string) => `${apikeys}:usage:${encodeSegment(name)}`,
    apiKeyDaily: (name: string, day: string) => `${apikeys}:day:${day}:${encodeSegment(name)}`,
  });
}

/**
 * The part of a key Redis Cluster hashes: the content of the first `{…}` when non-empty, else the
 * whole key (the rule from the Redis Cluster specification). Exposed for tests and diagnostics.
 */
export function clusterHashTag(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}
