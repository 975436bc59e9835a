/**
 * House rules, checked on the runtime (non-type) imports of every module under <root>/src:
 *
 * 1. src/agp (the method) imports nothing from fastify, ioredis, openai, bullmq, pino, undici or
 *    prom-client, and nothing outside src/agp. src/experiments (assignment, interleaving and the
 *    always-valid statistics) is pure the same way; it may also use src/agp and the domain errors.
 * 2. Only the runtime (src/runtime/, the one composition root) imports concrete adapters: the modules of
 *    src/llm, src/store and src/jobs (except the port and format modules in PORTS) and the drivers
 *    (ioredis, bullmq, openai, undici). Everything else (src/http, the CLI commands, app.ts, the entries)
 *    sees ports only.
 * 3. An adapter family sees other families through their ports only: src/jobs may use bullmq, but not a
 *    src/store connection or ioredis itself; src/store may use ioredis, not bullmq; and so on.
 * 4. src/http and the adapter families do not import the runtime (it imports them).
 * 5. Only src/runtime imports OpenTelemetry (@opentelemetry/*): everything else opens spans through the
 *    tracing port (src/agp/tracing.ts), so tracing off costs no OTel code on the hot path.
 *
 * `import type` is always fine. Usage: tsx scripts/check-architecture.ts [root-dir] (default: the cwd).
 */
import { readdir, readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { boundaryProblems } from './tree-boundaries.js';

const FORBIDDEN_IN_AGP = ['fastify', 'ioredis', 'openai', 'bullmq', 'pino', 'undici', 'prom-client', '@fastify/', '@opentelemetry/'];
/** Packages only the runtime may import (rule 5). */
const RUNTIME_ONLY = ['@opentelemetry/'];
/** Pure directories (no framework, driver or logger) and the src/ modules each may import. */
const PURE: Record<string, readonly string[]> = {
  'agp/': ['agp/'],
  'experiments/': ['experiments/', 'agp/', 'errors.ts'],
  // The loop's step machine, gate and schedule rules (issue 11): pure like the experiments it drives.
  'loop/': ['loop/', 'experiments/', 'agp/', 'errors.ts'],
};
/** Adapter families (directories under src/) and the drivers each may import. */
const FAMILIES: Record<string, readonly string[]> = { llm: ['openai', 'undici'], store: ['ioredis'], jobs: ['bullmq'] };
const DRIVERS = Object.values(FAMILIES).flat();
const RUNTIME = ['runtime/', 'runtime.ts'];
/** Modules inside the adapter directories that hold only interfaces, constants or a file format. */
const PORTS = new Set([
  'jobs/training-jobs.ts', // the TrainingJobs port the admin routes talk to
  'store/prompt-file.ts', // the prompt export format (a file, no connection), read by the CLI
  'store/key-schema.ts', // Redis key names: pure functions shared by the stores and the job engines
]);

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Runtime (non-type) import specifiers of a TypeScript source. */
export function runtimeImports(src: string): string[] {
  const specs: string[] = [];
  const re = /^\s*(import|export)\s+(?!type\b)([^'"]*?from\s+)?['"]([^'"]+)['"]/gm;
  for (const m of src.matchAll(re)) specs.push(m[3] as string);
  for (const m of src.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1] as string);
  return specs;
}

const isPackage = (spec: string, names: readonly string[]) =>
  names.some((n) => spec === n || spec.startsWith(n.endsWith('/') ? n : `${n}/`));
const familyOf = (mod: string) => Object.keys(FAMILIES).find((f) => mod.startsWith(`${f}/`));
const isRuntime = (mod: string) => RUNTIME.some((r) => mod === r || mod.startsWith(r));

/** `src/`-relative path of a relative import (`./x.js` → `dir/x.ts`), or undefined for a package. */
function target(fromMod: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return posix.normalize(posix.join(posix.dirname(fromMod), spec)).replace(/\.js$/, '.ts');
}

/** Checks the tree under `root` and returns one line per violation (empty when it follows the rules). */
export async function checkArchitecture(root: string): Promise<string[]> {
  const srcDir = resolve(root, 'src');
  const problems: string[] = [];
  for (const file of await files(srcDir)) {
    const mod = relative(srcDir, file).split('\\').join('/');
    const at = `src/${mod}`;
    const family = familyOf(mod);
    for (const spec of runtimeImports(await readFile(file, 'utf8'))) {
      const to = target(mod, spec);
      const pure = Object.keys(PURE).find((dir) => mod.startsWith(dir));
      if (pure !== undefined) {
        if (isPackage(spec, FORBIDDEN_IN_AGP)) problems.push(`${at} imports ${spec} at runtime`);
        if (to !== undefined && !(PURE[pure] ?? []).some((ok) => to === ok || to.startsWith(ok))) {
          problems.push(`${at} imports ${spec}: src/${pure.slice(0, -1)} must not depend outward`);
        }
        continue;
      }
      if (isRuntime(mod)) continue;
      if (isPackage(spec, RUNTIME_ONLY)) problems.push(`${at} imports ${spec}; only src/runtime may (use the tracing port, src/agp/tracing.ts)`);
      if (to !== undefined && isRuntime(to) && (family || mod.startsWith('http/'))) {
        problems.push(`${at} imports the runtime (${spec}); the runtime wires it, not the other way round`);
      }
      const toFamily = to === undefined ? undefined : familyOf(to);
      if (to !== undefined && toFamily && !PORTS.has(to) && toFamily !== family) {
        problems.push(`${at} imports adapter ${spec}; only src/runtime may (use a port)`);
      }
      if (isPackage(spec, DRIVERS) && !(family && isPackage(spec, FAMILIES[family] ?? []))) {
        problems.push(`${at} imports ${spec}; only src/runtime and the ${Object.entries(FAMILIES).find(([, d]) => isPackage(spec, d))?.[0]} adapters may`);
      }
    }
  }
  return problems;
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  try {
    return script !== undefined && import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const root = process.argv[2] ?? '.';
  const problems = [...(await checkArchitecture(root)), ...(await boundaryProblems(root))];
  if (problems.length) {
    process.stderr.write(`architecture check failed (${resolve(root)}):\n  ${problems.join('\n  ')}\n`);
    process.exit(1);
  }
  process.stdout.write(`architecture check passed (${dirname(resolve(root, 'src'))})\n`);
}
