/**
 * The prompt registry is the record of trained and active prompt versions. These tests import and
 * activate versions through the admin API of the real app, then restart the SERVICE (a new app on the
 * same Redis) and restart REDIS with the persistence docs/deploy.md asks for (appendonly yes, appendfsync
 * everysec): every version and the active one must still be there, and /v1/rerank must serve the active
 * version's text. A redis-server crash (SIGKILL) right after an activation was acknowledged loses nothing
 * either: Redis normally write()s the AOF before it replies, so it is a crash of the MACHINE that can lose
 * the last ≈ 1–2 s with appendfsync everysec (not simulated here).
 * The control case (no persistence) shows what the assertions catch: the registry is gone and serving
 * falls back to the built-in prompt; that loss is reported (/readyz `prompts: "lost"`, the metrics), and
 * with PROMPT_FILE set the file's versions are imported again on their own.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_PROMPT_VERSION } from '../../src/agp/types.js';
import { METRIC } from '../../src/observability/metrics.js';
import { createRedis, whenReady } from '../../src/store/redis-connection.js';
import { buildTestApp } from '../support/build-test-app.js';
import type { TestApp } from '../support/build-test-app.js';
import { startLlmDouble } from '../../testkit/llm-double.js';
import type { LlmDouble } from '../../testkit/llm-double.js';
import { startRedisServer, uniquePrefix } from '../../testkit/redis-server.js';
import type { RedisServerHandle } from '../../testkit/redis-server.js';
import { eventually } from '../../testkit/wait.js';

const TOKEN = 'durability-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const DOMAIN = 'books';

const version = (v: string, createdAt: string) => ({
  domain: DOMAIN,
  version: v,
  text: `Profile prompt ${v}: describe the reader's favourite authors, genres and eras (marker ${v}).`,
  parentVersion: null,
  createdAt,
  historyLength: 7,
  metrics: { bestValNdcg: 0.5 },
});
const VERSIONS = [version('books-v1', '2026-01-01T00:00:00.000Z'), version('books-v2', '2026-01-02T00:00:00.000Z'), version('books-v3', '2026-01-03T00:00:00.000Z')];

const RERANK = {
  userId: 'reader-1',
  domain: DOMAIN,
  history: [
    { id: 'b1', title: 'Dune' },
    { id: 'b2', title: 'Foundation' },
  ],
  candidates: [
    { id: 'c1', title: 'Hyperion' },
    { id: 'c2', title: 'Emma' },
    { id: 'c3', title: 'Neuromancer' },
  ],
};

let double: LlmDouble;
const apps: TestApp[] = [];
const servers: RedisServerHandle[] = [];

beforeAll(async () => {
  double = await startLlmDouble();
});

afterEach(async () => {
  for (const a of apps.splice(0).reverse()) await a.close().catch(() => undefined);
  await Promise.allSettled(servers.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  await double?.close();
});

async function startApp(redisUrl: string, prefix: string, extraEnv: Record<string, string> = {}): Promise<TestApp> {
  const app = await buildTestApp({
    env: {
      ...extraEnv,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      ADMIN_TOKEN: TOKEN,
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-durability',
      LLM_MODEL: 'double-model',
      PROMPT_REFRESH_MS: '200',
    },
    jobs: false,
  });
  apps.push(app);
  return app;
}

interface Summary {
  version: string;
  active: boolean;
  createdAt: string;
  historyLength: number;
}

async function listed(app: TestApp): Promise<Summary[]> {
  const res = await app.app.inject({ method: 'GET', url: `/admin/v1/prompts?domain=${DOMAIN}`, headers: auth });
  expect(res.statusCode).toBe(200);
  return (res.json() as { prompts: Summary[] }).prompts;
}

/** A rerank that must build a fresh profile (new user id), so the double sees the prompt actually served. */
let rerankSeq = 0;
async function served(app: TestApp): Promise<{ promptVersion: string; promptText: string | undefined }> {
  rerankSeq += 1;
  const before = double.calls.length;
  const res = await app.app.inject({ method: 'POST', url: '/v1/rerank', payload: { ...RERANK, userId: `reader-${rerankSeq}` } });
  expect(res.statusCode).toBe(200);
  const body = res.json() as { promptVersion: string; fallback: unknown };
  expect(body.fallback).toBeNull();
  const profileCall = double.calls.slice(before).find((c) => c.role === 'profile');
  return { promptVersion: body.promptVersion, promptText: profileCall?.messages.at(-1)?.content };
}

const activeOf = (list: Summary[]) => list.filter((v) => v.active).map((v) => v.version);

/** The state every check compares against: all versions, v2 active, and v2's text in the profile prompt. */
async function expectDurableState(app: TestApp, activeVersion: string): Promise<void> {
  const list = await listed(app);
  expect(list.map((v) => v.version)).toEqual(VERSIONS.map((v) => v.version));
  expect(list.map((v) => [v.createdAt, v.historyLength])).toEqual(VERSIONS.map((v) => [v.createdAt, v.historyLength]));
  expect(activeOf(list)).toEqual([activeVersion]);
  const s = await served(app);
  expect(s.promptVersion).toBe(activeVersion);
  expect(s.promptText).toContain(`marker ${activeVersion})`);
}

async function importAndActivate(app: TestApp, activeVersion: string): Promise<void> {
  for (const v of VERSIONS) {
    const res = await app.app.inject({ method: 'POST', url: '/admin/v1/prompts', headers: auth, payload: v });
    expect(res.statusCode).toBe(201);
  }
  const act = await app.app.inject({ method: 'POST', url: `/admin/v1/prompts/${DOMAIN}/${activeVersion}/activate`, headers: auth });
  expect(act.statusCode).toBe(200);
}

/** Waits until the app's Redis connection works again and its registry has refreshed from it. */
async function whenRedisBack(app: TestApp): Promise<void> {
  await eventually(async () => (await app.app.inject({ method: 'GET', url: '/readyz' })).json() as { checks: { redis: string } }, (b) => b.checks.redis === 'ok', { what: 'readyz redis ok', timeoutMs: 15_000 });
  const since = Date.now();
  await eventually(async () => app.container.registry.lastRefreshAt ?? 0, (t) => t > since, { what: 'a registry refresh after the restart', timeoutMs: 5_000 });
}

describe('prompt registry durability (admin API, real app, private redis-server)', () => {
  it('survives a service restart, a Redis restart and a redis-server crash (AOF, appendfsync everysec)', { timeout: 60_000 }, async () => {
    const redis = await startRedisServer({ persistence: true });
    servers.push(redis);
    // The persistence the chart's Redis is documented to run with (docs/deploy.md, docs/scaling.md).
    const probe = createRedis(redis.url, { role: 'cache' });
    expect(await whenReady(probe, 5_000)).toBe(true);
    expect(await probe.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await probe.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    probe.disconnect();

    const prefix = uniquePrefix('dur');
    const first = await startApp(redis.url, prefix);
    await importAndActivate(first, 'books-v2');
    await expectDurableState(first, 'books-v2');

    // 1. Service restart: close the app, build a new one on the same Redis.
    await first.close();
    apps.splice(apps.indexOf(first), 1);
    const second = await startApp(redis.url, prefix);
    await expectDurableState(second, 'books-v2');
    // Profiles live in the same Redis: the first reader's profile is still cached (no profile call).
    const again = await second.app.inject({ method: 'POST', url: '/v1/rerank', payload: { ...RERANK, userId: 'reader-1' } });
    expect((again.json() as { profile: { cached: boolean } }).profile.cached).toBe(true);

    // 2. Redis restart (graceful: SIGTERM, Redis fsyncs the AOF and exits; it replays it on start). The
    //    running service reconnects; a service started afterwards loads the same state.
    await redis.restart();
    await whenRedisBack(second);
    await expectDurableState(second, 'books-v2');
    const third = await startApp(redis.url, prefix);
    await expectDurableState(third, 'books-v2');

    // 3. redis-server crash: activate v3 and SIGKILL Redis as soon as the activation is acknowledged.
    const act = await third.app.inject({ method: 'POST', url: `/admin/v1/prompts/${DOMAIN}/books-v3/activate`, headers: auth });
    expect(act.statusCode).toBe(200);
    redis.kill('SIGKILL');
    await redis.restart();
    await whenRedisBack(third);
    await expectDurableState(third, 'books-v3');
    const fourth = await startApp(redis.url, prefix);
    await expectDurableState(fourth, 'books-v3');
  });

  it('control: without persistence a Redis restart loses every version and serving falls back to the built-in prompt', { timeout: 30_000 }, async () => {
    const redis = await startRedisServer({ persistence: false });
    servers.push(redis);
    const prefix = uniquePrefix('dur-ctl');
    const app = await startApp(redis.url, prefix);
    await importAndActivate(app, 'books-v2');
    await expectDurableState(app, 'books-v2');

    await redis.restart();
    await whenRedisBack(app);
    expect(await listed(app)).toEqual([]);
    const s = await served(app);
    expect(s.promptVersion).toBe(BUILTIN_PROMPT_VERSION);
    expect(s.promptText).not.toContain('marker');

    // Not silent: /readyz stays 200 (every replica serves the same built-in prompt) but says the prompts were
    // lost, and the metrics count it.
    expect(await lossReport(app)).toEqual({ httpStatus: 200, status: 'degraded', prompts: 'lost', lostDomains: 1, resets: 1 });
    // Activating a version of the lost domain again ends it.
    await importAndActivate(app, 'books-v2');
    expect(await lossReport(app)).toEqual({ httpStatus: 200, status: 'ready', prompts: 'loaded', lostDomains: 0, resets: 1 });
  });

  it('with PROMPT_FILE, a Redis restarted empty is seeded again from the file', { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agp-prompt-file-'));
    try {
      const file = join(dir, 'prompts.json');
      await writeFile(file, JSON.stringify({ prompts: VERSIONS }));
      const redis = await startRedisServer({ persistence: false });
      servers.push(redis);
      const app = await startApp(redis.url, uniquePrefix('dur-file'), { PROMPT_FILE: file });
      await expectDurableState(app, 'books-v3'); // the file's newest version is activated at start

      await redis.restart();
      await whenRedisBack(app);
      await eventually(() => lossReport(app), (r) => r.resets === 1 && r.prompts === 'loaded', { what: 'the loss counted and the file re-imported', timeoutMs: 10_000 });
      expect(await lossReport(app)).toEqual({ httpStatus: 200, status: 'ready', prompts: 'loaded', lostDomains: 0, resets: 1 });
      await expectDurableState(app, 'books-v3');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** What /readyz and the registry-loss metrics say. */
async function lossReport(app: TestApp) {
  const res = await app.app.inject({ method: 'GET', url: '/readyz' });
  const body = res.json() as { status: string; checks: { prompts: string } };
  // Read by name, so the same check reports what the code before it said.
  const value = async (name: string) => (await app.container.metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;
  return {
    httpStatus: res.statusCode,
    status: body.status,
    prompts: body.checks.prompts,
    lostDomains: await value(METRIC.promptRegistryLost),
    resets: await value(METRIC.promptRegistryResets),
  };
}
