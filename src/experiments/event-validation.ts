/**
 * Per-event validation and deduplication rules of POST /v1/events. An event that breaks a rule is
 * rejected on its own (its index and a stable code in the answer); the rest of the batch still counts.
 * Only a batch that is not 1–1,000 events is refused as a whole (event-ingestion.ts).
 */
import { isWellFormedText } from '../agp/text-identity.js';
import { EVENT_TYPES, POSITIVE_EVENT_TYPES } from './ports.js';
import type { EventType } from './ports.js';

/** Most events in one call (the contract). */
export const MAX_EVENTS_PER_CALL = 1_000;
/** Longest requestId, itemId and eventId (UTF-16 units): the rerank contract's id limit. */
export const MAX_EVENT_ID_CHARS = 256;
/** How far in the future a `ts` may lie (client clocks drift; a day ahead is a bug, not drift). */
export const MAX_TS_FUTURE_MS = 5 * 60_000;

/** Stable codes of a rejected event (part of the API: clients switch on them). */
export const EventRejectCodes = {
  INVALID_EVENT: 'INVALID_EVENT',
  INVALID_TYPE: 'INVALID_EVENT_TYPE',
  INVALID_TS: 'INVALID_TS',
  ITEM_NOT_EXPOSED: 'ITEM_NOT_EXPOSED',
} as const;
export type EventRejectCode = (typeof EventRejectCodes)[keyof typeof EventRejectCodes];

/** One entry of the answer's `rejected` list. */
export interface EventRejection {
  index: number;
  code: EventRejectCode;
  message: string;
}

/** An event that passed validation. */
export interface ValidEvent {
  index: number;
  requestId: string;
  itemId: string;
  type: EventType;
  positive: boolean;
  /** Unique per exposure; see dedupeKey(). */
  dedupeKey: string;
  ts: number | undefined;
}

/**
 * The deduplication key within one exposure: the caller's eventId when given, else (itemId, type). The two
 * spaces cannot collide (different first character), and JSON keeps (itemId, type) unambiguous whatever
 * the item id contains.
 */
export function dedupeKey(e: { itemId: string; type: EventType; eventId?: string | undefined }): string {
  return e.eventId !== undefined ? `i${e.eventId}` : `k${JSON.stringify([e.itemId, e.type])}`;
}

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_EVENT_ID_CHARS && isWellFormedText(v);
const isEventType = (v: unknown): v is EventType => typeof v === 'string' && (EVENT_TYPES as readonly string[]).includes(v);

/** The time window a `ts` must fall in: [now − maxAgeMs, now + MAX_TS_FUTURE_MS]. */
export interface TsWindow {
  now: number;
  /** Oldest acceptable age: an event older than any exposure still stored cannot be about one. */
  maxAgeMs: number;
}

/** Validates one raw event (any JSON value) at position `index`. */
export function validateEvent(raw: unknown, index: number, window: TsWindow): ValidEvent | EventRejection {
  const reject = (code: EventRejectCode, message: string): EventRejection => ({ index, code, message });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return reject(EventRejectCodes.INVALID_EVENT, 'an event must be an object');
  const { requestId, itemId, type, eventId, ts } = raw as Record<string, unknown>;
  if (!isId(requestId)) return reject(EventRejectCodes.INVALID_EVENT, `requestId must be a well-formed string of 1–${MAX_EVENT_ID_CHARS} characters`);
  if (!isId(itemId)) return reject(EventRejectCodes.INVALID_EVENT, `itemId must be a well-formed string of 1–${MAX_EVENT_ID_CHARS} characters`);
  if (eventId !== undefined && !isId(eventId)) return reject(EventRejectCodes.INVALID_EVENT, `eventId must be a well-formed string of 1–${MAX_EVENT_ID_CHARS} characters`);
  if (!isEventType(type)) return reject(EventRejectCodes.INVALID_TYPE, `type must be one of ${EVENT_TYPES.join(', ')}`);
  if (ts !== undefined) {
    if (typeof ts !== 'number' || !Number.isFinite(ts)) return reject(EventRejectCodes.INVALID_TS, 'ts must be epoch milliseconds (a finite number)');
    if (ts > window.now + MAX_TS_FUTURE_MS || ts < window.now - window.maxAgeMs) {
      return reject(EventRejectCodes.INVALID_TS, 'ts is outside the window of stored exposures (too far in the past or the future)');
    }
  }
  return {
    index,
    requestId,
    itemId,
    type,
    positive: POSITIVE_EVENT_TYPES.has(type),
    dedupeKey: dedupeKey({ itemId, type, eventId }),
    ts: ts as number | undefined,
  };
}

/** True when validateEvent rejected the event. */
export function isRejection(v: ValidEvent | EventRejection): v is EventRejection {
  return 'code' in v;
}
