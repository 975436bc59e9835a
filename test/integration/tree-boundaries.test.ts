/**
 * scripts/tree-boundaries.ts (run by `npm run check:arch`) against a fixture tree with one import across
 * each forbidden boundary, written in each form an import can take, and against this repository.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../testkit/processes.js';

const run = promisify(execFile);

/** Runs the check on `root`; resolves with its exit code and output. */
async function check(root: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/tree-boundaries.ts', root], { cwd: REPO_ROOT });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const ALLOWED: Record<string, string> = {
  'src/ok.ts': "import { x } from './other.js';\nimport { z } from 'node:fs';\n",
  'bench/ok.ts': "import { runLoad } from '../testkit/load.js';\nimport { y } from '../src/y.js';\n",
  'scripts/ok.ts': "import { startLlmDouble } from '../testkit/llm-double.js';\nimport { w } from '../bench/lib/w.js';\n",
  'test/ok.ts': "import { sleep } from '../testkit/wait.js';\n",
  // A test may import the script it tests.
  'test/checks.test.ts': "import { checkArchitecture } from '../scripts/check-architecture.js';\n",
  // A URL into test/ is a path, not an import.
  'testkit/ok.ts': "import { a } from '../src/a.js';\nexport const OUT = new URL('../test/contract/api-types.d.ts', import.meta.url);\n",
};

const FORBIDDEN: Record<string, string> = {
  'src/leak.ts': "import { startLlmDouble } from '../testkit/llm-double.js';\n",
  'src/deep/type-leak.ts': "import type { T } from '../../test/support/t.js';\n",
  'scripts/multi-line.ts': "import {\n  a,\n  b,\n} from '../test/support/load.js';\n",
  'bench/side-effect.ts': "import '../test/support/setup.js';\n",
  'bench/dynamic.ts': "const m = await import('../test/support/build-test-app.js');\n",
  'testkit/re-export.ts': "export { y } from '../bench/lib/y.js';\n",
};

let root: string;

async function writeTree(files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), text);
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'agp-boundaries-'));
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('tree boundaries', () => {
  it('passes a tree whose imports stay inside the allowed folders', async () => {
    await writeTree(ALLOWED);
    expect(await check(root)).toEqual({ code: 0, out: 'tree boundaries respected\n' });
  });

  it('names every import that crosses a boundary, whatever its form', async () => {
    await writeTree(FORBIDDEN);
    const { code, out } = await check(root);
    expect(code).toBe(1);
    const offenders = out.split('\n').filter((l) => l.includes(' imports ')).map((l) => l.trim().split(' ')[0]);
    expect(offenders.sort()).toEqual(Object.keys(FORBIDDEN).sort());
    expect(out).toContain('src/deep/type-leak.ts imports ../../test/support/t.js: src/ must not import test/');
  });

  it('holds for this repository', async () => {
    expect(await check(REPO_ROOT)).toEqual({ code: 0, out: 'tree boundaries respected\n' });
  });
});
