/**
 * The compact stored form of an exposure, shared by the Redis and the in-memory store (the in-memory store
 * keeps this string too: one flat string costs a fraction of the heap of an object with 50 id strings).
 *
 * A positional JSON array, no field names:
 *   [1, domain, userId, at, experimentId, arm, method, promptVersion, fallbackReason, served, servedArms, baseline, history]
 * `served` refers to the baseline by index (a number) wherever the id is a candidate, so the served ids are
 * not spelled twice; an id missing from the baseline is kept as a string. The requestId is the key, not
 * part of the value. JSON keeps any id (quotes, separators, non-ASCII) unambiguous. Measured sizes:
 * docs/experiments-storage.md.
 */
import type { EncodedExposure, ExposureRecord, ExposureWrite } from './ports.js';

/** Version tag of the layout (first element); a value with another tag decodes as null. */
const LAYOUT = 1;

/** Encodes an exposure (without its requestId, which is the key). */
export function encodeExposure(r: ExposureRecord): string {
  const position = new Map<string, number>();
  r.baseline.forEach((id, i) => {
    if (!position.has(id)) position.set(id, i);
  });
  const served = r.served.map((id) => position.get(id) ?? id);
  return JSON.stringify([
    LAYOUT,
    r.domain,
    r.userId,
    r.at,
    r.experiment?.id ?? null,
    r.experiment?.arm ?? null,
    r.method,
    r.promptVersion,
    r.fallbackReason,
    served,
    r.servedArms,
    r.baseline,
    r.history,
  ]);
}

/** An exposure as a store writes it: its routing fields and its document. */
export function encodedExposure(r: ExposureRecord): EncodedExposure {
  return { requestId: r.requestId, domain: r.domain, userId: r.userId, at: r.at, doc: encodeExposure(r) };
}

/** The document of a write (encoded now unless it already was). */
export function exposureDoc(w: ExposureWrite): string {
  return 'doc' in w ? w.doc : encodeExposure(w);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** Decodes a stored exposure for `requestId`; anything malformed (or of another layout) reads as null. */
export function decodeExposure(requestId: string, raw: string | null | undefined): ExposureRecord | null {
  if (raw == null) return null;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!Array.isArray(v) || v.length !== 13 || v[0] !== LAYOUT) return null;
  const [, domain, userId, at, experimentId, arm, method, promptVersion, fallbackReason, servedRefs, servedArms, baseline, history] = v as unknown[];
  if (!isString(domain) || !isString(userId) || !isString(method) || !isString(promptVersion)) return null;
  if (typeof at !== 'number' || !Number.isFinite(at)) return null;
  if (!isNullableString(experimentId) || !isNullableString(arm) || !isNullableString(fallbackReason)) return null;
  if (!isStringArray(baseline) || !isStringArray(history) || !Array.isArray(servedRefs)) return null;
  if (servedArms !== null && !(Array.isArray(servedArms) && servedArms.every(isNullableString))) return null;
  const served: string[] = [];
  for (const ref of servedRefs as unknown[]) {
    const id = typeof ref === 'number' ? baseline[ref] : ref;
    if (!isString(id)) return null;
    served.push(id);
  }
  return {
    requestId,
    domain,
    userId,
    at,
    experiment: experimentId === null ? null : { id: experimentId, arm },
    method,
    promptVersion,
    fallbackReason,
    served,
    servedArms: servedArms as (string | null)[] | null,
    baseline,
    history,
  };
}
