/**
 * One conformance suite for the PromptStorage port, run against every adapter (memory, Redis): versions
 * (create-if-absent, identical re-put, conflicting re-put), listing order and filters, the active set,
 * activation notices, and, through the registry on top, one error classification (invalid_input,
 * conflict, not_found) whatever the storage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromptVersion } from '../../src/agp/ports.js';
import { BUILTIN_ACTIVE_PROMPT } from '../../src/agp/prompts.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/errors.js';
import { createPromptRegistry } from '../../src/store/prompt-registry.js';
import type { PromptStorage } from '../../src/store/prompt-registry.js';
import { eventually, sleep } from '../../testkit/wait.js';
import type { PortHarness } from './port-harness.js';

const pv = (domain: string, version: string, over: Partial<PromptVersion> = {}): PromptVersion => ({
  domain,
  version,
  text: `${domain}/${version} prompt`,
  parentVersion: null,
  createdAt: '2025-01-01T00:00:00.000Z',
  historyLength: 15,
  ...over,
});

/** Registers the suite for one adapter. `create()` gives a fresh, empty storage. */
export function describePromptStorageConformance(name: string, harness: PortHarness<PromptStorage>): void {
  describe(`PromptStorage conformance: ${name}`, () => {
    beforeAll(() => harness.start());
    afterAll(() => harness.stop());

    it('stores a version once: created, then exists when identical, conflict when different', async () => {
      const s = await harness.create();
      expect(await s.getVersion('movies', 'v1')).toBeNull();
      const v1 = pv('movies', 'v1', { params: { epochs: 2 }, metrics: { bestValNdcg: 0.5 } });
      expect(await s.putVersion(v1)).toBe('created');
      expect(await s.getVersion('movies', 'v1')).toEqual(v1);
      // Same text and historyLength: the same version, whatever else differs.
      expect(await s.putVersion({ ...v1, createdAt: '2030-01-01T00:00:00.000Z' })).toBe('exists');
      expect(await s.putVersion({ ...v1, text: 'changed' })).toBe('conflict');
      expect(await s.putVersion({ ...v1, historyLength: 3 })).toBe('conflict');
      expect(await s.getVersion('movies', 'v1')).toEqual(v1);
      expect(await s.getVersion('books', 'v1')).toBeNull();
    });

    it('hands out copies: changing a returned version changes nothing stored', async () => {
      const s = await harness.create();
      await s.putVersion(pv('movies', 'v1'));
      const got = await s.getVersion('movies', 'v1');
      if (!got) throw new Error('missing');
      got.text = 'mutated';
      expect((await s.getVersion('movies', 'v1'))?.text).toBe('movies/v1 prompt');
    });

    it('lists by domain, then creation time, then name; filters by domain', async () => {
      const s = await harness.create();
      expect(await s.listVersions()).toEqual([]);
      await s.putVersion(pv('movies', 'b', { createdAt: '2025-01-02T00:00:00.000Z' }));
      await s.putVersion(pv('movies', 'c', { createdAt: '2025-01-01T00:00:00.000Z' }));
      await s.putVersion(pv('movies', 'a', { createdAt: '2025-01-02T00:00:00.000Z' }));
      await s.putVersion(pv('books', 'z'));
      expect((await s.listVersions()).map((v) => `${v.domain}/${v.version}`)).toEqual(['books/z', 'movies/c', 'movies/a', 'movies/b']);
      expect((await s.listVersions('movies')).map((v) => v.version)).toEqual(['c', 'a', 'b']);
      expect(await s.listVersions('music')).toEqual([]);
    });

    it('keeps one active version per domain', async () => {
      const s = await harness.create();
      expect(await s.getActive()).toEqual({});
      await s.setActive('movies', 'v1');
      await s.setActive('books', 'v7');
      await s.setActive('movies', 'v2');
      expect(await s.getActive()).toEqual({ movies: 'v2', books: 'v7' });
    });

    it('announces activations to subscribers until they unsubscribe', async () => {
      const s = await harness.create();
      if (!s.subscribe) throw new Error(`${name} storage must support subscribe for this suite`);
      let heard = 0;
      const unsubscribe = await s.subscribe(() => void (heard += 1));
      await s.setActive('movies', 'v1');
      await eventually(() => heard, (n) => n === 1, { timeoutMs: 2_000 });
      await unsubscribe();
      await s.setActive('movies', 'v2');
      await sleep(100);
      expect(heard).toBe(1);
    });

    it('through the registry: invalid → invalid_input, a taken name → conflict, an unknown version → not_found', async () => {
      const registry = createPromptRegistry({ storage: await harness.create(), builtin: BUILTIN_ACTIVE_PROMPT, refreshMs: 60_000 });
      await registry.start();
      try {
        await registry.put(pv('movies', 'v1'));
        await expect(registry.put(pv('movies', 'v2', { text: '  ' }))).rejects.toSatisfy(
          (e) => e instanceof InvalidInputError && e.kind === 'invalid_input' && e.code === 'VALIDATION_ERROR',
        );
        await expect(registry.put(pv('movies', 'v1', { text: 'other' }))).rejects.toSatisfy(
          (e) => e instanceof ConflictError && e.kind === 'conflict' && e.code === 'CONFLICT',
        );
        await expect(registry.activate('movies', 'nope')).rejects.toSatisfy(
          (e) => e instanceof NotFoundError && e.kind === 'not_found' && e.message === 'prompt version movies/nope not found',
        );
        expect(registry.activeVersions()).toEqual({});
      } finally {
        await registry.close();
      }
    });
  });
}
