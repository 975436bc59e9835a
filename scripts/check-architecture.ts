/**
 * House rule: src/agp (the method) imports nothing at runtime from fastify, ioredis, openai, bullmq or
 * pino, and only the composition roots import the concrete adapters. `import type` is fine.
 * Plus the folder boundaries of scripts/tree-boundaries.ts (src/ never imports test code, and so on).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { boundaryProblems } from './tree-boundaries.js';

const FORBIDDEN_IN_AGP = ['fastify', 'ioredis', 'openai', 'bullmq', 'pino', 'undici', 'prom-client', '@fastify/'];
const ADAPTER_DIRS = ['src/llm/', 'src/store/', 'src/jobs/'];
const ROOTS = ['src/container.ts', 'src/cli/', 'src/jobs/', 'src/llm/', 'src/store/'];
/** Port modules that live beside their adapters but hold only interfaces and constants. */
const PORT_FILES = ['/jobs/training-jobs.js'];

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Runtime (non-type) import specifiers of a TypeScript source. */
function runtimeImports(src: string): string[] {
  const specs: string[] = [];
  const re = /^\s*(import|export)\s+(?!type\b)([^'"]*?from\s+)?['"]([^'"]+)['"]/gm;
  for (const m of src.matchAll(re)) specs.push(m[3] as string);
  for (const m of src.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1] as string);
  return specs;
}

const problems: string[] = [];
for (const file of await files('src')) {
  const rel = relative('.', file).split('\\').join('/');
  const imports = runtimeImports(await readFile(file, 'utf8'));
  if (rel.startsWith('src/agp/')) {
    for (const s of imports) {
      if (FORBIDDEN_IN_AGP.some((f) => s === f || s.startsWith(f.endsWith('/') ? f : `${f}/`))) problems.push(`${rel} imports ${s} at runtime`);
      if (s.startsWith('.') && !s.startsWith('./')) problems.push(`${rel} imports ${s}: src/agp must not depend outward`);
    }
  } else if (!ROOTS.some((r) => rel === r || rel.startsWith(r))) {
    for (const s of imports) {
      if (PORT_FILES.some((p) => s.endsWith(p))) continue;
      if (ADAPTER_DIRS.some((d) => s.includes(d.replace('src/', '/')))) problems.push(`${rel} imports adapter ${s}; only composition roots may`);
    }
  }
}
problems.push(...(await boundaryProblems('.')));
if (problems.length) {
  process.stderr.write(`architecture check failed:\n  ${problems.join('\n  ')}\n`);
  process.exit(1);
}
process.stdout.write('architecture check passed\n');
