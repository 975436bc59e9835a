/**
 * Each API replica's snapshot of the running experiments, so serving looks one up with a Map read and never
 * awaits storage on the request path. It is re-read every `pollMs` (default 1 s) and at once after this
 * replica creates, stops or promotes one, so another replica sees a change within one poll.
 *
 * When the store cannot be read, the last snapshot stays in force (an experiment keeps running on a Redis
 * blip rather than flapping its users between arms and normal serving) and the failure is reported.
 */
import type { ActivePrompt, Logger, PromptVersion } from '../agp/ports.js';
import type { Method } from '../agp/types.js';
import type { LoadedArm, LoadedExperiment, RunningExperimentLookup } from './experiment-serving.js';
import type { ExperimentRecord, ExperimentStore } from './ports.js';

/** Where pinned prompt versions are read from (the prompt registry). */
export interface PromptVersionSource {
  get(domain: string, version: string): Promise<PromptVersion | null>;
}

/** What the snapshot is built from. */
export interface RunningExperimentsOptions {
  store: ExperimentStore;
  prompts: PromptVersionSource;
  logger: Logger;
  /** Re-read interval, ms (default 1,000). */
  pollMs?: number;
  /** Called after each successful load with the running experiments (metrics). */
  onLoaded?: (running: readonly ExperimentRecord[]) => void;
  /** Called when a load fails (metrics). */
  onLoadError?: () => void;
}

/** The snapshot, its refresh and its lifecycle. */
export interface RunningExperiments extends RunningExperimentLookup {
  /** Re-reads now; resolves when the new snapshot is in force (or the read failed and the old one stays). */
  refresh(): Promise<void>;
  /** First load, then the poller. */
  start(): Promise<void>;
  close(): void;
  /** Every running experiment in the snapshot. */
  all(): LoadedExperiment[];
}

/** Builds the snapshot (not started). */
export function createRunningExperiments(opts: RunningExperimentsOptions): RunningExperiments {
  let byDomain = new Map<string, LoadedExperiment>();
  // Versions are immutable once stored, so a resolved prompt can be kept for the process's life.
  const prompts = new Map<string, ActivePrompt>();
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();

  async function loadArm(domain: string, arm: ExperimentRecord['arms'][number]): Promise<LoadedArm> {
    const base = { name: arm.name, method: arm.method as Method };
    if (arm.promptVersion === undefined) return base;
    const key = `${domain}\u0000${arm.promptVersion}`;
    let prompt = prompts.get(key);
    if (!prompt) {
      const v = await opts.prompts.get(domain, arm.promptVersion);
      // Checked at creation; a version that vanished since (an emptied Redis) serves the active prompt.
      if (!v) return base;
      prompt = { domain: v.domain, version: v.version, text: v.text, historyLength: v.historyLength };
      prompts.set(key, prompt);
    }
    return { ...base, prompt };
  }

  async function load(): Promise<void> {
    try {
      const running = await opts.store.running();
      const next = new Map<string, LoadedExperiment>();
      for (const record of running) {
        next.set(record.domain, { record, arms: await Promise.all(record.arms.map((a) => loadArm(record.domain, a))) });
      }
      byDomain = next;
      opts.onLoaded?.(running);
    } catch (err) {
      opts.onLoadError?.();
      opts.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not read running experiments; keeping the last snapshot');
    }
  }

  // One read at a time: a refresh asked for during a read runs after it (load never rejects).
  const refresh = (): Promise<void> => (chain = chain.then(load));

  return {
    forDomain: (domain) => byDomain.get(domain),
    all: () => [...byDomain.values()],
    refresh,
    async start() {
      await refresh();
      timer = setInterval(() => void refresh(), opts.pollMs ?? 1_000);
      timer.unref();
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
