/**
 * One V8 heap ceiling everywhere the service starts: `npm start` (and start:prod, worker) unless NODE_OPTIONS is
 * set, the image's ENV, and the test kit's server processes, which stand in for `npm start`. Without it V8 sizes
 * the heap from the host's RAM and defers major GCs: the LLM answer fuzz's peak RSS then ranged 282–369 MB
 * run to run, against 263–266 MB with the ceiling (docs/reliability.md, "Heap ceiling").
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERVICE_NODE_OPTIONS } from '../../testkit/processes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');

describe('heap ceiling', () => {
  it('is a --max-old-space-size the chart default (3/4 of 512Mi) also gives', () => {
    expect(SERVICE_NODE_OPTIONS).toBe(`--max-old-space-size=${(512 * 3) / 4}`);
  });

  it.each(['start', 'start:prod', 'worker'])('npm run %s sets it unless NODE_OPTIONS is given', (script) => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts[script]).toMatch(new RegExp(`^NODE_OPTIONS="\\$\\{NODE_OPTIONS:-${SERVICE_NODE_OPTIONS}\\}" exec node `));
  });

  it("is the image's NODE_OPTIONS", () => {
    expect(read('Dockerfile')).toMatch(new RegExp(`^\\s+NODE_OPTIONS=${SERVICE_NODE_OPTIONS} \\\\$`, 'm'));
  });
});
