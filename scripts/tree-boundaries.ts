/**
 * House rule: which top-level folders may import which. The service (src/) never reaches into test code;
 * testkit/ is the one kit shared by test/, bench/ and scripts/, so those three never import each other's
 * internals (bench/ and scripts/ never import test/), and testkit/ depends only on src/ and itself. test/
 * may import a script to test it (the checks' own tests do); nothing imports test/. Type-only imports
 * count too: they couple the trees just the same.
 *
 *   npx tsx scripts/tree-boundaries.ts [root]   # exits 1 and lists the offending imports
 */
import { readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Top-level folder → folders it must not import from. */
export const FORBIDDEN: Readonly<Record<string, readonly string[]>> = {
  src: ['testkit', 'test', 'bench', 'scripts'],
  testkit: ['test', 'bench', 'scripts'],
  bench: ['test'],
  scripts: ['test'],
};

async function tsFiles(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(posix.join(root, dir), { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const rel = posix.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'results') out.push(...(await tsFiles(root, rel)));
    } else if (rel.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Every relative module specifier of a source: static imports and re-exports (type-only too), import(). */
function relativeSpecifiers(src: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\b[^'";]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/gm,
    /^\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/gm,
    /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
  ];
  const specs: string[] = [];
  for (const re of patterns) for (const m of src.matchAll(re)) specs.push(m[1] as string);
  return specs;
}

/** One line per import that crosses a forbidden boundary, for the tree at `root`. */
export async function boundaryProblems(root = '.'): Promise<string[]> {
  const problems: string[] = [];
  for (const [from, banned] of Object.entries(FORBIDDEN)) {
    for (const file of await tsFiles(root, from)) {
      const src = await readFile(posix.join(root, file), 'utf8');
      for (const spec of relativeSpecifiers(src)) {
        const top = posix.normalize(posix.join(posix.dirname(file), spec)).split('/')[0] ?? '';
        if (banned.includes(top)) problems.push(`${file} imports ${spec}: ${from}/ must not import ${top}/`);
      }
    }
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const problems = await boundaryProblems(process.argv[2] ?? '.');
  if (problems.length) {
    process.stderr.write(`tree boundaries violated:\n  ${problems.join('\n  ')}\n`);
    process.exit(1);
  }
  process.stdout.write('tree boundaries respected\n');
}
