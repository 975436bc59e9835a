/**
 * User profiles for serving: cache lookup, single-flight generation, and the freshness policy.
 *
 * Freshness: under `stale-while-revalidate` a user whose history changed is served at once with their latest
 * profile for the same domain and prompt version while a background call regenerates it; under `strict` the
 * profile is regenerated before reranking. Either way concurrent misses for one key share one LLM call.
 *
 * Erasure: every generation writes with the erasure epoch its lookup saw, so a DELETE /v1/profiles that lands
 * while the profile is being generated wins: the store drops the late write (see ProfileStore.save).
 */
import type { CallContext } from './pipeline.js';
import { DEFAULT_PROFILE_MAX_CHARS, capProfileText, generateProfile, newContext } from './pipeline.js';
import type { ActivePrompt, Clock, ErasureEpoch, Logger, ProfileKey, ProfileLookup, ProfileStore, RerankTelemetry, StoredProfile } from './ports.js';
import { LlmCallError, UNKNOWN_ERASURE_EPOCH, noTelemetry } from './ports.js';
import { historyDigest } from './history.js';
import type { Item } from './types.js';
import { traced } from './tracing.js';

/** Profile freshness policy (PROFILE_FRESHNESS). */
export type FreshnessPolicy = 'stale-while-revalidate' | 'strict';

/** What the response reports about the profile it used. */
export interface ProfileOutcome {
  text: string;
  cached: boolean;
  stale: boolean;
}

/** Dependencies of the profile service. */
export interface ProfileServiceDeps {
  store: ProfileStore;
  clock: Clock;
  logger: Logger;
  telemetry?: RerankTelemetry;
  freshness: FreshnessPolicy;
  ttlSeconds: number;
  /** Budget for background regenerations, which no caller waits for. */
  refreshDeadlineMs: number;
  /** Longest wait for a cache lookup before it counts as a miss (default 250 ms). */
  lookupTimeoutMs?: number;
  /**
   * Most background refreshes in flight at once (default DEFAULT_MAX_BACKGROUND_REFRESHES). A stale hit
   * beyond it serves the stale profile without starting another; a later stale hit will.
   */
  maxBackgroundRefreshes?: number;
}

/** Profiles for serving, with a single-flight table and background refreshes that can be drained. */
export interface ProfileService {
  /** Returns the profile to rerank with, generating it (once per key) when needed. Throws LlmCallError. */
  getProfile(ctx: CallContext, prompt: ActivePrompt, userId: string, domain: string, history: Item[]): Promise<ProfileOutcome>;
  /**
   * Resolves when every background refresh has settled (graceful shutdown). With `abortAfterMs`, refreshes
   * still running after that long are aborted (no caller waits for them; a hung LLM must not hold up the
   * shutdown until it is forced), and no new ones start from then on.
   */
  drain(opts?: { abortAfterMs?: number }): Promise<void>;
  /** Generations in flight (foreground and background). */
  readonly inflight: number;
}

/** Cache lookups slower than this are treated as misses, so a sick Redis cannot eat the caller's deadline. */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 250;

/**
 * Background refreshes hold an LLM concurrency slot for up to PROFILE_REFRESH_DEADLINE_MS (15 s) when the LLM
 * hangs, and no caller waits for them: uncapped, they piled up to all 64 slots in the soak and foreground
 * reranks fell back with `overloaded`. A quarter of the default LLM_MAX_CONCURRENCY keeps most slots for
 * requests someone is waiting for.
 */
export const DEFAULT_MAX_BACKGROUND_REFRESHES = 16;

/** Canonical single-flight key; the same fields as the cache key. */
function flightKey(k: ProfileKey): string {
  return JSON.stringify([k.domain, k.promptVersion, k.userId, k.historyDigest]);
}

/** Creates the serving profile service. */
export function createProfileService(deps: ProfileServiceDeps): ProfileService {
  const telemetry = deps.telemetry ?? noTelemetry;
  const lookupTimeoutMs = deps.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
  const flights = new Map<string, Promise<string>>();
  const background = new Set<Promise<unknown>>();
  /**
   * One controller per background refresh, aborted at shutdown (see drain). Not one shared signal: every
   * LLM call adds an abort listener to its signal, and 16 refreshes on one signal trip Node's
   * MaxListenersExceededWarning ("possible EventTarget memory leak").
   */
  const refreshControllers = new Set<AbortController>();
  let stopped = false;
  const maxRefreshes = deps.maxBackgroundRefreshes ?? DEFAULT_MAX_BACKGROUND_REFRESHES;
  let refreshing = 0;

  async function lookup(key: ProfileKey): Promise<ProfileLookup> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // A slow cache must not eat the caller's deadline: past the budget, treat the lookup as a miss.
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`lookup exceeded ${lookupTimeoutMs} ms`)), lookupTimeoutMs);
      });
      return await Promise.race([deps.store.lookup(key), timeout]);
    } catch (err) {
      // A cache outage must not fail reranks: treat it as a miss and let the LLM regenerate. The epoch is
      // unknown, so the write will land only if the store remembers no erasure of this user.
      deps.logger.warn({ err: errMessage(err) }, 'profile cache lookup failed; treating as miss');
      return { exact: null, latest: null, erasureEpoch: UNKNOWN_ERASURE_EPOCH };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Generates and stores a profile; concurrent callers for the same key share one LLM call. */
  function generate(
    ctx: CallContext,
    prompt: ActivePrompt,
    key: ProfileKey,
    history: Item[],
    epoch: ErasureEpoch,
  ): { promise: Promise<string>; coalesced: boolean } {
    const fk = flightKey(key);
    const existing = flights.get(fk);
    if (existing) return { promise: existing, coalesced: true };
    const promise = generateProfile(ctx, prompt.text, history);
    // Callers get the text as soon as it exists; the cache write finishes off their path. The flight stays
    // registered until the write lands, so requests arriving meanwhile coalesce instead of regenerating.
    const saved = promise
      .then(async (text) => {
        const profile: StoredProfile = { text, historyDigest: key.historyDigest, createdAt: deps.clock.now() };
        const written = await deps.store.save(key, profile, deps.ttlSeconds, epoch).catch((err: unknown) => {
          deps.logger.warn({ err: errMessage(err) }, 'profile cache write failed');
          return true;
        });
        if (!written) deps.logger.info({}, 'profile not cached: the user was erased while it was generated');
      })
      .catch(() => undefined)
      .finally(() => {
        flights.delete(fk);
        background.delete(saved);
      });
    background.add(saved);
    flights.set(fk, promise);
    return { promise, coalesced: false };
  }

  function refreshInBackground(ctx: CallContext, prompt: ActivePrompt, key: ProfileKey, history: Item[], epoch: ErasureEpoch): void {
    if (stopped || flights.has(flightKey(key))) return;
    if (refreshing >= maxRefreshes) {
      deps.logger.debug({ refreshing }, 'background profile refresh skipped: too many in flight');
      return;
    }
    // Its own deadline and no caller signal (the caller has already been answered with the stale profile);
    // only a shutdown that stops waiting for it aborts it.
    const controller = new AbortController();
    const bgCtx = newContext(ctx.llm, ctx.opts, deps.clock.now() + deps.refreshDeadlineMs, {
      telemetry: ctx.telemetry,
      signal: controller.signal,
    });
    refreshControllers.add(controller);
    refreshing++;
    const p = generate(bgCtx, prompt, key, history, epoch)
      .promise.then(
        () => telemetry.backgroundRefresh('ok'),
        (err: unknown) => {
          telemetry.backgroundRefresh('error');
          deps.logger.warn({ err: errMessage(err) }, 'background profile refresh failed');
        },
      )
      .finally(() => {
        refreshing--;
        refreshControllers.delete(controller);
        background.delete(p);
      });
    background.add(p);
  }

  return {
    get inflight() {
      return flights.size;
    },
    getProfile(ctx, prompt, userId, domain, history) {
      // One span for the lookup and, on a miss, the generation under it (the LLM profile call is its child).
      return traced('profile.lookup', { 'agp.domain': domain, 'agp.prompt_version': prompt.version }, async (span) => {
        const key: ProfileKey = { domain, promptVersion: prompt.version, userId, historyDigest: historyDigest(history) };
        const found = await lookup(key);
        // Profiles cached before PROFILE_MAX_CHARS existed (or under a larger cap) are capped on the way out.
        const maxChars = ctx.opts.profileMaxChars ?? DEFAULT_PROFILE_MAX_CHARS;
        if (found.exact) {
          telemetry.profileCache('hit');
          span.setAttribute('agp.profile.cache', 'hit');
          return { text: capProfileText(found.exact.text, maxChars), cached: true, stale: false };
        }
        if (deps.freshness === 'stale-while-revalidate' && found.latest) {
          telemetry.profileCache('stale');
          span.setAttribute('agp.profile.cache', 'stale');
          if (ctx.llm.configured) refreshInBackground(ctx, prompt, key, history, found.erasureEpoch);
          return { text: capProfileText(found.latest.text, maxChars), cached: true, stale: true };
        }
        // The generation may be shared, so it runs under its starter's deadline but not its starter's signal: a
        // client that disconnects must not cancel the call others joined. Each caller (starter included) stops
        // waiting at ITS own deadline or abort; usage is still charged to the starter (same usage object).
        const { promise, coalesced } = generate({ ...ctx, signal: undefined }, prompt, key, history, found.erasureEpoch);
        telemetry.profileCache(coalesced ? 'coalesced' : 'miss');
        span.setAttribute('agp.profile.cache', coalesced ? 'coalesced' : 'miss');
        const text = await withinDeadline(promise, ctx, deps.clock);
        return { text, cached: false, stale: false };
      });
    },
    async drain(opts = {}) {
      const timer =
        opts.abortAfterMs === undefined
          ? undefined
          : setTimeout(() => {
              stopped = true;
              for (const c of refreshControllers) c.abort();
            }, Math.max(0, opts.abortAfterMs));
      try {
        while (background.size > 0) await Promise.allSettled([...background]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Settles like `promise`, or rejects with a `timeout` LlmCallError at the caller's deadline or abort. */
export function withinDeadline<T>(promise: Promise<T>, ctx: CallContext, clock: Clock): Promise<T> {
  const remaining = ctx.deadline - clock.now();
  if (remaining <= 0 || ctx.signal?.aborted) return Promise.reject(new LlmCallError('timeout', 'deadline passed while waiting for a shared profile'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => finish(() => reject(new LlmCallError('timeout', 'aborted while waiting for a shared profile')));
    const timer = setTimeout(() => finish(() => reject(new LlmCallError('timeout', 'deadline passed while waiting for a shared profile'))), remaining);
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    function finish(settle: () => void) {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      settle();
    }
    promise.then(
      (v) => finish(() => resolve(v)),
      (err: unknown) => finish(() => reject(err)),
    );
  });
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
