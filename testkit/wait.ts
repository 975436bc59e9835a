/**
 * Waiting, for tests, benches and scripts: one `sleep` and one `eventually` (poll until a condition holds),
 * so every poll loop fails the same way, naming what it waited for and the last value it saw.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => delay(ms);

/** How `eventually` polls. */
export interface EventuallyOptions {
  /** Named in the timeout error ("timed out waiting for <what>"). */
  what?: string;
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between polls (default 25 ms). */
  intervalMs?: number;
  /** Extra context appended to the timeout error (e.g. the tail of a child's output). */
  detail?: () => string;
}

/**
 * Calls `fn` until `ok` accepts its value and resolves with that value. An error thrown by `fn` counts as
 * "not yet" (a server that is still starting refuses connections); on timeout the error names `what`, the
 * last value and the last error.
 */
export async function eventually<T>(
  fn: () => T | Promise<T>,
  ok: (value: T) => boolean = Boolean,
  opts: EventuallyOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await fn();
      lastError = undefined;
      if (ok(last)) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= until) break;
    await sleep(opts.intervalMs ?? 25);
  }
  const error = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  const detail = opts.detail ? `\n${opts.detail()}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}; last value: ${JSON.stringify(last)}${error}${detail}`);
}
