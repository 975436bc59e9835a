/**
 * Redis killed (SIGKILL) under continuous load, then restarted: no rerank fails, /readyz reports the outage
 * as `degraded` (not unready), and the same process reconnects and caches profiles again.
 *
 * The service is the real app (buildTestApp) listening on 127.0.0.1:0 with REDIS_URL set; the load is AGP
 * reranks for a pool of 30 users with fixed histories, so a warm cache answers almost everything from Redis.
 * (test/integration/serve-redis.test.ts has the single-request version of this.)
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';
import { percentile, rerankProblem, runLoad, sendOne, type LoadSample, type RerankBody } from '../../testkit/load.js';
import { sleep } from '../../testkit/wait.js';

const USERS = 30;
const DEADLINE_MS = 2_000;

let redis: RedisServerHandle;
let double: LlmDouble;
let t: TestApp;
let origin: string;

beforeAll(async () => {
  redis = await startRedisServer();
  double = await startLlmDouble({ latency: { meanMs: 20, jitterMs: 10 } });
  t = await buildTestApp({
    env: {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniquePrefix('outage'),
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'k',
      LLM_MODEL: 'double-model',
      DEFAULT_DEADLINE_MS: String(DEADLINE_MS),
    },
    jobs: false,
  });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  origin = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t?.close();
  await double?.close();
  await redis?.stop();
});

const rerankBody = (user: string) => ({
  userId: user,
  method: 'agp',
  history: Array.from({ length: 4 }, (_, k) => ({ id: `${user}-h${k}`, title: `${user} favourite ${k}` })),
  candidates: Array.from({ length: 6 }, (_, k) => ({ id: `c${k}`, title: `Candidate ${k}` })),
});
const userOf = (i: number) => `user-${i % USERS}`;

interface Readiness {
  at: number;
  status: number | null;
  body: { status?: string; checks?: { redis?: string } } | undefined;
}

describe('Redis outage under load', () => {
  it('never fails a rerank, reports degraded readiness, and reconnects and caches again without a restart', async () => {
    const stop = new AbortController();
    const ready: Readiness[] = [];
    const probeReady = async (): Promise<Readiness> => {
      const s = await sendOne(origin, { path: '/readyz' }, { timeoutMs: 3_000 });
      const r = { at: s.endedAt, status: s.status, body: s.body as Readiness['body'] };
      ready.push(r);
      return r;
    };
    const waitReady = async (want: (r: Readiness) => boolean, withinMs: number) => {
      const until = performance.now() + withinMs;
      while (performance.now() < until) {
        const r = await probeReady();
        if (want(r)) return r.at;
        await sleep(50);
      }
      return Number.NaN;
    };
    const phase = { warm: 0, kill: 0, down: 0, restart: 0, ready: 0 };
    const check = { first: undefined as RerankBody | undefined, repeat: undefined as RerankBody | undefined };

    const controller = (async () => {
      await sleep(1_500);
      phase.warm = performance.now();
      phase.kill = performance.now();
      redis.kill('SIGKILL');
      phase.down = await waitReady((r) => r.body?.checks?.redis === 'down', 10_000);
      await sleep(1_500);
      phase.restart = performance.now();
      await redis.restart();
      phase.ready = await waitReady((r) => r.body?.status === 'ready', 15_000);
      // A repeated request for a user nobody asked about yet: generated once, then served from Redis.
      const first = await sendOne(origin, { path: '/v1/rerank', body: rerankBody('after-restart') });
      const repeat = await sendOne(origin, { path: '/v1/rerank', body: rerankBody('after-restart') });
      check.first = first.body as RerankBody;
      check.repeat = repeat.body as RerankBody;
      await sleep(1_500);
      stop.abort();
    })();

    const run = await runLoad({
      origin,
      concurrency: 10,
      signal: stop.signal,
      durationMs: 45_000, // backstop; the controller stops the run
      timeoutMs: 10_000,
      pauseMs: () => 5 + Math.random() * 10,
      next: (i) => ({ path: '/v1/rerank', body: rerankBody(userOf(i)) }),
    });
    await controller;
    const samples = run.samples;
    const body = (s: LoadSample) => s.body as RerankBody;

    // Zero failed reranks: every answer a 200 with a permutation, and no fallback at all (the LLM is healthy;
    // a cache outage only costs profile regenerations).
    expect(run.transportErrors).toBe(0);
    expect(samples.map((s) => rerankProblem(s, rerankBody(userOf(s.index)).candidates)).filter(Boolean)).toEqual([]);
    expect(samples.filter((s) => body(s).fallback !== null).map((s) => body(s).fallback)).toEqual([]);
    expect(samples.every((s) => s.elapsedMs < DEADLINE_MS)).toBe(true);
    expect(new Set(samples.map((s) => body(s).promptVersion)).size).toBe(1);

    // The cache was warm before the kill.
    const warm = samples.filter((s) => s.startedAt >= phase.warm - 500 && s.endedAt <= phase.kill);
    expect(warm.length).toBeGreaterThan(0);
    expect(warm.every((s) => body(s).profile?.cached === true)).toBe(true);

    // /readyz saw the outage as degraded (200, checks.redis down), never as unready.
    expect(phase.down).not.toBeNaN();
    const duringOutage = ready.filter((r) => r.at >= phase.down && r.at <= phase.restart);
    expect(duringOutage.length).toBeGreaterThan(0);
    for (const r of ready) expect(r.status).toBe(200);
    expect(duringOutage.every((r) => r.body?.status === 'degraded' && r.body.checks?.redis === 'down')).toBe(true);

    // During the outage nothing came from the cache, yet everything was answered.
    const outage = samples.filter((s) => s.startedAt >= phase.down && s.endedAt <= phase.restart);
    expect(outage.length).toBeGreaterThan(20);
    expect(outage.filter((s) => body(s).profile?.cached !== false)).toEqual([]);

    // Reconnected without a restart: ready again, and the cache serves hits again.
    expect(phase.ready).not.toBeNaN();
    expect(check.first?.profile?.cached).toBe(false);
    expect(check.repeat?.profile?.cached).toBe(true);
    expect(check.repeat?.fallback).toBeNull();
    const recovered = samples.filter((s) => s.startedAt >= phase.ready);
    expect(recovered.length).toBeGreaterThan(20);
    const hits = recovered.filter((s) => body(s).profile?.cached === true).length;
    expect(hits).toBeGreaterThan(recovered.length / 2);

    const ms = (s: LoadSample[]) => s.map((x) => x.elapsedMs);
    console.log(
      `[redis-outage] ${samples.length} reranks, 0 failed; outage ${(phase.restart - phase.kill).toFixed(0)} ms ` +
        `(readyz degraded ${(phase.down - phase.kill).toFixed(0)} ms after the kill, ready ${(phase.ready - phase.restart).toFixed(0)} ms after the restart began); ` +
        `p50/p99/max before ${percentile(ms(warm), 50).toFixed(0)}/${percentile(ms(warm), 99).toFixed(0)}, during ${percentile(ms(outage), 50).toFixed(0)}/${percentile(ms(outage), 99).toFixed(0)}/${Math.max(...ms(outage)).toFixed(0)} ms, ` +
        `after ${percentile(ms(recovered), 50).toFixed(0)}/${percentile(ms(recovered), 99).toFixed(0)} ms; cache hits after recovery ${hits}/${recovered.length}`,
    );
  }, 50_000);
});
