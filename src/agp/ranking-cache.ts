/**
 * The result cache of ranked orders (issue 12): the key digest, and the read-through runner with single
 * flight. An identical request (same domain, prompt version, model, method, profile or history, shuffles,
 * pipeline settings and the exact candidate text sent) is answered from the cache with no LLM call.
 *
 * Single flight is per process: concurrent identical misses on one replica share one ranking; two replicas
 * may each rank the same request once (the cache then holds the later write). Only parsed rankings (`ok`,
 * `repaired`) are cached: an unparseable answer or an LLM fault is retried by the next request.
 */
import { createHash } from 'node:crypto';
import type { CallContext } from './pipeline.js';
import type { CachedRanking, Clock, ErasureEpoch, Logger, RankingCache, RankingCacheKey, RankingCacheOutcome, RerankTelemetry } from './ports.js';
import { UNKNOWN_ERASURE_EPOCH } from './ports.js';
import { renderCandidates, type TextLimits } from './prompts.js';
import { withinDeadline } from './profile-service.js';
import type { TextSanitiser } from './untrusted-text.js';
import type { Item, Method, ParseOutcome } from './types.js';

/** Bumped whenever the meaning of a cached value or of a key part changes: old entries then simply miss. */
const KEY_VERSION = 'rank-v1';
/** Hex characters of the key digest (128 bits, like the history digest). */
const DIGEST_CHARS = 32;

/** Everything that decides a ranked order; each part changes the key (test/unit/ranking-cache.test.ts). */
export interface RankingKeyParts {
  domain: string;
  promptVersion: string;
  /** The rerank model that answers (the request's `model` or the configured one). */
  model: string;
  method: Method;
  /**
   * `agp`: a digest of the profile text placed in the prompt (rankingContextDigest); `direct`/`cot`, which
   * rank from the history: the history digest (history.ts) of the items used.
   */
  contextDigest: string;
  /** Listwise passes (1 when the request has no `shuffles`). */
  shuffles: number;
  /** Digest of the pipeline settings that shape prompts and parsing (pipelineSettingsDigest). */
  settings: string;
  /** The candidates in request order: their ids and the text actually sent (sanitised and capped). */
  candidates: Item[];
}

const sha = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, DIGEST_CHARS);

/**
 * The cache key digest. The candidate block is rendered exactly as the prompt builders render it (same
 * sanitiser, same caps), so two requests whose candidates differ only past the caps share an entry, and any
 * difference the LLM would see misses. JSON of the parts is unambiguous, and JSON.stringify escapes lone
 * surrogates, so the hashed UTF-8 is exact.
 */
export function rankingCacheDigest(parts: RankingKeyParts, limits: TextLimits, sanitiser?: TextSanitiser): string {
  const block = renderCandidates(parts.candidates, limits, { sanitiser });
  return sha(
    JSON.stringify([
      KEY_VERSION,
      parts.domain,
      parts.promptVersion,
      parts.model,
      parts.method,
      parts.contextDigest,
      parts.shuffles,
      parts.settings,
      parts.candidates.map((c) => c.id),
      block,
    ]),
  );
}

/** Digest of the profile text an `agp` ranking prompt carries ('' when there is none). */
export function rankingContextDigest(profileText: string | undefined): string {
  return sha(JSON.stringify(['profile', profileText ?? '']));
}

/**
 * Digest of pipeline settings (window, caps, structured output, token caps, temperature, and any option a
 * later strategy adds), without the sanitiser memo and per-role models (the model is its own key part).
 * Computed once per reranker, so changing a setting in a deployment never serves rankings made under the old one.
 */
export function pipelineSettingsDigest(opts: object): string {
  return sha(JSON.stringify(opts, (k, v: unknown) => (k === 'sanitiser' || k === 'models' ? undefined : v)));
}

/** What a ranking step returns; only `ok` and `repaired` results are cached. */
export interface RankedOrder {
  order: number[];
  outcome: ParseOutcome;
}

/**
 * Where a response's ranking came from (`cache` in the rerank response): `hit` the result cache, `coalesced`
 * an identical ranking in flight, `miss` the LLM (also when the cache failed), `off` no cache (TTL 0, or a
 * ranking that never reached the LLM: baseline, fallbacks before ranking).
 */
export type ResultCacheStatus = 'hit' | 'miss' | 'coalesced' | 'off';

/** Dependencies of the result cache. */
export interface ResultCacheDeps {
  store: RankingCache;
  /** RERANK_CACHE_TTL_SECONDS (> 0; the reranker skips the cache at 0). */
  ttlSeconds: number;
  clock: Clock;
  logger: Logger;
  telemetry?: RerankTelemetry | undefined;
  /** Longest wait for a lookup before it counts as a miss (default 100 ms: a sick Redis must not eat the deadline). */
  lookupTimeoutMs?: number | undefined;
}

/** The read-through result cache. */
export interface ResultCache {
  /**
   * The cached result for `key`, else `compute`'s (shared with concurrent identical calls), written back
   * when it parsed. Throws what `compute` throws (LlmCallError), or a `timeout` LlmCallError when a shared
   * ranking outlives this caller's deadline.
   */
  run<R extends RankedOrder>(ctx: CallContext, key: RankingCacheKey, compute: (ctx: CallContext) => Promise<R>): Promise<{ result: R; cache: ResultCacheStatus }>;
  /** Resolves when every pending cache write has settled (graceful shutdown). */
  drain(): Promise<void>;
  /** Rankings in flight. */
  readonly inflight: number;
}

/** Default lookup budget: a ranking lookup is one GET; past this the LLM is the better bet. */
export const DEFAULT_RANKING_LOOKUP_TIMEOUT_MS = 100;

/** Creates the read-through result cache over a RankingCache store. */
export function createResultCache(deps: ResultCacheDeps): ResultCache {
  const lookupTimeoutMs = deps.lookupTimeoutMs ?? DEFAULT_RANKING_LOOKUP_TIMEOUT_MS;
  const flights = new Map<string, Promise<RankedOrder>>();
  const pending = new Set<Promise<unknown>>();
  const report = (o: RankingCacheOutcome) => deps.telemetry?.rankingCache?.(o);

  async function lookup(key: RankingCacheKey): Promise<{ entry: CachedRanking | null; epoch: ErasureEpoch; failed: boolean }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`lookup exceeded ${lookupTimeoutMs} ms`)), lookupTimeoutMs);
      });
      const found = await Promise.race([deps.store.lookup(key), timeout]);
      return { entry: found.entry, epoch: found.erasureEpoch, failed: false };
    } catch (err) {
      // A cache outage never fails a rerank: rank as on a miss. The epoch is unknown, so the write lands only
      // if the store remembers no erasure of the user.
      deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'ranking cache lookup failed; treating as miss');
      return { entry: null, epoch: UNKNOWN_ERASURE_EPOCH, failed: true };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    get inflight() {
      return flights.size;
    },
    async run<R extends RankedOrder>(ctx: CallContext, key: RankingCacheKey, compute: (ctx: CallContext) => Promise<R>) {
      // The flight key includes the user: a ranking is shared only between requests of the same user, so an
      // erasure (which is per user) never races a flight another user started.
      const fk = `${key.userId.length}:${key.userId}:${key.digest}`;
      const existing = flights.get(fk);
      if (existing) {
        report('coalesced');
        return { result: (await withinDeadline(existing, ctx, deps.clock)) as R, cache: 'coalesced' as const };
      }
      const found = await lookup(key);
      if (found.entry) {
        report('hit');
        return { result: found.entry as unknown as R, cache: 'hit' as const };
      }
      // Another identical request may have started while this one looked up.
      const late = flights.get(fk);
      if (late) {
        report('coalesced');
        return { result: (await withinDeadline(late, ctx, deps.clock)) as R, cache: 'coalesced' as const };
      }
      report(found.failed ? 'error' : 'miss');
      // Shared, so it runs under the starter's deadline but not its signal: a client that goes away must not
      // cancel a ranking others joined. Each caller still stops waiting at its own deadline or abort.
      const promise = compute({ ...ctx, signal: undefined });
      const written = promise
        .then(async (result) => {
          if (result.outcome === 'unparseable') return;
          const entry = { ...(result as object), order: result.order, outcome: result.outcome } as CachedRanking;
          const ok = await deps.store.save(key, entry, deps.ttlSeconds, found.epoch).catch((err: unknown) => {
            deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'ranking cache write failed');
            return true;
          });
          if (!ok) deps.logger.info({}, 'ranking not cached: the user was erased while it was ranked');
        })
        .catch(() => undefined)
        .finally(() => {
          flights.delete(fk);
          pending.delete(written);
        });
      pending.add(written);
      flights.set(fk, promise);
      return { result: await withinDeadline(promise, ctx, deps.clock), cache: 'miss' as const };
    },
    async drain() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
