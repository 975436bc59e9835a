/**
 * The events ingestion service behind POST /v1/events, written against the ExposureStore port.
 *
 * Per call: validate every event (event-validation.ts), group the valid ones by requestId, then per exposure
 * (concurrently, at most GROUP_CONCURRENCY at a time): read it; unknown, expired or erased → unattributed
 * (after one late look, `lateExposureMs` later, for the ids not found: the exposure may still be gathering);
 * an item not in its served list → rejected ITEM_NOT_EXPOSED; the rest go to the store in ONE atomic
 * applyEvents, which deduplicates them (a retried batch counts nothing twice) and returns the exposure's
 * positive counts just before and after. That transition, turned into a running-sums update by the
 * statistics code (`sumsDelta`), is applied to the experiment's sums (store.applySums): because each
 * transition is atomic, concurrent batches on one exposure add up to exactly the final state.
 *
 * A store failure is an UnavailableError (retry the same batch: deduplication makes it safe).
 */
import type { Clock } from '../agp/ports.js';
import { InvalidInputError, UnavailableError } from '../errors.js';
import { MAX_EVENTS_PER_CALL, EventRejectCodes, isRejection, validateEvent } from './event-validation.js';
import type { EventRejection, ValidEvent } from './event-validation.js';
import type { ExposureRecord, ExposureStore, PositiveCounts, SumsUpdate } from './ports.js';

/** Exposures of one call read and written concurrently (bounds the round trips a 1,000-event call starts). */
const GROUP_CONCURRENCY = 32;

/** The answer of one call (the 202 body). */
export interface IngestResult {
  accepted: number;
  duplicates: number;
  unattributed: number;
  rejected: EventRejection[];
}

/** Where each event of a call ended up (for the events metric). */
export type IngestOutcome = 'accepted' | 'duplicate' | 'unattributed' | 'rejected';
export const INGEST_OUTCOMES: readonly IngestOutcome[] = ['accepted', 'duplicate', 'unattributed', 'rejected'];

/** What the ingestion service needs: the store, a clock, the ts window and optional hooks. */
export interface EventIngestionOptions {
  store: ExposureStore;
  clock: Clock;
  /** Oldest acceptable `ts`: the exposure TTL (an older event cannot be about a stored exposure). */
  maxAgeMs: number;
  /**
   * An exposure is written a gather after its response (exposure-recorder.ts), so an event sent at once can
   * arrive first. A call that finds no exposure for some request ids waits this long, ONCE for all of them,
   * and looks again before it counts them unattributed (default 0: no second look). Only calls with unknown
   * ids pay it.
   */
  lateExposureMs?: number;
  /** How the late look waits (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * The running-sums update of one exposure's positive-count transition (the statistics' business); null or
   * absent: no sums are kept. Called only for exposures served under an experiment whose counts changed.
   */
  sumsDelta?: (exposure: ExposureRecord, before: PositiveCounts, after: PositiveCounts) => SumsUpdate | null | Promise<SumsUpdate | null>;
  /** The events of one exposure that were counted now (per-arm metrics); must not throw. */
  onAccepted?: (exposure: ExposureRecord, events: readonly ValidEvent[]) => void;
  /** A failed sums update could not be given back (a later batch claimed past it): counted, never silent. */
  onSumsLost?: () => void;
  /** Counts per outcome after each call (metrics). */
  onOutcome?: (outcome: IngestOutcome, count: number) => void;
}

/** The service behind POST /v1/events. */
export interface EventIngestion {
  /**
   * Ingests one call's events (raw JSON values; each is validated here).
   * @throws InvalidInputError when there are not 1–1,000 events; UnavailableError when the store fails.
   */
  ingest(events: readonly unknown[]): Promise<IngestResult>;
}

interface Tally {
  accepted: number;
  duplicates: number;
  unattributed: number;
  rejected: EventRejection[];
}

function notExposed(e: ValidEvent): EventRejection {
  return { index: e.index, code: EventRejectCodes.ITEM_NOT_EXPOSED, message: `item ${JSON.stringify(e.itemId)} was not served in request ${JSON.stringify(e.requestId)}` };
}

const changed = (a: PositiveCounts, b: PositiveCounts): boolean => a.size !== b.size || [...b].some(([k, v]) => a.get(k) !== v);

/** Builds the ingestion service over a store (see the module comment for the steps of one call). */
export function createEventIngestion(opts: EventIngestionOptions): EventIngestion {
  const { store } = opts;

  const lateMs = opts.lateExposureMs ?? 0;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  /**
   * Attributes, deduplicates and stores the events of one requestId. Without an exposure: `late` (when it
   * gets a second look) collects the group, else its events are unattributed.
   */
  async function applyGroup(requestId: string, events: ValidEvent[], t: Tally, late?: Array<[string, ValidEvent[]]>): Promise<void> {
    const exposure = await store.get(requestId);
    if (!exposure) {
      if (late) late.push([requestId, events]);
      else t.unattributed += events.length;
      return;
    }
    const served = new Set(exposure.served);
    const exposed: ValidEvent[] = [];
    for (const e of events) {
      if (served.has(e.itemId)) exposed.push(e);
      else t.rejected.push(notExposed(e));
    }
    if (exposed.length === 0) return;
    const applied = await store.applyEvents(
      requestId,
      exposed.map((e) => ({ dedupeKey: e.dedupeKey, itemId: e.itemId, positive: e.positive })),
    );
    if (!applied) {
      // Erased or expired between the read and the write.
      t.unattributed += exposed.length;
      return;
    }
    for (const fresh of applied.fresh) {
      if (fresh) t.accepted += 1;
      else t.duplicates += 1;
    }
    if (opts.onAccepted) {
      const fresh = exposed.filter((_, i) => applied.fresh[i] === true);
      if (fresh.length > 0) opts.onAccepted(exposure, fresh);
    }
    if (opts.sumsDelta && exposure.experiment && changed(applied.before, applied.after)) {
      try {
        const update = await opts.sumsDelta(exposure, applied.before, applied.after);
        if (update) await store.applySums(exposure.experiment.id, update);
      } catch (err) {
        // Give the transition back so the caller's retry (after our 503) applies it; the events themselves
        // are already counted and will come back as duplicates.
        const released = await store.releaseClaim(requestId, applied.after, applied.before).catch(() => false);
        if (!released) opts.onSumsLost?.();
        throw err;
      }
    }
  }

  return {
    async ingest(events) {
      if (events.length < 1 || events.length > MAX_EVENTS_PER_CALL) {
        throw new InvalidInputError(`events must hold 1–${MAX_EVENTS_PER_CALL} events, got ${events.length}`);
      }
      const window = { now: opts.clock.now(), maxAgeMs: opts.maxAgeMs };
      const t: Tally = { accepted: 0, duplicates: 0, unattributed: 0, rejected: [] };
      const groups = new Map<string, ValidEvent[]>();
      events.forEach((raw, index) => {
        const v = validateEvent(raw, index, window);
        if (isRejection(v)) {
          t.rejected.push(v);
          return;
        }
        const group = groups.get(v.requestId);
        if (group) group.push(v);
        else groups.set(v.requestId, [v]);
      });

      const run = async (pending: Array<[string, ValidEvent[]]>, late?: Array<[string, ValidEvent[]]>) => {
        const worker = async () => {
          for (let next = pending.shift(); next; next = pending.shift()) await applyGroup(next[0], next[1], t, late);
        };
        await Promise.all(Array.from({ length: Math.min(GROUP_CONCURRENCY, pending.length) }, worker));
      };
      try {
        const late: Array<[string, ValidEvent[]]> = [];
        await run([...groups], lateMs > 0 ? late : undefined);
        if (late.length > 0) {
          await sleep(lateMs);
          await run(late);
        }
      } catch (err) {
        throw new UnavailableError(`the exposure store failed: ${err instanceof Error ? err.message : String(err)}`);
      }

      t.rejected.sort((a, b) => a.index - b.index);
      if (opts.onOutcome) {
        opts.onOutcome('accepted', t.accepted);
        opts.onOutcome('duplicate', t.duplicates);
        opts.onOutcome('unattributed', t.unattributed);
        opts.onOutcome('rejected', t.rejected.length);
      }
      return t;
    },
  };
}
