/**
 * Child abort signals of one parent, linked by ONE listener on the parent. Every LLM call adds an abort
 * listener to the signal it is given, so handing the parent itself to N concurrent calls puts N listeners
 * on it and trips Node's MaxListenersExceededWarning at 11; each unit of work gets its own child instead.
 */

/** One child: its signal, and release() once the work is done (forgets it; does not abort it). */
export interface AbortChild {
  readonly signal: AbortSignal;
  release(): void;
}

/** Children of one parent signal. */
export interface AbortChildren {
  /** A new child, already aborted when the parent is. */
  child(): AbortChild;
  /** Removes the listener from the parent; call once no more children are needed. */
  dispose(): void;
}

/** Links children to `parent` (undefined: children that only abort if someone aborts them). */
export function abortChildren(parent: AbortSignal | undefined): AbortChildren {
  const live = new Set<AbortController>();
  const onAbort = () => {
    for (const c of live) c.abort(parent?.reason);
  };
  parent?.addEventListener('abort', onAbort, { once: true });
  return {
    child() {
      const c = new AbortController();
      if (parent?.aborted) c.abort(parent.reason);
      live.add(c);
      return { signal: c.signal, release: () => void live.delete(c) };
    },
    dispose: () => parent?.removeEventListener('abort', onAbort),
  };
}
