/**
 * The shutdown stack every role keeps. Its own module, with no imports, so the CLI can keep one without
 * loading any adapter.
 */
import type { Logger } from '../agp/ports.js';

/** Shutdown steps, run last-created-first: what was built on top closes before what it stands on. */
export interface Closers {
  push(close: () => Promise<unknown>): void;
  /** Runs every step once; a failing step is logged and the rest still run. */
  closeAll(): Promise<void>;
}

/** A fresh shutdown stack. */
export function createClosers(logger: Logger): Closers {
  const steps: Array<() => Promise<unknown>> = [];
  return {
    push: (close) => void steps.push(close),
    async closeAll() {
      for (const close of steps.splice(0).reverse()) {
        await close().catch((err: unknown) => logger.warn({ err: String(err) }, 'close failed'));
      }
    },
  };
}
