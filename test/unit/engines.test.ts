/**
 * `npm ci` must not print EBADENGINE on the oldest Node that package.json's `engines` admits: every locked
 * package's own `engines.node` range has to admit that version too. Reads package-lock.json, so it catches a
 * dependency bump that quietly raises the floor (as content-disposition@3 and cookie@2 did, to Node 22).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/** The two semver functions used here (the package ships no types). */
interface Semver {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
}
const semver = createRequire(import.meta.url)('semver') as Semver;

interface LockEntry {
  version?: string;
  engines?: Record<string, string> | string[];
}

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as { packages: Record<string, LockEntry> };

describe('engines', () => {
  const floor = semver.minVersion(pkg.engines.node)?.version;

  it('package.json states a Node floor that the lock file records', () => {
    expect(floor).toMatch(/^\d+\.\d+\.\d+$/);
    expect(lock.packages['']?.engines).toEqual(pkg.engines);
  });

  it('every locked package admits the oldest Node that package.json admits', () => {
    const conflicts: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      // Old packages may still carry the deprecated array form of engines, which npm ignores.
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (path === '' || range === undefined) continue;
      if (!semver.satisfies(floor as string, range)) conflicts.push(`${path}@${entry.version ?? '?'} needs node ${range}`);
    }
    expect(conflicts).toEqual([]);
  });
});
