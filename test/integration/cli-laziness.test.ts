/**
 * The CLI runtime is lazy: `agp convert` and `agp eval --methods base` load neither the openai SDK nor
 * ioredis and open no connection, even with LLM_* and REDIS_URL set; `agp eval` with an LLM method loads
 * the SDK only; `agp prompts` loads ioredis and connects.
 * Each command runs as a real process with a module resolve hook that prints every driver it resolves.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeUsers } from '../../testkit/synthetic-world.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = join(ROOT, 'test/fixtures/converters/movielens');
const HOOK = `
import { writeSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  const m = /\\/node_modules\\/(openai|ioredis|bullmq)\\//.exec(r.url);
  if (m) writeSync(2, 'DRIVER ' + m[1] + '\\n');
  return r;
}`;

let dir: string;
let register: string;
/** A TCP listener standing in for Redis: it only counts connection attempts. */
let fakeRedis: Server;
let connections = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agp-lazy-'));
  const hook = join(dir, 'hook.mjs');
  await writeFile(hook, HOOK);
  register = join(dir, 'register.mjs');
  await writeFile(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);
  await writeFile(join(dir, 'users.jsonl'), `${makeUsers(4).map((u) => JSON.stringify(u)).join('\n')}\n`);
  fakeRedis = createServer((s) => {
    connections += 1;
    s.destroy();
  });
  await new Promise<void>((r) => fakeRedis.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await new Promise((r) => fakeRedis?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI (asynchronously: the stand-in Redis in this process must keep accepting meanwhile). */
async function agp(args: string[]): Promise<{ status: number | null; drivers: string[]; stderr: string }> {
  const port = (fakeRedis.address() as { port: number }).port;
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', register, 'src/cli/agp.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}`, LLM_BASE_URL: 'http://127.0.0.1:9/v1', LLM_MODEL: 'm', LOG_LEVEL: 'silent' },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const status = await new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const drivers = [...new Set([...stderr.matchAll(/^DRIVER (\w+)$/gm)].map((m) => m[1] as string))].sort();
  return { status, drivers, stderr };
}

describe('the CLI runtime builds adapters only when a command needs them', () => {
  // The LLM endpoint refuses connections: with `direct`, every user falls back to the baseline order and eval
  // still reports; what matters is what was loaded.
  const cases: Array<[string, () => string[], string[]]> = [
    [
      'agp convert',
      () => ['convert', '--format', 'movielens', '--interactions', join(FIXTURES, 'ratings.csv'), '--items', join(FIXTURES, 'movies.csv'),
        '--ranking', join(FIXTURES, 'ranking.json'), '--k', '3', '--out', join(dir, 'converted.jsonl')],
      [],
    ],
    ['agp eval --methods base', () => ['eval', '--data', join(dir, 'users.jsonl'), '--methods', 'base', '--json'], []],
    ['agp eval --methods direct', () => ['eval', '--data', join(dir, 'users.jsonl'), '--methods', 'direct', '--json'], ['openai']],
  ];
  it.each(cases)('%s loads only the drivers it needs and connects to nothing', { timeout: 60_000 }, async (_name, args, expected) => {
    const before = connections;
    const res = await agp(args());
    expect(res.status, res.stderr).toBe(0);
    expect(res.drivers).toEqual(expected);
    expect(connections).toBe(before);
  });

  it('agp prompts export loads ioredis (and only it) and connects to REDIS_URL', { timeout: 60_000 }, async () => {
    const before = connections;
    const res = await agp(['prompts', 'export', '--domain', 'd']);
    // The stand-in is no Redis, so the command fails after connecting: the hook still saw what it loaded.
    expect(res.status).toBe(1);
    expect(res.drivers).toEqual(['ioredis']);
    expect(connections).toBeGreaterThan(before);
  });
});
