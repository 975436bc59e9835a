/**
 * Notices that the registry's storage lost its active prompt versions: a Redis restarted without
 * persistence, a FLUSHALL, an evicting `maxmemory-policy`. Nothing in the service deactivates a domain
 * (rollback activates an older version), so a domain that was active and is now absent from the active set
 * was lost, not changed. Serving then falls back to the built-in prompt like every replica does, and the
 * loss must be visible: /readyz reports `prompts: "lost"`, and the runtime counts it and re-imports
 * PROMPT_FILE when one is configured.
 */
import type { Logger } from '../agp/ports.js';

/** Tracks the domains seen active and which of them vanished. */
export interface PromptLossTracker {
  /** Feeds the active set of one successful refresh. */
  observe(active: Readonly<Record<string, string>>): void;
  /** Domains that were active once and are not now (sorted; empty when nothing is lost). */
  readonly lost: readonly string[];
}

/** Called whenever the lost set changes: the whole set, and the domains lost since the last call. */
export type OnPromptLoss = (lost: readonly string[], newlyLost: readonly string[]) => void;

/** A tracker that logs every change and reports it to `onChange`. */
export function createPromptLossTracker(log: Logger, onChange?: OnPromptLoss): PromptLossTracker {
  const seen = new Set<string>();
  let lost: readonly string[] = [];
  return {
    get lost() {
      return lost;
    },
    observe(active) {
      const now = [...seen].filter((d) => !Object.hasOwn(active, d)).sort();
      for (const d of Object.keys(active)) seen.add(d);
      if (now.length === lost.length && now.every((d, i) => d === lost[i])) return;
      const newlyLost = now.filter((d) => !lost.includes(d));
      lost = now;
      if (newlyLost.length > 0) {
        log.error({ domains: newlyLost }, 'active prompt versions vanished from the registry storage (emptied?); serving the built-in prompt');
      } else {
        log.info({ lost: now }, 'lost prompt domains are active again');
      }
      try {
        onChange?.(now, newlyLost);
      } catch (err) {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'prompt loss callback threw');
      }
    },
  };
}
