/**
 * The loop's admin service on the in-memory loop store and a RunScheduler double: what each operator action
 * stores, queues and audits, and the refusals (no queue, a run in progress, a pinned domain, unknown things).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createLoopService, type LoopService } from '../../src/loop/loop-service.js';
import type { AuditRecord, LoopRun, LoopStore } from '../../src/loop/ports.js';
import { createMemoryLoopStore } from '../../src/store/memory-loop-store.js';
import { InvalidInputError, NotFoundError } from '../../src/errors.js';
import { createFakeRunScheduler, type FakeRunScheduler } from '../support/fake-run-scheduler.js';

const T0 = Date.UTC(2026, 11, 4, 12);
const DAY = 86_400_000;

function setup(opts: { scheduler?: boolean } = {}) {
  let now = T0;
  const clock = { now: () => now };
  const store = createMemoryLoopStore();
  const scheduler = opts.scheduler === false ? null : createFakeRunScheduler(clock.now);
  const versions = new Set(['movies/v1', 'movies/v2']);
  const active: Record<string, string> = { movies: 'v1' };
  const stopped: string[] = [];
  const cancelled: string[] = [];
  const audits: AuditRecord[] = [];
  let n = 0;
  const service = createLoopService({
    store,
    scheduler,
    registry: {
      get: (d, v) => Promise.resolve(versions.has(`${d}/${v}`) ? { domain: d, version: v, text: 't', parentVersion: null, createdAt: '', historyLength: 10 } : null),
      activate: (d, v) => {
        active[d] = v;
        return Promise.resolve();
      },
      activeVersions: () => ({ ...active }),
      resolve: (d) => ({ domain: d, version: active[d] ?? 'builtin', text: 't', historyLength: 10 }),
    },
    experiments: {
      stop: (id) => {
        if (!id.startsWith('canary-run-')) return Promise.reject(new NotFoundError(`experiment ${id} not found`));
        stopped.push(id);
        return Promise.resolve({} as never);
      },
    },
    jobs: { cancel: (id) => (cancelled.push(id), Promise.resolve(true)) },
    clock,
    newRunId: () => `run-${++n}`,
    exposureTtlMs: 7 * DAY,
    defaultDecisionIntervalMs: 60_000,
    onAudit: (r) => audits.push(r),
  });
  return { service, store, scheduler, clock, active, stopped, cancelled, audits, tick: (ms: number) => (now += ms) };
}

type Setup = ReturnType<typeof setup>;
let s: Setup;
let service: LoopService;
let store: LoopStore;
let queue: FakeRunScheduler;
beforeEach(() => {
  s = setup();
  ({ service, store } = s);
  queue = s.scheduler!;
});

const kinds = async (domain: string) => (await store.listAudit(domain, { limit: 100 })).map((r) => `${r.kind}:${r.actor}`).reverse();

describe('loop service: schedules', () => {
  it('creates (201-worthy), replaces, queues and audits a schedule', async () => {
    const first = await service.putSchedule('movies', { every: '6h', window: '3d' });
    expect(first.created).toBe(true);
    expect(first.schedule).toMatchObject({ domain: 'movies', everyMs: 6 * 3_600_000, cron: null, windowMs: 3 * DAY, source: 'api', paused: false, pinned: null, currentRun: null });
    expect(first.schedule.rollout.decisionIntervalMs).toBe(60_000);
    expect(first.schedule.nextRunAt).toBe(new Date(T0 + 6 * 3_600_000).toISOString());
    s.tick(1_000);
    const second = await service.putSchedule('movies', { cron: '0 3 * * *', tz: 'Europe/Paris', window: '1d' });
    expect(second.created).toBe(false);
    expect(second.schedule).toMatchObject({ everyMs: null, cron: '0 3 * * *', tz: 'Europe/Paris', createdAt: T0, updatedAt: T0 + 1_000 });
    expect(queue.calls.filter((c) => c.op === 'upsert')).toHaveLength(2);
    const trail = await store.listAudit('movies', { limit: 10 });
    expect(trail.map((r) => [r.kind, r.actor, r.data.change])).toEqual([
      ['schedule_changed', 'admin', 'replaced'],
      ['schedule_changed', 'admin', 'created'],
    ]);
    expect(trail[0]?.message).toContain('cron "0 3 * * *" (Europe/Paris), window 1d');
    expect(s.audits).toHaveLength(2);
  });

  it('refuses a bad draft without storing or queueing anything', async () => {
    for (const draft of [{ every: '1h', cron: '0 * * * *', window: '1d' }, { cron: '61 * * * *', window: '1d' }, { every: '1h', window: '8d' }, { every: '1h', window: '1d', params: { domain: 'books' } }]) {
      await expect(service.putSchedule('movies', draft)).rejects.toBeInstanceOf(InvalidInputError);
    }
    expect(await store.getSchedule('movies')).toBeNull();
    expect(queue.calls).toEqual([]);
    expect(await kinds('movies')).toEqual([]);
  });

  it('without a queue: writes are 409 SCHEDULES_UNAVAILABLE, reads work, pins work', async () => {
    const { service: bare } = setup({ scheduler: false });
    expect(bare.schedulesAvailable).toBe(false);
    await expect(bare.putSchedule('movies', { every: '1h', window: '1d' })).rejects.toMatchObject({ code: 'SCHEDULES_UNAVAILABLE', kind: 'conflict' });
    await expect(bare.runNow('movies')).rejects.toMatchObject({ code: 'SCHEDULES_UNAVAILABLE' });
    expect(await bare.listSchedules()).toEqual([]);
    expect(await bare.pin('movies', 'v2', 'freeze')).toMatchObject({ version: 'v2' });
    expect(await bare.applyConfigSchedules([{ domain: 'movies', every: '1h', window: '1d' }])).toEqual({ changed: [], unchanged: [], unavailable: true });
  });

  it('pause and resume: the queue drops and regains the job scheduler, each action audited', async () => {
    await service.putSchedule('movies', { every: '1h', window: '1d' });
    const paused = await service.pause('movies');
    expect([paused.paused, paused.nextRunAt]).toEqual([true, null]);
    expect(queue.active.has('movies')).toBe(false);
    await service.pause('movies');
    const resumed = await service.resume('movies');
    expect([resumed.paused, resumed.nextRunAt !== null]).toEqual([false, true]);
    const trail = await store.listAudit('movies', { limit: 10 });
    expect(trail.slice(0, 3).map((r) => [r.kind, r.data.changed])).toEqual([['resumed', true], ['paused', false], ['paused', true]]);
    await expect(service.pause('books')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('delete removes the job scheduler and cancels the run in progress, stopping its canary', async () => {
    await service.putSchedule('movies', { every: '1h', window: '1d' });
    const { runId } = await service.runNow('movies');
    const run = (await store.currentRun('movies')) as LoopRun;
    expect(await store.updateRun({ ...run, step: 'decide', experimentId: `canary-${runId}`, candidateVersion: 'v2' })).toBe(true);
    await service.deleteSchedule('movies');
    expect(queue.active.has('movies')).toBe(false);
    expect(await store.getSchedule('movies')).toBeNull();
    expect(s.stopped).toEqual([`canary-${runId}`]);
    expect(await store.currentRun('movies')).toMatchObject({ runId, step: 'done', outcome: 'cancelled' });
    expect(await kinds('movies')).toEqual(['schedule_changed:admin', 'run_started:admin', 'run_ended:admin', 'schedule_changed:admin']);
    await expect(service.deleteSchedule('movies')).rejects.toBeInstanceOf(NotFoundError);
    // Its runs stay readable after the schedule is gone.
    expect((await service.listRuns('movies', 10)).map((r) => r.outcome)).toEqual(['cancelled']);
  });

  it('deleting during training cancels the training job', async () => {
    await service.putSchedule('movies', { every: '1h', window: '1d' });
    const { runId } = await service.runNow('movies');
    const run = (await store.currentRun('movies')) as LoopRun;
    await store.updateRun({ ...run, step: 'train', trainingJobId: `loop-${runId}` });
    await service.deleteSchedule('movies');
    expect(s.cancelled).toEqual([`loop-${runId}`]);
  });
});

describe('loop service: runs and pins', () => {
  it('run now begins the run (manual, base = active version) and queues it; a second one is 409 RUN_IN_PROGRESS', async () => {
    await expect(service.runNow('movies')).rejects.toBeInstanceOf(NotFoundError);
    await service.putSchedule('movies', { every: '1h', window: '1d' });
    const { runId } = await service.runNow('movies');
    expect(await store.currentRun('movies')).toMatchObject({ runId, trigger: 'manual', step: 'dataset', baseVersion: 'v1', schedule: { everyMs: 3_600_000 } });
    expect(queue.calls.at(-1)).toEqual({ op: 'runNow', domain: 'movies', runId });
    await expect(service.runNow('movies')).rejects.toMatchObject({ code: 'RUN_IN_PROGRESS' });
    expect((await service.getSchedule('movies')).currentRun).toMatchObject({ runId, step: 'dataset', outcome: null });
    expect(await service.countActiveRuns()).toBe(1);
  });

  it('a run the queue refuses ends failed, and the error reaches the caller', async () => {
    await service.putSchedule('movies', { every: '1h', window: '1d' });
    queue.failNextRunNow();
    await expect(service.runNow('movies')).rejects.toThrow(/queue unavailable/);
    expect(await store.currentRun('movies')).toMatchObject({ step: 'done', outcome: 'failed' });
    expect(await service.countActiveRuns()).toBe(0);
    expect((await service.runNow('movies')).runId).toBe('run-2');
  });

  it('pin activates the version when needed; a pinned domain cannot run; unpin allows it again', async () => {
    await service.putSchedule('movies', { every: '1h', window: '1d' });
    await expect(service.pin('movies', 'v9')).rejects.toBeInstanceOf(NotFoundError);
    expect(await service.pin('movies', 'v2', 'incident 42')).toEqual({ domain: 'movies', version: 'v2', reason: 'incident 42', at: T0 });
    expect(s.active.movies).toBe('v2');
    expect(await service.isPinned('movies')).toBe(true);
    await expect(service.runNow('movies')).rejects.toMatchObject({ code: 'DOMAIN_PINNED' });
    expect((await service.getSchedule('movies')).pinned).toMatchObject({ version: 'v2' });
    await service.pin('movies', 'v2');
    await service.unpin('movies');
    await expect(service.unpin('movies')).rejects.toBeInstanceOf(NotFoundError);
    expect(await service.listPins()).toEqual([]);
    const pins = (await store.listAudit('movies', { limit: 10 })).filter((r) => r.kind !== 'schedule_changed');
    expect(pins.map((r) => [r.kind, r.data.activated])).toEqual([['unpinned', undefined], ['pinned', false], ['pinned', true]]);
    expect(pins[2]?.data).toMatchObject({ previousVersion: 'v1', reason: 'incident 42' });
    await service.runNow('movies');
  });

  it('audit pages with `next` until the trail ends, and filters by run', async () => {
    await service.putSchedule('movies', { every: '1h', window: '1d' });
    for (let i = 0; i < 4; i++) {
      s.tick(1);
      await service.pause('movies');
    }
    const { runId } = await service.runNow('movies');
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await service.listAudit('movies', { limit: 2, before });
      seen.push(...page.records.map((r) => r.id));
      if (!page.next) break;
      expect(page.records).toHaveLength(2);
      before = page.next;
    }
    expect(seen).toHaveLength(6);
    expect([...seen].sort().reverse()).toEqual(seen);
    expect((await service.listAudit('movies', { limit: 10, runId })).records.map((r) => r.kind)).toEqual(['run_started']);
    expect(await service.listAudit('nothing', { limit: 10 })).toEqual({ records: [], next: null });
    await expect(service.listRuns('nothing', 10)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('loop service: LOOP_SCHEDULES at start', () => {
  it('writes what changed, leaves what did not (no audit), keeps an API pause, restores a lost job scheduler', async () => {
    const list = [{ domain: 'movies', every: '1h', window: '1d' }, { domain: 'books', cron: '0 3 * * *', window: '2d', gate: { minDelta: 0.01 } }];
    expect(await service.applyConfigSchedules(list)).toEqual({ changed: ['movies', 'books'], unchanged: [], unavailable: false });
    expect((await service.getSchedule('books')).source).toBe('config');
    const upserts = queue.calls.length;
    expect(await service.applyConfigSchedules(list)).toEqual({ changed: [], unchanged: ['movies', 'books'], unavailable: false });
    expect(queue.calls).toHaveLength(upserts);
    expect(await kinds('movies')).toEqual(['schedule_changed:config']);

    await service.pause('movies');
    queue.active.delete('books');
    expect((await service.applyConfigSchedules(list)).unchanged).toEqual(['movies', 'books']);
    expect((await service.getSchedule('movies')).paused).toBe(true);
    expect(queue.active.has('books')).toBe(true);

    const changed = await service.applyConfigSchedules([{ ...list[0]!, window: '2d' }]);
    expect(changed.changed).toEqual(['movies']);
    expect(await kinds('movies')).toEqual(['schedule_changed:config', 'paused:admin', 'schedule_changed:config']);
    await expect(service.applyConfigSchedules([{ domain: 'x', every: '10s', window: '1d' }])).rejects.toBeInstanceOf(InvalidInputError);
  });
});
