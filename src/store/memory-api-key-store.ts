/**
 * API keys in process memory: the records (tests, and the records of the file store) and the usage counters
 * of stores without Redis. Usage kept here is per replica and lost on restart (documented in
 * docs/operate.md); with several replicas and a daily quota, use API_KEYS=redis.
 */
import type { ApiKeyRecord, ApiKeyStore, ApiKeyUsage, UsageDelta } from '../api-keys/api-keys.js';
import { emptyKeyUsage } from '../api-keys/api-keys.js';

/** Usage counters in memory: cumulative per name, and LLM calls per name and UTC day (only the last 2 days kept). */
export class MemoryKeyUsage {
  private readonly totals = new Map<string, ApiKeyUsage>();
  private readonly daily = new Map<string, number>();
  private lastDay = '';

  add(name: string, day: string, delta: UsageDelta): void {
    const u = this.totals.get(name) ?? emptyKeyUsage();
    u.reranks += delta.reranks;
    u.llmCalls += delta.llmCalls;
    u.promptTokens += delta.promptTokens;
    u.completionTokens += delta.completionTokens;
    this.totals.set(name, u);
    const k = `${day}\u0000${name}`;
    this.daily.set(k, (this.daily.get(k) ?? 0) + delta.llmCalls);
    // Days before yesterday are never read again (quotas read today): drop them so the map stays bounded.
    if (this.lastDay !== day) {
      this.lastDay = day;
      const yesterday = new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
      for (const key of this.daily.keys()) if (key.slice(0, 10) < yesterday) this.daily.delete(key);
    }
  }

  llmCallsOn(name: string, day: string): number {
    return this.daily.get(`${day}\u0000${name}`) ?? 0;
  }

  usage(names: readonly string[], day: string): Map<string, ApiKeyUsage> {
    return new Map(names.map((n) => [n, { ...(this.totals.get(n) ?? emptyKeyUsage()), llmCallsToday: this.llmCallsOn(n, day) }]));
  }
}

/** A managed key store in memory (tests; one replica only). */
export function createMemoryApiKeyStore(initial: readonly ApiKeyRecord[] = []): ApiKeyStore {
  const records = new Map<string, string>(initial.map((r) => [r.name, JSON.stringify(r)]));
  const usage = new MemoryKeyUsage();
  return {
    kind: 'memory',
    async list() {
      return [...records.values()].map((s) => JSON.parse(s) as ApiKeyRecord);
    },
    async create(record) {
      if (records.has(record.name)) return false;
      records.set(record.name, JSON.stringify(record));
      return true;
    },
    async replace(before, after) {
      if (records.get(before.name) !== JSON.stringify(before)) return false;
      records.set(after.name, JSON.stringify(after));
      return true;
    },
    async addUsage(name, day, delta) {
      usage.add(name, day, delta);
    },
    async llmCallsOn(name, day) {
      return usage.llmCallsOn(name, day);
    },
    async usage(names, day) {
      return usage.usage(names, day);
    },
  };
}
