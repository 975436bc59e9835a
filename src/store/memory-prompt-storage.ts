/**
 * In-memory PromptStorage: for a single replica without Redis, the CLI and tests. Several registries
 * sharing one instance see each other's activations through `subscribe`, like replicas on Redis.
 * Versions do not survive a restart (PROMPT_FILE re-seeds them).
 */
import type { PromptVersion } from '../agp/ports.js';
import { sameContent, sortVersions } from './prompt-registry.js';
import type { PromptStorage, PutOutcome } from './prompt-registry.js';

const versionKey = (domain: string, version: string) => JSON.stringify([domain, version]);

export function createMemoryPromptStorage(): PromptStorage {
  const versions = new Map<string, PromptVersion>();
  const active = new Map<string, string>();
  const listeners = new Set<() => void>();

  const clone = (v: PromptVersion): PromptVersion => structuredClone(v);

  return {
    getVersion(domain, version) {
      const v = versions.get(versionKey(domain, version));
      return Promise.resolve(v ? clone(v) : null);
    },
    listVersions(domain) {
      const out = [...versions.values()].filter((v) => domain === undefined || v.domain === domain).map(clone);
      return Promise.resolve(sortVersions(out));
    },
    putVersion(v): Promise<PutOutcome> {
      const k = versionKey(v.domain, v.version);
      const existing = versions.get(k);
      if (existing) return Promise.resolve(sameContent(existing, v) ? 'exists' : 'conflict');
      versions.set(k, clone(v));
      return Promise.resolve('created');
    },
    setActive(domain, version) {
      active.set(domain, version);
      // Asynchronous, like a pub/sub delivery.
      for (const fn of listeners) setImmediate(fn);
      return Promise.resolve();
    },
    getActive() {
      return Promise.resolve(Object.fromEntries(active));
    },
    subscribe(onActivated) {
      const fn = () => onActivated();
      listeners.add(fn);
      return Promise.resolve(() => {
        listeners.delete(fn);
        return Promise.resolve();
      });
    },
  };
}
