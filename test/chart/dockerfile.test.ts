/**
 * Dockerfile checks. No Docker engine runs here, so the image is linted (dockerfile-utils) and its
 * claims are checked against the repository: every COPY source exists in the build context and is
 * not dropped by .dockerignore, or is produced by an earlier stage (a COPY there, `npm ci`, or
 * `npm run build` into tsconfig.build.json's outDir); the entrypoints it runs have sources; the
 * runtime runs node under tini as a numeric non-root user with NODE_ENV=production.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validate } from 'dockerfile-utils';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOCKERFILE = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const DOCKERIGNORE = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8');

// ---------------------------------------------------------------------------------------------
// A small Dockerfile reader: logical lines (continuations joined), comments dropped, grouped by stage.

interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  /** Arguments after the flags: the JSON array for exec form, else whitespace-split words. */
  args: string[];
  raw: string;
  json: boolean;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

function logicalLines(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (current === '' && (trimmed === '' || trimmed.startsWith('#'))) continue;
    if (current !== '' && trimmed.startsWith('#')) continue; // comment inside a continuation
    if (trimmed.endsWith('\\')) {
      current += trimmed.slice(0, -1) + ' ';
      continue;
    }
    out.push((current + trimmed).trim());
    current = '';
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

function parseInstruction(line: string): Instruction {
  const [, keyword = '', rest0 = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
  let rest = rest0;
  const flags: Record<string, string> = {};
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(rest);
    if (!m) break;
    flags[m[1]!] = m[2] ?? 'true';
    rest = rest.slice(m[0].length);
  }
  let args: string[];
  let json = false;
  if (rest.startsWith('[')) {
    try {
      args = JSON.parse(rest) as string[];
      json = true;
    } catch {
      args = rest.split(/\s+/);
    }
  } else {
    args = rest.split(/\s+/).filter(Boolean);
  }
  return { keyword: keyword.toUpperCase(), flags, args, raw: rest, json };
}

function parseDockerfile(text: string): { globalArgs: Record<string, string>; stages: Stage[] } {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logicalLines(text)) {
    const ins = parseInstruction(line);
    if (ins.keyword === 'FROM') {
      const [image = '', as, name] = ins.args;
      const resolved = image.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, v: string) => globalArgs[v] ?? m);
      stages.push({ name: as?.toUpperCase() === 'AS' && name ? name : String(stages.length), from: resolved, instructions: [] });
      continue;
    }
    if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [k, v = ''] = (ins.args[0] ?? '').split('=');
        globalArgs[k!] = v;
      }
      continue;
    }
    stages[stages.length - 1]!.instructions.push(ins);
  }
  return { globalArgs, stages };
}

/** `ENV A=1 B=2` (or legacy `ENV A 1`) to a map. */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    if (ins.args.length === 2 && !ins.args[0]!.includes('=')) env[ins.args[0]!] = ins.args[1]!;
    else for (const kv of ins.args) env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  }
  return env;
}

/** Absolute in-image path of `p` given the stage's WORKDIR at instruction index `upTo`. */
function workdirAt(stage: Stage, upTo: number): string {
  let wd = '/';
  stage.instructions.slice(0, upTo).forEach((i) => {
    if (i.keyword === 'WORKDIR') wd = path.posix.resolve(wd, i.args[0]!);
  });
  return wd;
}
function inImage(stage: Stage, index: number, p: string): string {
  return path.posix.resolve(workdirAt(stage, index), p);
}

// ---------------------------------------------------------------------------------------------
// .dockerignore with Docker's semantics: patterns in order, `!` re-includes, a path is also
// excluded when one of its parent directories matches, the last matching pattern wins.

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        const slash = pattern[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const ignorePatterns = DOCKERIGNORE.split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const negate = l.startsWith('!');
    const p = path.posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, ''));
    return { negate, re: globToRegExp(p) };
  });

function isIgnored(relPath: string): boolean {
  const parts = relPath.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const { negate, re } of ignorePatterns) {
    if (candidates.some((c) => re.test(c))) ignored = !negate;
  }
  return ignored;
}

function filesUnder(rel: string): string[] {
  const abs = path.join(ROOT, rel);
  if (!statSync(abs).isDirectory()) return [rel];
  return readdirSync(abs).flatMap((e) => filesUnder(path.posix.join(rel, e)));
}

// ---------------------------------------------------------------------------------------------

const { stages } = parseDockerfile(DOCKERFILE);
const build = stages.find((s) => s.name === 'build');
const runtime = stages[stages.length - 1]!;
const lastOf = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).at(-1);
const runText = (stage: Stage) =>
  stage.instructions
    .filter((i) => i.keyword === 'RUN')
    .map((i) => i.raw)
    .join('\n');

describe('Dockerfile lint (dockerfile-utils)', () => {
  it('has no diagnostics', () => {
    const diagnostics = validate(DOCKERFILE);
    expect(diagnostics.map((d) => `${d.range.start.line + 1}: ${d.message} (severity ${d.severity})`)).toEqual([]);
  });

  it('the linter does report real problems (sanity check)', () => {
    const diagnostics = validate('FROM node:22-bookworm-slim\nEXPOSE notaport\nCMD\n');
    expect(diagnostics.filter((d) => d.severity === 1).length).toBeGreaterThan(0);
  });
});

describe('Dockerfile structure', () => {
  it('is multi-stage on node:22-bookworm-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    for (const s of stages) expect(s.from).toBe('node:22-bookworm-slim');
  });

  it('builds with npm ci, npm run build and prunes dev dependencies', () => {
    const text = runText(build!);
    expect(text).toMatch(/\bnpm ci\b/);
    expect(text).toMatch(/\bnpm run build\b/);
    expect(text).toMatch(/\bnpm prune --omit=dev\b/);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.build).toMatch(/tsconfig\.build\.json/);
  });

  it('installs tini from apt without recommends in the runtime stage and runs under it', () => {
    expect(runText(runtime)).toMatch(/apt-get install -y --no-install-recommends tini/);
    const entrypoint = lastOf(runtime, 'ENTRYPOINT');
    expect(entrypoint?.json).toBe(true);
    expect(entrypoint?.args).toEqual(['/usr/bin/tini', '--']);
  });

  it('runs the API with an exec-form node CMD whose entry point has a source', () => {
    const cmd = lastOf(runtime, 'CMD');
    expect(cmd?.json).toBe(true);
    expect(cmd?.args).toEqual(['node', 'dist/server.js']);
    expect(existsSync(path.join(ROOT, 'src/server.ts')), 'src/server.ts builds dist/server.js').toBe(true);
    // The chart's worker runs `node dist/cli/agp.js worker` from the same image.
    expect(existsSync(path.join(ROOT, 'src/cli/agp.ts')), 'src/cli/agp.ts builds dist/cli/agp.js').toBe(true);
    expect(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).bin.agp).toBe('dist/cli/agp.js');
  });

  it('runs as the numeric non-root user 10001, which it creates', () => {
    const user = lastOf(runtime, 'USER');
    expect(user?.args[0]).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user!.args[0]!.split(':')[0])).toBe(10001);
    expect(runText(runtime)).toMatch(/useradd[^\n]*--uid 10001/);
  });

  it('sets NODE_ENV=production, WORKDIR /app, EXPOSE 8080 and keeps secrets out of ENV', () => {
    const env = envOf(runtime);
    expect(env.NODE_ENV).toBe('production');
    expect(env.PORT ?? '8080').toBe('8080');
    expect(lastOf(runtime, 'WORKDIR')?.args[0]).toBe('/app');
    expect(lastOf(runtime, 'EXPOSE')?.args).toContain('8080');
    for (const k of Object.keys(env)) expect(k).not.toMatch(/KEY|TOKEN|PASSWORD|SECRET/);
    for (const s of stages) for (const i of s.instructions) expect(i.keyword, 'no ADD (remote fetches)').not.toBe('ADD');
  });

  it('health-checks with node (the slim image has no curl)', () => {
    const hc = lastOf(runtime, 'HEALTHCHECK');
    if (!hc) return; // optional
    expect(hc.raw).toMatch(/CMD \["node",/);
    expect(hc.raw).toContain('/healthz');
    expect(hc.raw).not.toMatch(/curl|wget/);
  });

  it('copies node_modules, dist, openapi and package.json into the runtime image', () => {
    const copied = runtime.instructions
      .map((ins, i) => ({ ins, i }))
      .filter(({ ins }) => ins.keyword === 'COPY')
      .map(({ ins, i }) => inImage(runtime, i, ins.args.at(-1)!));
    for (const p of ['/app/node_modules', '/app/dist', '/app/openapi', '/app/package.json']) expect(copied).toContain(p);
  });
});

describe('Dockerfile honesty: every COPY source exists', () => {
  const tsconfigBuild = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8'));
  const outDir: string = tsconfigBuild.compilerOptions?.outDir ?? 'dist';

  /** Paths (absolute, in the stage's filesystem) a stage produces before instruction `upTo`. */
  function producedBy(stage: Stage, upTo = stage.instructions.length): string[] {
    const out: string[] = [];
    stage.instructions.slice(0, upTo).forEach((ins, i) => {
      if (ins.keyword === 'COPY') {
        const dest = ins.args.at(-1)!;
        const sources = ins.args.slice(0, -1);
        const destAbs = inImage(stage, i, dest);
        if (dest.endsWith('/') || sources.length > 1) for (const s of sources) out.push(path.posix.join(destAbs, path.posix.basename(s)));
        else out.push(destAbs);
      }
      if (ins.keyword === 'RUN') {
        const wd = workdirAt(stage, i);
        if (/\bnpm ci\b/.test(ins.raw)) out.push(path.posix.join(wd, 'node_modules'));
        if (/\bnpm run build\b/.test(ins.raw)) out.push(path.posix.join(wd, outDir));
      }
    });
    return out;
  }

  const copies = stages.flatMap((stage) =>
    stage.instructions
      .map((ins, index) => ({ stage, ins, index }))
      .filter(({ ins }) => ins.keyword === 'COPY'),
  );

  it('has COPY instructions to check', () => {
    expect(copies.length).toBeGreaterThanOrEqual(6);
  });

  it.each(copies.map(({ stage, ins, index }) => [`${stage.name}: COPY ${ins.raw}`, stage, ins, index] as const))(
    '%s',
    (_label, stage, ins) => {
      const sources = ins.args.slice(0, -1);
      expect(sources.length).toBeGreaterThan(0);
      const from = ins.flags.from;
      if (from) {
        const src = stages.find((s) => s.name === from);
        expect(src, `stage ${from} exists`).toBeDefined();
        expect(stages.indexOf(src!), 'an earlier stage').toBeLessThan(stages.indexOf(stage));
        const produced = producedBy(src!);
        for (const s of sources) {
          const abs = path.posix.resolve('/', s);
          expect(
            produced.some((p) => abs === p || abs.startsWith(`${p}/`)),
            `${abs} is produced in stage ${from} (${produced.join(', ')})`,
          ).toBe(true);
        }
      } else {
        for (const s of sources) {
          const rel = path.posix.normalize(s).replace(/\/$/, '');
          expect(existsSync(path.join(ROOT, rel)), `${rel} exists in the repository`).toBe(true);
          expect(isIgnored(rel), `${rel} is not excluded by .dockerignore`).toBe(false);
          const files = filesUnder(rel).filter((f) => !isIgnored(f));
          expect(files.length, `${rel} sends at least one file to the build`).toBeGreaterThan(0);
        }
      }
    },
  );

  it('the build output the runtime copies matches tsconfig.build.json', () => {
    expect(outDir).toBe('dist');
    expect(tsconfigBuild.compilerOptions?.rootDir).toBe('src');
  });

  it('serves openapi/openapi.json at runtime', () => {
    expect(existsSync(path.join(ROOT, 'openapi/openapi.json')), 'openapi/openapi.json is committed').toBe(true);
    expect(isIgnored('openapi/openapi.json')).toBe(false);
  });
});

describe('.dockerignore', () => {
  it('keeps local state, secrets and build output out of the context', () => {
    for (const p of ['node_modules', 'node_modules/x/index.js', 'dist/server.js', '.env', 'src/.env', '.git/config', '.helm/helm', 'helm/agp-rerank/values.yaml', 'test/chart/chart.test.ts', 'coverage/index.html', 'npm-debug.log']) {
      expect(isIgnored(p), p).toBe(true);
    }
  });

  it('sends what the build needs', () => {
    for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/server.ts', 'src/config.ts']) {
      expect(isIgnored(p), p).toBe(false);
    }
  });
});
