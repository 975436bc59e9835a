/**
 * Child processes run as plain `node file.js` (no tsx loader, no source-map hooks), exactly like the
 * built service. The few TypeScript files they need are transpiled with the TypeScript compiler API into a
 * temporary directory that mirrors the repository layout (so relative `.js` imports keep working), with a
 * `package.json` declaring ESM and a `node_modules` symlink to the repository's.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import ts from 'typescript';

/** The child processes' entry files (relative to the repository root); their relative imports are followed. */
export const CHILD_SOURCES = [
  'bench/lib/ipc.ts',
  'bench/lib/workload.ts',
  'bench/reference-servers/hello.ts',
  'bench/reference-servers/floor.ts',
  'bench/reference-servers/simulator.ts',
  'bench/reference-servers/llm-clients.ts',
  'testkit/llm-double.ts',
  'src/llm/undici-fetch.ts',
] as const;

export interface CompiledChildren {
  dir: string;
  /** Absolute path of the transpiled `.js` for a repository-relative `.ts` path. */
  path(source: (typeof CHILD_SOURCES)[number]): string;
  remove(): Promise<void>;
}

export async function compileChildren(repoRoot: string): Promise<CompiledChildren> {
  const dir = await mkdtemp(join(tmpdir(), 'agp-bench-'));
  await writeFile(join(dir, 'package.json'), '{"type":"module","private":true}\n');
  await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  // Follow relative imports from the entries, so a new import in a child's module cannot break the bench.
  const queue: string[] = [...CHILD_SOURCES];
  const seen = new Set<string>(queue);
  for (let rel = queue.shift(); rel !== undefined; rel = queue.shift()) {
    const source = await readFile(join(repoRoot, rel), 'utf8');
    for (const { fileName } of ts.preProcessFile(source, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const dep = posix.normalize(posix.join(posix.dirname(rel), fileName)).replace(/\.js$/, '.ts');
      if (!seen.has(dep)) {
        seen.add(dep);
        queue.push(dep);
      }
    }
    const out = ts.transpileModule(source, {
      fileName: rel,
      reportDiagnostics: true,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
        sourceMap: false,
      },
    });
    const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (errors.length > 0) {
      throw new Error(`transpiling ${rel}: ${ts.flattenDiagnosticMessageText(errors[0]?.messageText ?? '', '\n')}`);
    }
    const target = join(dir, rel.replace(/\.ts$/, '.js'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, out.outputText);
  }
  return {
    dir,
    path: (source) => join(dir, source.replace(/\.ts$/, '.js')),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
