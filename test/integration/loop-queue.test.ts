/**
 * The loop's BullMQ queue against a private redis-server and a 3-master Redis Cluster: job schedulers fire
 * runs and are idempotent to upsert, removing one stops it, a run that must wait is moved to `delayed` and
 * resumed (holding no worker), and a worker that dies mid-step hands its run to another worker, which
 * resumes it without beginning it again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LoopWorker, LoopWorkerRunner } from '../../src/jobs/bullmq-loop-queue.js';
import { createBullmqRunScheduler, runIdOfJob, schedulerIdOf, startLoopWorker } from '../../src/jobs/bullmq-loop-queue.js';
import type { Advance } from '../../src/loop/loop-runner.js';
import { newRunRecord } from '../../src/loop/loop-runner.js';
import type { LoopRun, LoopStore } from '../../src/loop/ports.js';
import { createMemoryLoopStore } from '../../src/store/memory-loop-store.js';
import { createRedis, whenReady } from '../../src/store/redis-connection.js';
import type { RedisClient, RedisTarget } from '../../src/store/redis-connection.js';
import { startRedisCluster, type RedisClusterHandle } from '../../testkit/redis-cluster.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';
import { eventually, sleep } from '../../testkit/wait.js';
import { testSchedule } from '../support/loop-world.js';

let server: RedisServerHandle;
let cluster: RedisClusterHandle;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedisServer(), startRedisCluster({ masters: 3 })]);
}, 60_000);
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(async () => {
  await Promise.all([server?.stop(), cluster?.stop()]);
});

/** A runner whose steps the test scripts, counting every call, on a memory store. */
function fakeRunner(store: LoopStore, step: (run: LoopRun, call: number) => Promise<number | null> | number | null) {
  const calls = { newRun: [] as string[], start: [] as string[], advance: [] as string[], abandon: [] as string[] };
  const runner: LoopWorkerRunner = {
    newRun(domain, trigger, runId) {
      calls.newRun.push(runId);
      return Promise.resolve(newRunRecord({ runId, domain, trigger, schedule: testSchedule({ domain }), baseVersion: 'v1', now: Date.now() }));
    },
    async start(run) {
      calls.start.push(run.runId);
      const other = await store.beginRun(run);
      if (other && other.runId !== run.runId) return { run: null, skipped: `busy with ${other.runId}` };
      return { run: other ?? run };
    },
    async advance(run): Promise<Advance> {
      calls.advance.push(run.runId);
      const waitMs = await step(run, calls.advance.length);
      if (waitMs !== null) return { run, waitMs };
      const done: LoopRun = { ...run, step: 'done', outcome: 'promoted' };
      await store.updateRun(done);
      return { run: done, waitMs: null };
    },
    abandon(run) {
      calls.abandon.push(run.runId);
      return Promise.resolve(run);
    },
  };
  return { runner, calls };
}

const FAST = { lockDurationMs: 1_000, stalledIntervalMs: 250 };

for (const kind of ['redis-server', 'cluster'] as const) {
  describe(`loop queue on ${kind}`, () => {
    const target = (): RedisTarget => (kind === 'cluster' ? { clusterNodes: cluster.nodes } : server.url);

    async function connect(role: 'queue'): Promise<RedisClient> {
      const c = createRedis(target(), { role });
      cleanups.push(() => c.quit());
      expect(await whenReady(c, 10_000)).toBe(true);
      return c;
    }

    async function env(prefix = uniquePrefix('loop')) {
      const scheduler = createBullmqRunScheduler({ connection: await connect('queue'), keyPrefix: prefix });
      cleanups.push(() => scheduler.close());
      const store = createMemoryLoopStore();
      const workers: LoopWorker[] = [];
      const startWorker = async (runner: LoopWorkerRunner, over: { lockDurationMs?: number; stalledIntervalMs?: number } = {}) => {
        const w = startLoopWorker({ connection: await connect('queue'), keyPrefix: prefix, store, runner, ...over });
        workers.push(w);
        cleanups.push(() => w.close({ force: true }));
        return w;
      };
      return { prefix, scheduler, store, startWorker, workers };
    }

    it('a job scheduler fires runs every interval, each its own runId', async () => {
      const e = await env();
      const { runner, calls } = fakeRunner(e.store, () => null);
      await e.startWorker(runner);
      const { nextRunAt } = await e.scheduler.upsert(testSchedule({ domain: 'books', everyMs: 1_000 }));
      // The first firing is one interval after the scheduler was created.
      expect(nextRunAt).toBeGreaterThan(Date.now() + 500);
      expect(nextRunAt).toBeLessThanOrEqual(Date.now() + 1_000);
      await eventually(() => calls.newRun.length, (n) => n >= 2, { what: 'two firings', timeoutMs: 8_000 });
      expect(new Set(calls.newRun).size).toBe(calls.newRun.length);
      expect(calls.newRun[0]).toMatch(/^\d{8}T\d{6}-[0-9a-f]{8}$/);
      const runs = await e.store.listRuns('books', 10);
      expect(runs.filter((r) => r.outcome === 'promoted').length).toBeGreaterThanOrEqual(2);
    });

    it('upserting is idempotent; a changed cadence moves the next firing; paused and removed schedules have none', async () => {
      const e = await env();
      const day = testSchedule({ domain: 'films', everyMs: 86_400_000 });
      const first = await e.scheduler.upsert(day);
      await sleep(20);
      const again = await e.scheduler.upsert(day);
      expect(again.nextRunAt).toBe(first.nextRunAt);
      expect(await e.scheduler.queue.getJobSchedulersCount()).toBe(1);
      expect(await e.scheduler.queue.getDelayedCount()).toBe(1);

      const cron = await e.scheduler.upsert(testSchedule({ domain: 'films', everyMs: undefined, cron: '0 3 * * *', tz: 'Europe/Paris' } as never));
      expect(await e.scheduler.queue.getJobSchedulersCount()).toBe(1);
      const at = new Date(cron.nextRunAt ?? 0);
      expect(at.getTime()).toBeGreaterThan(Date.now());
      expect(at.getTime()).toBeLessThanOrEqual(Date.now() + 86_400_000);
      expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(at)).toBe('03:00');
      expect((await e.scheduler.queue.getJobScheduler(schedulerIdOf('films')))?.pattern).toBe('0 3 * * *');
      // Still one delayed job: the cron one replaced the every one.
      expect(await e.scheduler.queue.getDelayedCount()).toBe(1);

      expect(await e.scheduler.upsert({ ...day, paused: true })).toEqual({ nextRunAt: null });
      expect(await e.scheduler.nextRunAt('films')).toBeNull();
      expect(await e.scheduler.queue.getJobSchedulersCount()).toBe(0);
      expect(await e.scheduler.queue.getDelayedCount()).toBe(0);

      await e.scheduler.upsert(day);
      expect(await e.scheduler.nextRunAt('films')).toBeGreaterThan(Date.now());
      await e.scheduler.remove('films');
      expect(await e.scheduler.nextRunAt('films')).toBeNull();
      await e.scheduler.remove('films'); // removing nothing is fine
    });

    it('a removed schedule stops firing', async () => {
      const e = await env();
      const { runner, calls } = fakeRunner(e.store, () => null);
      await e.startWorker(runner);
      await e.scheduler.upsert(testSchedule({ domain: 'music', everyMs: 500 }));
      await eventually(() => calls.newRun.length, (n) => n >= 1, { what: 'a firing', timeoutMs: 8_000 });
      await e.scheduler.remove('music');
      await sleep(200);
      const fired = calls.newRun.length;
      await sleep(1_500);
      expect(calls.newRun.length).toBe(fired);
    });

    it('runNow queues one run per runId', async () => {
      const e = await env();
      await e.scheduler.runNow('books', 'books-m1');
      await e.scheduler.runNow('books', 'books-m1');
      expect(await e.scheduler.queue.getWaitingCount()).toBe(1);
      const { runner, calls } = fakeRunner(e.store, () => null);
      await e.startWorker(runner);
      await eventually(() => calls.advance.length, (n) => n === 1, { what: 'the manual run' });
      expect(calls.newRun).toEqual(['books-m1']);
      expect((await e.store.getRun('books', 'books-m1'))?.trigger).toBe('manual');
    });

    it('a run that waits is moved to delayed, holds no worker, and is resumed after the wait', async () => {
      const e = await env();
      const { runner, calls } = fakeRunner(e.store, (_run, call) => (call <= 3 ? 400 : null));
      await e.startWorker(runner);
      const t0 = Date.now();
      await e.scheduler.runNow('books', 'books-w1');
      await eventually(() => calls.advance.length, (n) => n === 1, { what: 'the first step' });
      await eventually(() => e.scheduler.queue.getJobState('run.books-w1'), (s) => s === 'delayed', { what: 'the job delayed' });
      expect(await e.scheduler.queue.getActiveCount()).toBe(0);
      const job = await eventually(() => e.scheduler.queue.getJob('run.books-w1'), (j) => j?.finishedOn !== undefined, { what: 'the run done' });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1_200);
      expect(calls.advance).toEqual(['books-w1', 'books-w1', 'books-w1', 'books-w1']);
      expect(calls.start).toEqual(['books-w1']);
      expect(job?.returnvalue).toEqual({ runId: 'books-w1', outcome: 'promoted' });
      // Waiting is not failing: only the attempt that completed counts (BullMQ counts a finished attempt).
      expect(job?.attemptsMade).toBe(1);
    });

    it('a worker killed mid-step: another worker resumes the run after the lock expires, never beginning it again', async () => {
      const e = await env();
      const hang = new Promise<number | null>(() => undefined);
      const a = fakeRunner(e.store, () => hang);
      const b = fakeRunner(e.store, () => null);
      const workerA = await e.startWorker(a.runner, FAST);
      await e.scheduler.runNow('books', 'books-c1');
      await eventually(() => a.calls.advance.length, (n) => n === 1, { what: 'worker A in the step' });
      await workerA.close({ force: true });
      await e.startWorker(b.runner, FAST);
      const job = await eventually(() => e.scheduler.queue.getJob('run.books-c1'), (j) => j?.finishedOn !== undefined, { what: 'worker B finishing the run', timeoutMs: 15_000 });
      expect(job?.returnvalue).toEqual({ runId: 'books-c1', outcome: 'promoted' });
      expect([...a.calls.start, ...b.calls.start]).toEqual(['books-c1']);
      expect(b.calls.newRun).toEqual([]);
      expect(b.calls.advance).toEqual(['books-c1']);
      expect((await e.store.getRun('books', 'books-c1'))?.step).toBe('done');
    });

    it('a step that keeps failing ends the run through abandon after the last attempt', async () => {
      const e = await env();
      const { runner, calls } = fakeRunner(e.store, () => {
        throw new Error('boom');
      });
      await e.startWorker(runner);
      await e.scheduler.queue.add('loop-run', { domain: 'books', trigger: 'manual', runId: 'books-f1' }, { jobId: 'run.books-f1', attempts: 2, backoff: { type: 'fixed', delay: 50 } });
      await eventually(() => calls.abandon, (x) => x.length === 1, { what: 'the run abandoned' });
      expect(calls.advance).toEqual(['books-f1', 'books-f1']);
      expect(await e.scheduler.queue.getJobState('run.books-f1')).toBe('failed');
    });

    if (kind === 'redis-server') {
      it('runIdOfJob: a scheduler job id gives a runId of its domain and firing time; a given runId wins', () => {
        const firing = (domain: string, at: number) => runIdOfJob({ id: `repeat:loop.${domain}:${at}`, data: { domain, trigger: 'schedule' }, timestamp: 5 });
        expect(firing('books', 1_700_000_000_000)).toMatch(/^20231114T221320-[0-9a-f]{8}$/);
        expect(firing('books', 1_700_000_000_000)).toBe(firing('books', 1_700_000_000_000));
        expect(firing('films', 1_700_000_000_000)).not.toBe(firing('books', 1_700_000_000_000));
        expect(firing('books', 1_700_000_000_001)).not.toBe(firing('books', 1_700_000_000_000));
        expect(runIdOfJob({ id: 'run.x', data: { domain: 'books', trigger: 'manual', runId: 'x' }, timestamp: 5 })).toBe('x');
      });
    }
  });
}
