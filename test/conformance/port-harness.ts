/**
 * How a conformance suite gets the implementation it tests: the same `describe…Conformance` factory is
 * called once per adapter, each with a harness that builds that adapter.
 */
export interface PortHarness<T, A = void> {
  /** Once per suite, before the first test (e.g. start a private redis-server). */
  start(): Promise<void>;
  /** Once per suite, after the last test. */
  stop(): Promise<void>;
  /** A fresh, empty instance (its own key prefix where storage is shared). */
  create(arg: A): Promise<T>;
}

/** A harness for adapters that need nothing started around them. */
export function standalone<T, A = void>(create: (arg: A) => T | Promise<T>): PortHarness<T, A> {
  return { start: () => Promise.resolve(), stop: () => Promise.resolve(), create: async (arg) => create(arg) };
}
