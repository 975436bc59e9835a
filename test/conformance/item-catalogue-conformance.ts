/** ItemCatalogue conformance, run against the memory and the Redis adapter. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemCatalogue } from '../../src/experiments/item-catalogue.js';
import type { PortHarness } from './port-harness.js';

/** A catalogue under test and how to let time pass for it. */
export interface CatalogueUnderTest {
  catalogue: ItemCatalogue;
  elapse(ms: number): Promise<void>;
}

export function describeItemCatalogueConformance(name: string, harness: PortHarness<CatalogueUnderTest>): void {
  describe(`ItemCatalogue conformance: ${name}`, () => {
    beforeAll(() => harness.start());
    afterAll(() => harness.stop());

    it('round-trips title and text in the order asked; unknown ids are null; domains are separate', async () => {
      const { catalogue } = await harness.create();
      await catalogue.put([
        { domain: 'movies', id: 'm1', title: 'Alien', text: 'space horror' },
        { domain: 'movies', id: 'm2', title: 'Heat' },
        { domain: 'books', id: 'm1', title: 'Dune' },
        { domain: 'movies', id: 'we{i}rd:"id" ü', title: 'Odd' },
      ], 60);
      expect(await catalogue.getMany('movies', ['m2', 'nope', 'm1', 'we{i}rd:"id" ü'])).toEqual([{ title: 'Heat' }, null, { title: 'Alien', text: 'space horror' }, { title: 'Odd' }]);
      expect(await catalogue.getMany('books', ['m1', 'm2'])).toEqual([{ title: 'Dune' }, null]);
      expect(await catalogue.getMany('movies', [])).toEqual([]);
    });

    it('the latest write wins (text dropped when the new one has none)', async () => {
      const { catalogue } = await harness.create();
      await catalogue.put([{ domain: 'd', id: 'x', title: 'Old', text: 't' }], 60);
      await catalogue.put([{ domain: 'd', id: 'x', title: 'New' }], 60);
      expect(await catalogue.getMany('d', ['x'])).toEqual([{ title: 'New' }]);
    });

    it('an item expires after its TTL', async () => {
      const { catalogue, elapse } = await harness.create();
      await catalogue.put([{ domain: 'd', id: 'short', title: 'S' }], 1);
      await catalogue.put([{ domain: 'd', id: 'long', title: 'L' }], 60);
      await elapse(1_100);
      expect(await catalogue.getMany('d', ['short', 'long'])).toEqual([null, { title: 'L' }]);
    });
  });
}
