import { describe, expect, it } from 'vitest';
import { DeleteProfilesParamsSchema, RerankRequestSchema } from '../../src/http/schemas.js';
import { JobIdParamsSchema } from '../../src/http/admin-schemas.js';
import { isWellFormedText } from '../../src/agp/text-identity.js';

const LONE = ['x\ud800', '\udc00x', 'a\ud83d', 'a\ude00b'];
const PAIRED = ['x', '🎬', 'a\ud83d\ude00b', 'alice\ufffd'];

describe('identifiers are well-formed UTF-16', () => {
  it('isWellFormedText tells lone surrogates from pairs', () => {
    for (const s of LONE) expect(isWellFormedText(s), JSON.stringify(s)).toBe(false);
    for (const s of PAIRED) expect(isWellFormedText(s), JSON.stringify(s)).toBe(true);
  });

  it('path params of DELETE /v1/profiles and the training-job routes reject lone surrogates', () => {
    for (const s of LONE) {
      expect(DeleteProfilesParamsSchema.safeParse({ userId: s }).success).toBe(false);
      expect(JobIdParamsSchema.safeParse({ id: s }).success).toBe(false);
    }
    for (const s of PAIRED) {
      expect(DeleteProfilesParamsSchema.safeParse({ userId: s }).success).toBe(true);
      expect(JobIdParamsSchema.safeParse({ id: s }).success).toBe(true);
    }
  });

  it('every id in a rerank request is checked', () => {
    const ok = { userId: 'u', history: [{ id: 'h', title: 't' }], candidates: [{ id: 'c', title: 't' }] };
    expect(RerankRequestSchema.safeParse(ok).success).toBe(true);
    expect(RerankRequestSchema.safeParse({ ...ok, userId: 'u\ud800' }).success).toBe(false);
    expect(RerankRequestSchema.safeParse({ ...ok, history: [{ id: 'h\ud800', title: 't' }] }).success).toBe(false);
    expect(RerankRequestSchema.safeParse({ ...ok, candidates: [{ id: 'c\udc00', title: 't' }] }).success).toBe(false);
    // Titles and texts are not ids: a lone surrogate there is dropped by the sanitiser, not rejected.
    expect(RerankRequestSchema.safeParse({ ...ok, candidates: [{ id: 'c', title: 't\ud800' }] }).success).toBe(true);
  });
});
