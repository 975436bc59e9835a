/**
 * Messages between the bench orchestrator and its child processes (reference servers, the LLM simulator,
 * the transport clients), plus the child-side helpers. Children are plain `node` processes running code
 * transpiled from bench/ (see compile.ts), so this module must only import from node: builtins.
 */

/** Simulator latency: fixed ms, or uniform mean ± jitter (the llm-double's Latency). */
export type SimLatency = number | { meanMs: number; jitterMs: number };

/** Cumulative LLM-simulator counters. */
export interface SimStats {
  calls: number;
  byRole: Record<string, number>;
}

/** What a transport client measured about itself over its measured window. */
export interface TransportWindow {
  calls: number;
  failures: number;
  elapsedMs: number;
  /** process.cpuUsage() delta over the window (µs), a cross-check for the parent's /proc reading. */
  cpuUserUs: number;
  cpuSystemUs: number;
}

export type ParentToChild =
  | { type: 'set-latency'; id: number; latency: SimLatency }
  | { type: 'stats'; id: number };

export type ChildToParent =
  | { type: 'ready'; url: string }
  | { type: 'ack'; id: number }
  | { type: 'stats'; id: number; stats: SimStats }
  | { type: 'window-start' }
  | { type: 'transport-result'; window: TransportWindow }
  | { type: 'fatal'; message: string };

/** Sends a message to the orchestrator (no-op without an IPC channel). */
export function toParent(msg: ChildToParent): void {
  process.send?.(msg);
}

/**
 * Child-side boilerplate: exit when the orchestrator goes away (its IPC channel closes) so that no child
 * outlives a crashed bench, exit on SIGTERM, and report fatal errors.
 */
export function childLifecycle(onStop?: () => Promise<void>): void {
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(code), 2_000);
    force.unref();
    (onStop ? onStop() : Promise.resolve()).finally(() => process.exit(code));
  };
  process.on('disconnect', () => stop(0));
  process.once('SIGTERM', () => stop(0));
  process.once('SIGINT', () => stop(0));
  const fatal = (err: unknown) => {
    toParent({ type: 'fatal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    stop(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

/** Required environment variable, or a clear error. */
export function env(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') throw new Error(`missing environment variable ${name}`);
  return v;
}
