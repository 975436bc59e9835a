/**
 * Messages between the bench orchestrator and its child processes (reference servers, the LLM simulator,
 * the transport clients), plus the child-side helpers. Children are plain `node` processes running code
 * transpiled from bench/ (see compile.ts), so this module must only import from node: builtins (type-only
 * imports are erased).
 */
import type { ManagedChild } from '../../testkit/processes.js';

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

// ---------------------------------------------------------------------------------------------------------
// Parent side: the orchestrator talking to a child spawned with `ipc: true` (testkit/processes.ts).

let askId = 0;

/** A fresh id for ask(). */
export function nextAskId(): number {
  askId += 1;
  return askId;
}

/** Waits for the child's next IPC message of a type; a `fatal` message, an exit or the timeout rejects. */
export function nextMessage<K extends ChildToParent['type']>(child: ManagedChild, type: K, timeoutMs: number): Promise<Extract<ChildToParent, { type: K }>> {
  const { name, child: proc } = child;
  return new Promise((resolve, reject) => {
    const onMessage = (msg: ChildToParent) => {
      if (msg.type === 'fatal') {
        cleanup();
        reject(new Error(`${name} failed: ${msg.message}`));
      } else if (msg.type === type) {
        cleanup();
        resolve(msg as Extract<ChildToParent, { type: K }>);
      }
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`${name} exited (code ${proc.exitCode}, signal ${proc.signalCode}) while waiting for ${type}: ${child.output().slice(-4_000).trim()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${name}: no ${type} message within ${timeoutMs} ms: ${child.output().slice(-4_000).trim()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      proc.off('message', onMessage);
      proc.off('exit', onExit);
    };
    proc.on('message', onMessage);
    proc.once('exit', onExit);
  });
}

/** Sends a message to the child and waits for the reply with the same id. */
export function ask<T extends ChildToParent>(child: ManagedChild, msg: ParentToChild, timeoutMs = 5_000): Promise<T> {
  const { name, child: proc } = child;
  return new Promise<T>((resolve, reject) => {
    const onMessage = (reply: ChildToParent) => {
      if ('id' in reply && reply.id === msg.id) {
        clearTimeout(timer);
        proc.off('message', onMessage);
        resolve(reply as T);
      }
    };
    const timer = setTimeout(() => {
      proc.off('message', onMessage);
      reject(new Error(`${name}: no reply to ${msg.type} within ${timeoutMs} ms`));
    }, timeoutMs);
    proc.on('message', onMessage);
    proc.send(msg);
  });
}
