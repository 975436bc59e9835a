/**
 * scripts/check-architecture.ts on small fixture trees written to a temp dir: a clean tree (the runtime
 * imports every adapter, the rest sees ports) passes; each kind of drift fails with a line naming the file.
 * One case runs the script as the CLI does (`tsx scripts/check-architecture.ts <root>`) for its exit code.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkArchitecture } from '../../scripts/check-architecture.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A tree that follows the rules. */
const CLEAN: Record<string, string> = {
  'src/agp/ports.ts': 'export interface LlmClient { configured: boolean }\n',
  'src/agp/reranker.ts': "import type { LlmClient } from './ports.js';\nexport const rerank = (l: LlmClient) => l;\n",
  'src/experiments/outcome-metrics.ts': "import { rankOf } from '../agp/metrics.js';\nimport { InvalidInputError } from '../errors.js';\nexport const m = [rankOf, InvalidInputError];\n",
  'src/llm/openai-llm-client.ts': "import OpenAI from 'openai';\nimport { x } from './undici-fetch.js';\nexport const c = [OpenAI, x];\n",
  'src/llm/undici-fetch.ts': "import { Agent } from 'undici';\nexport const x = Agent;\n",
  'src/store/redis-connection.ts': "import { Redis } from 'ioredis';\nexport const r = Redis;\n",
  'src/store/key-schema.ts': 'export const key = (s: string) => s;\n',
  'src/jobs/training-jobs.ts': 'export const JOB_STATES = [] as const;\n',
  'src/jobs/bullmq-jobs.ts':
    "import { Queue } from 'bullmq';\nimport type { RedisClient } from '../store/redis-connection.js';\nimport { key } from '../store/key-schema.js';\nexport const q = [Queue, key];\n",
  'src/runtime/index.ts':
    "import { c } from '../llm/openai-llm-client.js';\nimport { r } from '../store/redis-connection.js';\nimport { q } from '../jobs/bullmq-jobs.js';\nimport { Redis } from 'ioredis';\nexport const all = [c, r, q, Redis, import('./cli.js')];\n",
  'src/runtime/cli.ts': 'export const cli = 1;\n',
  'src/runtime/tracing.ts': "import { trace } from '@opentelemetry/api';\nexport const t = trace;\n",
  'src/http/admin-routes.ts':
    "import type { Queue } from 'bullmq';\nimport { JOB_STATES } from '../jobs/training-jobs.js';\nimport type { ApiRuntime } from '../runtime/index.js';\nexport const a = JOB_STATES;\n",
  'src/server.ts': "import { all } from './runtime/index.js';\nexport default all;\n",
};

async function tree(extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'agp-arch-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries({ ...CLEAN, ...extra })) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

describe('check-architecture', () => {
  it('passes a tree where only the runtime imports adapters', async () => {
    expect(await checkArchitecture(await tree())).toEqual([]);
  });

  it('passes this repository', async () => {
    expect(await checkArchitecture(ROOT)).toEqual([]);
  });

  it.each([
    ['an HTTP route importing a store', 'src/http/profile-routes.ts', "import { r } from '../store/redis-connection.js';\n", /src\/http\/profile-routes\.ts imports adapter \.\.\/store\/redis-connection\.js/],
    ['a second composition root', 'src/container.ts', "import { c } from './llm/openai-llm-client.js';\n", /src\/container\.ts imports adapter/],
    ['a job engine opening its own Redis connection', 'src/jobs/create-jobs.ts', "import { r } from '../store/redis-connection.js';\n", /src\/jobs\/create-jobs\.ts imports adapter/],
    ['a job engine importing ioredis', 'src/jobs/queue.ts', "import { Redis } from 'ioredis';\n", /src\/jobs\/queue\.ts imports ioredis/],
    ['a route importing bullmq at runtime', 'src/http/jobs.ts', "import { Queue } from 'bullmq';\n", /src\/http\/jobs\.ts imports bullmq/],
    ['a CLI command importing openai', 'src/cli/eval.ts', "import OpenAI from 'openai';\n", /src\/cli\/eval\.ts imports openai/],
    ['a dynamic import of an adapter', 'src/cli/prompts.ts', "export const m = () => import('../store/redis-connection.js');\n", /src\/cli\/prompts\.ts imports adapter/],
    ['a route importing the runtime', 'src/http/health.ts', "import { all } from '../runtime/index.js';\n", /src\/http\/health\.ts imports the runtime/],
    ['the method importing fastify', 'src/agp/pipeline.ts', "import Fastify from 'fastify';\n", /src\/agp\/pipeline\.ts imports fastify at runtime/],
    ['the method depending outward', 'src/agp/trainer.ts', "import { a } from '../http/admin-routes.js';\n", /src\/agp\/trainer\.ts imports \.\.\/http\/admin-routes\.js: src\/agp must not depend outward/],
    ['experiment statistics importing prom-client', 'src/experiments/always-valid.ts', "import { Gauge } from 'prom-client';\n", /src\/experiments\/always-valid\.ts imports prom-client at runtime/],
    ['a route importing OpenTelemetry (not the tracing port)', 'src/http/tracing.ts', "import { trace } from '@opentelemetry/api';\n", /src\/http\/tracing\.ts imports @opentelemetry\/api; only src\/runtime may/],
    ['the method importing OpenTelemetry', 'src/agp/tracing.ts', "import { trace } from '@opentelemetry/api';\n", /src\/agp\/tracing\.ts imports @opentelemetry\/api at runtime/],
    ['experiment code depending on a route', 'src/experiments/results.ts', "import { a } from '../http/admin-routes.js';\n", /src\/experiments\/results\.ts imports \.\.\/http\/admin-routes\.js: src\/experiments must not depend outward/],
  ])('fails on %s', async (_what, path, text, message) => {
    const problems = await checkArchitecture(await tree({ [path]: text }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('exits 1 with the violations on stderr, 0 on a clean tree', { timeout: 30_000 }, async () => {
    const run = (root: string) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-architecture.ts', root], { cwd: ROOT, encoding: 'utf8' });
    const bad = run(await tree({ 'src/http/profile-routes.ts': "import { r } from '../store/redis-connection.js';\n" }));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/architecture check failed[\s\S]*src\/http\/profile-routes\.ts imports adapter/);
    const good = run(await tree());
    expect(good.stderr).toBe('');
    expect(good.status).toBe(0);
  });
});
