/** The compact exposure document: served ids by baseline index, strict decoding. */
import { describe, expect, it } from 'vitest';
import { decodeExposure, encodeExposure } from '../../src/experiments/exposure-codec.js';
import { exposure } from '../conformance/exposure-store-conformance.js';

describe('exposure codec', () => {
  it('spells each candidate id once: served positions refer to the baseline', () => {
    const e = exposure();
    const doc = encodeExposure(e);
    for (const id of e.baseline) expect(doc.split(`"${id}"`).length - 1).toBe(1);
    expect(doc).not.toContain('"r1"'); // the requestId is the key, not part of the value
    expect(decodeExposure('r1', doc)).toEqual(e);
    // Smaller than the record as plain JSON (field names, served ids spelled twice).
    expect(Buffer.byteLength(doc)).toBeLessThan(Buffer.byteLength(JSON.stringify(e)) * 0.7);
  });

  it('reads anything malformed, truncated or of another layout as null', () => {
    const doc = encodeExposure(exposure());
    const arr = JSON.parse(doc) as unknown[];
    const variants = [
      null,
      '',
      'not json',
      doc.slice(0, -5),
      JSON.stringify([2, ...arr.slice(1)]),
      JSON.stringify(arr.slice(0, 12)),
      JSON.stringify(arr.map((v, i) => (i === 9 ? [99] : v))), // served index out of range
      JSON.stringify(arr.map((v, i) => (i === 3 ? 'yesterday' : v))),
      JSON.stringify(arr.map((v, i) => (i === 11 ? [1, 2] : v))),
    ];
    for (const raw of variants) expect(decodeExposure('r1', raw), String(raw)).toBeNull();
  });
});
