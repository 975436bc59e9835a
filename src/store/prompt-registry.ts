/**
 * The PromptRegistry shared by every storage backend. It keeps a local snapshot of the active
 * versions WITH their text, so `resolve` is synchronous and allocation-free on the hot path:
 * the domain's active prompt → the `default` domain's → the built-in prompt.
 *
 * The snapshot is refreshed when the storage announces an activation (Redis pub/sub) AND every
 * `refreshMs` (pub/sub loses messages across reconnects), so an activation reaches every replica
 * within seconds without a restart. A failed refresh keeps the last snapshot: an outage never drops
 * serving back to the built-in prompt.
 */
import { DEFAULT_DOMAIN } from '../agp/types.js';
import { silentLogger, systemClock } from '../agp/ports.js';
import type { ActivePrompt, Clock, Logger, PromptRegistry, PromptVersion } from '../agp/ports.js';
import { conflict, notFound, validationError } from '../errors.js';
import { createPromptLossTracker, type OnPromptLoss } from './prompt-loss-tracker.js';

/** Outcome of storing a version: new, identical to the stored one, or different under the same name. */
export type PutOutcome = 'created' | 'exists' | 'conflict';

/** The few operations the registry needs from a backend (Redis, memory). */
export interface PromptStorage {
  getVersion(domain: string, version: string): Promise<PromptVersion | null>;
  listVersions(domain?: string): Promise<PromptVersion[]>;
  /** Atomic create-if-absent; 'exists' when the stored text and historyLength are the same. */
  putVersion(version: PromptVersion): Promise<PutOutcome>;
  /** Records the active version of a domain and notifies every subscriber (e.g. PUBLISH). */
  setActive(domain: string, version: string): Promise<void>;
  getActive(): Promise<Record<string, string>>;
  /** Calls `onActivated` whenever any replica activates a version; resolves to an unsubscribe. */
  subscribe?(onActivated: () => void): Promise<() => Promise<void>>;
}

export interface PromptRegistryOptions {
  storage: PromptStorage;
  /** Served when neither the domain nor `default` has an active version. */
  builtin: ActivePrompt;
  /** Poll interval for the active set (PROMPT_REFRESH_MS). */
  refreshMs: number;
  clock?: Clock;
  logger?: Logger;
  /** Called with the new domain → version map whenever the active set this replica sees changes. */
  onActiveChange?: (active: Record<string, string>) => void;
  /** Called when active versions vanish from storage, or come back (see prompt-loss-tracker.ts). */
  onLostChange?: OnPromptLoss;
}

export interface ManagedPromptRegistry extends PromptRegistry {
  /**
   * First refresh (a failure is logged, not thrown: `ready` stays false), then the activation
   * subscription (awaited for at most 1 s) and polling. Never rejects, so the service can start while
   * Redis is down and serve the built-in prompt until the first successful refresh.
   */
  start(): Promise<void>;
  /** Stops polling and unsubscribes. Does not close the storage's connections (the owner does). */
  close(): Promise<void>;
  /** Epoch ms of the last successful refresh, or null before the first one. */
  readonly lastRefreshAt: number | null;
  /** Domains whose active version vanished from storage (they serve the built-in prompt); empty normally. */
  readonly lostDomains: readonly string[];
}

/** Two versions are the same when everything serving uses is the same. */
export function sameContent(a: Pick<PromptVersion, 'text' | 'historyLength'>, b: Pick<PromptVersion, 'text' | 'historyLength'>): boolean {
  return a.text === b.text && a.historyLength === b.historyLength;
}

/** Domain, then creation time, then version name: the order every storage lists in. */
export function sortVersions(list: PromptVersion[]): PromptVersion[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return list.sort((a, b) => cmp(a.domain, b.domain) || cmp(a.createdAt, b.createdAt) || cmp(a.version, b.version));
}

function toActive(v: PromptVersion): ActivePrompt {
  return Object.freeze({ domain: v.domain, version: v.version, text: v.text, historyLength: v.historyLength });
}

function assertValidVersion(v: PromptVersion): void {
  const problems: string[] = [];
  if (typeof v.domain !== 'string' || v.domain.trim() === '') problems.push('domain must be non-empty');
  if (typeof v.version !== 'string' || v.version.trim() === '') problems.push('version must be non-empty');
  if (typeof v.text !== 'string' || v.text.trim() === '') problems.push('text must be non-empty');
  if (!Number.isInteger(v.historyLength) || v.historyLength < 1) problems.push('historyLength must be a positive integer');
  if (problems.length > 0) throw validationError(`invalid prompt version: ${problems.join('; ')}`);
}

export function createPromptRegistry(opts: PromptRegistryOptions): ManagedPromptRegistry {
  const { storage } = opts;
  const log = opts.logger ?? silentLogger;
  const clock = opts.clock ?? systemClock;
  const builtin = Object.freeze({ ...opts.builtin });

  let snapshot = new Map<string, ActivePrompt>();
  let activeMap: Record<string, string> = {};
  let ready = false;
  let lastRefreshAt: number | null = null;
  let closed = false;
  /** Bumped by close() so a poll in flight from an earlier start() never re-arms itself. */
  let generation = 0;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let subscribing: Promise<void> | undefined;

  const loss = createPromptLossTracker(log, opts.onLostChange);
  /** Missing active versions already warned about (each is reported once, not on every poll). */
  const reportedMissing = new Set<string>();

  async function load(): Promise<void> {
    const active = await storage.getActive();
    const next = new Map<string, ActivePrompt>();
    await Promise.all(
      Object.entries(active).map(async ([domain, version]) => {
        const known = snapshot.get(domain);
        if (known && known.version === version) {
          next.set(domain, known); // versions are immutable: no need to re-read the text
          return;
        }
        const v = await storage.getVersion(domain, version);
        if (v) {
          next.set(domain, toActive(v));
          return;
        }
        if (known) next.set(domain, known);
        const id = JSON.stringify([domain, version]);
        if (!reportedMissing.has(id)) {
          reportedMissing.add(id);
          log.warn({ domain, version }, `active prompt version is missing from storage; ${known ? 'keeping the previous one' : 'ignoring it'}`);
        }
      }),
    );
    const nextMap: Record<string, string> = {};
    for (const [domain, p] of [...next.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      nextMap[domain] = p.version;
    }
    const changed = JSON.stringify(nextMap) !== JSON.stringify(activeMap);
    snapshot = next;
    activeMap = nextMap;
    loss.observe(active);
    ready = true;
    lastRefreshAt = clock.now();
    if (changed) {
      log.info({ active: nextMap }, 'active prompt versions changed');
      try {
        opts.onActiveChange?.({ ...nextMap });
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'onActiveChange callback threw');
      }
    }
  }

  // Refreshes are serialised; a request arriving during one is served by ONE follow-up run, so a
  // caller always observes storage as it was after its call began.
  let running: Promise<void> | null = null;
  let failing = false;
  let queued: Promise<void> | null = null;
  function refresh(): Promise<void> {
    if (!running) {
      running = load()
        .then(
          () => {
            if (failing) log.info({}, 'prompt registry refresh recovered');
            failing = false;
          },
          (err: unknown) => {
            // One warning per outage, not one per poll.
            const fields = { err: errorMessage(err), ready };
            if (failing) log.debug(fields, 'prompt registry refresh failed; keeping the last snapshot');
            else log.warn(fields, 'prompt registry refresh failed; keeping the last snapshot');
            failing = true;
            throw err;
          },
        )
        .finally(() => {
          running = null;
        });
      return running;
    }
    if (!queued) {
      queued = running
        .catch(() => undefined)
        .then(() => {
          queued = null;
          return refresh();
        });
    }
    return queued;
  }

  const refreshQuietly = () => {
    refresh().catch(() => undefined); // already logged
  };

  function schedulePoll(gen: number): void {
    if (closed || gen !== generation) return;
    timer = setTimeout(() => {
      refresh()
        .catch(() => undefined)
        .finally(() => schedulePoll(gen));
    }, opts.refreshMs);
    timer.unref();
  }

  return {
    get ready() {
      return ready;
    },
    get lastRefreshAt() {
      return lastRefreshAt;
    },
    get lostDomains() {
      return loss.lost;
    },

    resolve(domain: string): ActivePrompt {
      return snapshot.get(domain) ?? snapshot.get(DEFAULT_DOMAIN) ?? builtin;
    },

    activeVersions(): Record<string, string> {
      return { ...activeMap };
    },

    get(domain: string, version: string): Promise<PromptVersion | null> {
      return storage.getVersion(domain, version);
    },

    async list(domain?: string): Promise<Array<PromptVersion & { active: boolean }>> {
      const [versions, active] = await Promise.all([storage.listVersions(domain), storage.getActive()]);
      return versions.map((v) => ({ ...v, active: active[v.domain] === v.version }));
    },

    async put(version: PromptVersion): Promise<void> {
      assertValidVersion(version);
      const outcome = await storage.putVersion(version);
      if (outcome === 'conflict') {
        throw conflict(`prompt version ${version.domain}/${version.version} already exists with different content`);
      }
    },

    async activate(domain: string, version: string): Promise<void> {
      const v = await storage.getVersion(domain, version);
      if (!v) throw notFound(`prompt version ${domain}/${version}`);
      await storage.setActive(domain, version);
      log.info({ domain, version }, 'prompt version activated');
      // Make this replica consistent at once; the others follow via pub/sub or polling.
      await refresh().catch(() => undefined);
    },

    refresh,

    async start(): Promise<void> {
      closed = false;
      await refresh().catch(() => undefined);
      if (storage.subscribe && !unsubscribe && !subscribing) {
        // Awaited for at most SUBSCRIBE_WAIT_MS: with Redis down, SUBSCRIBE waits for the connection,
        // and start() must not hang on it (polling covers the gap; the subscription completes later).
        subscribing = storage
          .subscribe(refreshQuietly)
          .then(async (unsub) => {
            if (closed) await unsub();
            else unsubscribe = unsub;
          })
          .catch((err: unknown) => {
            log.warn({ err: errorMessage(err) }, 'prompt activation subscription failed; relying on polling');
          })
          .finally(() => {
            subscribing = undefined;
          });
        await waitAtMost(subscribing, SUBSCRIBE_WAIT_MS);
      }
      if (!timer) schedulePoll(generation);
    },

    async close(): Promise<void> {
      closed = true;
      generation += 1;
      clearTimeout(timer);
      timer = undefined;
      const unsub = unsubscribe;
      unsubscribe = undefined;
      if (unsub) await unsub().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'prompt unsubscribe failed'));
      await running?.catch(() => undefined);
    },
  };
}

/** How long start() waits for the activation subscription before relying on polling alone. */
const SUBSCRIBE_WAIT_MS = 1_000;

async function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    p,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
