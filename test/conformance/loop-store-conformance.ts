/**
 * One conformance suite for the LoopStore port, run against every adapter (memory, Redis, Redis Cluster):
 * schedules and pins (round trip, listing, a listing index with holes), beginRun's refusals, updateRun's
 * compare-and-set (also under concurrency), recent runs and the audit trail (order, caps, paging, runId filter).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOOP_AUDIT_KEPT, LOOP_RUNS_KEPT } from '../../src/loop/ports.js';
import type { AuditRecord, LoopRun, LoopStore, Pin, Schedule } from '../../src/loop/ports.js';
import type { PortHarness } from './port-harness.js';

/** What a harness builds: the store and, where the adapter has a listing index, a way to leave a hole in it. */
export interface LoopStoreUnderTest {
  store: LoopStore;
  /** Lists `domain` in the index of schedules or pins without writing its schedule or pin. */
  indexHole?: (index: 'schedules' | 'pins', domain: string) => Promise<void>;
  /** The same storage through another connection (another replica); the memory store is its own twin. */
  twin?: LoopStore;
}

/** A domain name no key spelling should trip on. */
export const HOSTILE_DOMAIN = 'mo:vi{es} "é"\u001f';

/** A schedule with every optional field set and a number that needs all 17 digits. */
export function schedule(domain: string, over: Partial<Schedule> = {}): Schedule {
  return {
    domain,
    everyMs: 86_400_000,
    windowMs: 604_800_000,
    params: { iterations: 3, nested: { lr: 0.1 + 0.2 } },
    gate: { minDelta: -0.005, holdoutShare: 0.2, minHoldoutUsers: 20, bootstrapIterations: 2000 },
    rollout: { share: 0.1, maxDurationMs: 604_800_000, decisionIntervalMs: 60_000, guardrails: { maxFallbackRate: 0.05, minExposures: 1000 } },
    paused: false,
    source: 'api',
    createdAt: 1_700_000_000_123,
    updatedAt: 1_700_000_000_456,
    ...over,
  } as Schedule;
}

/** A run at its first step; `done` sets a finished run. */
export function run(runId: string, over: Partial<LoopRun> = {}, domain = 'movies'): LoopRun {
  return { runId, domain, trigger: 'schedule', startedAt: 1_000, updatedAt: 1_000, step: 'dataset', baseVersion: 'v1', schedule: schedule(domain), ...over };
}

/** The same run, finished. */
export function finished(r: LoopRun, outcome: LoopRun['outcome'] = 'not_better'): LoopRun {
  return { ...r, step: 'done', outcome, reason: 'gate: ci95 lower bound −0.01 ≤ 0', finishedAt: r.startedAt + 10 };
}

/** An audit record with the contract's id spelling (`<at, 13 digits>-<seq>`). */
export function audit(at: number, seq: number, over: Partial<AuditRecord> = {}): AuditRecord {
  return { id: `${String(at).padStart(13, '0')}-${seq}`, at, domain: 'movies', kind: 'gated', runId: 'r1', actor: 'loop', message: `record ${at}-${seq}`, data: { diff: 0.1 + 0.2, ci95: [-0.01, 0.02] }, ...over };
}

export function describeLoopStoreConformance(name: string, harness: PortHarness<LoopStoreUnderTest>): void {
  describe(`LoopStore conformance: ${name}`, () => {
    beforeAll(() => harness.start());
    afterAll(() => harness.stop());

    it('schedules: put, replace, get, list by domain, delete; copies in and out', async () => {
      const { store } = await harness.create();
      const cron = schedule(HOSTILE_DOMAIN, { everyMs: undefined, cron: '0 3 * * *', tz: 'Europe/Paris', source: 'config' } as Partial<Schedule>);
      await store.putSchedule(schedule('movies'));
      await store.putSchedule(cron);
      expect(await store.getSchedule('movies')).toEqual(schedule('movies'));
      expect(await store.getSchedule(HOSTILE_DOMAIN)).toEqual(cron);
      expect(await store.getSchedule('books')).toBeNull();
      await store.putSchedule(schedule('books', { paused: true }));
      expect((await store.listSchedules()).map((s) => s.domain)).toEqual(['books', 'movies', HOSTILE_DOMAIN].sort());
      await store.putSchedule(schedule('movies', { windowMs: 3_600_000, updatedAt: 2 }));
      expect(await store.getSchedule('movies')).toMatchObject({ windowMs: 3_600_000, updatedAt: 2 });
      expect(await store.listSchedules()).toHaveLength(3);
      // What the caller passed or got is not the stored copy.
      const got = (await store.getSchedule('books')) as Schedule;
      got.gate.minDelta = 42;
      const passed = schedule('music');
      await store.putSchedule(passed);
      passed.params.iterations = 99;
      expect((await store.getSchedule('books'))?.gate.minDelta).toBe(-0.005);
      expect((await store.getSchedule('music'))?.params.iterations).toBe(3);
      expect(await store.deleteSchedule('books')).toBe(true);
      expect(await store.deleteSchedule('books')).toBe(false);
      expect(await store.getSchedule('books')).toBeNull();
      expect((await store.listSchedules()).map((s) => s.domain)).toEqual(['movies', 'music', HOSTILE_DOMAIN].sort());
    });

    it('listings skip a domain the index names but whose schedule or pin is gone', async () => {
      const { store, indexHole } = await harness.create();
      await store.putSchedule(schedule('movies'));
      await store.setPin('movies', { domain: 'movies', version: 'v3', reason: 'hold', at: 5 });
      // The memory store has no index: a hole cannot exist there, and the listings must still read the same.
      await indexHole?.('schedules', 'ghost');
      await indexHole?.('pins', 'ghost');
      expect((await store.listSchedules()).map((s) => s.domain)).toEqual(['movies']);
      expect((await store.listPins()).map((p) => p.domain)).toEqual(['movies']);
    });

    it('a put racing a delete (two replicas) never leaves a stored schedule or pin out of the listing', async () => {
      const { store, twin = store } = await harness.create();
      const pin = (at: number): Pin => ({ domain: 'movies', version: 'v1', reason: '', at });
      for (let round = 0; round < 60; round++) {
        // The put starts 0–3 event-loop turns after the delete, so its two writes land at every point of the delete's three.
        const late = async (turns: number, op: () => Promise<unknown>) => {
          for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
          return op();
        };
        await store.putSchedule(schedule('movies', { updatedAt: round }));
        await store.setPin('movies', pin(round));
        await Promise.all([store.deleteSchedule('movies'), late(round % 4, () => twin.putSchedule(schedule('movies', { updatedAt: round + 100 })))]);
        await Promise.all([store.setPin('movies', null), late(round % 4, () => twin.setPin('movies', pin(round + 100)))]);
        const stored = await store.getSchedule('movies');
        expect(await store.listSchedules()).toEqual(stored ? [stored] : []);
        const pinned = await store.getPin('movies');
        expect(await store.listPins()).toEqual(pinned ? [pinned] : []);
      }
    });

    it('pins: set, replace, get, list by domain, unset (false when not pinned)', async () => {
      const { store } = await harness.create();
      const pin: Pin = { domain: HOSTILE_DOMAIN, version: 'v:{2}', reason: 'incident 42 "freeze"', at: 1_700_000_000_001 };
      expect(await store.setPin(HOSTILE_DOMAIN, pin)).toBe(true);
      expect(await store.setPin('books', { domain: 'books', version: 'v1', reason: '', at: 1 })).toBe(true);
      expect(await store.getPin(HOSTILE_DOMAIN)).toEqual(pin);
      expect(await store.getPin('movies')).toBeNull();
      expect((await store.listPins()).map((p) => p.domain)).toEqual(['books', HOSTILE_DOMAIN].sort());
      expect(await store.setPin('books', { domain: 'books', version: 'v2', reason: 'newer', at: 2 })).toBe(true);
      expect((await store.getPin('books'))?.version).toBe('v2');
      expect(await store.setPin('books', null)).toBe(true);
      expect(await store.setPin('books', null)).toBe(false);
      expect(await store.setPin('never', null)).toBe(false);
      expect(await store.listPins()).toEqual([pin]);
    });

    it('beginRun refuses while a run is not done (resolving it, storing nothing); the same runId resolves the stored run', async () => {
      const { store } = await harness.create();
      const first = run('r1', { schedule: schedule('movies', { params: { x: 1 / 3 } }) });
      expect(await store.beginRun(first)).toBeNull();
      expect(await store.currentRun('movies')).toEqual(first);
      expect(await store.beginRun(run('r2'))).toEqual(first);
      expect(await store.getRun('movies', 'r2')).toBeNull();
      expect(await store.currentRun('movies')).toEqual(first);
      const trained = { ...first, step: 'gate' as const, trainingJobId: 'loop-r1', candidateVersion: 'v2', updatedAt: 2_000 };
      expect(await store.updateRun(trained)).toBe(true);
      // A re-delivered firing of r1 is not a second run: it gets r1 as stored now.
      expect(await store.beginRun(run('r1'))).toEqual(trained);
      expect(await store.currentRun('movies')).toEqual(trained);
      // Other domains are independent.
      expect(await store.beginRun(run('r9', {}, 'books'))).toBeNull();
      expect(await store.currentRun('music')).toBeNull();
    });

    it('updateRun is a compare-and-set: another runId or a done run changes nothing', async () => {
      const { store } = await harness.create();
      expect(await store.updateRun(run('r1'))).toBe(false);
      expect(await store.currentRun('movies')).toBeNull();
      await store.beginRun(run('r1'));
      expect(await store.updateRun(run('r2', { step: 'train' }))).toBe(false);
      expect(await store.getRun('movies', 'r2')).toBeNull();
      const gate = { passed: true, users: 31, activeNdcg: 0.41, candidateNdcg: 0.1 + 0.35, diff: 0.04000000000000001, ci95: [0.01, 0.07] as [number, number], minDelta: 0, llmCalls: 620 };
      const full = finished(
        run('r1', {
          dataset: { path: '/d/r1.jsonl', holdoutPath: '/d/r1.holdout.jsonl', rows: 1200, users: 150, holdoutUsers: 31, skipped: { noEvents: 3 } },
          trainingJobId: 'loop-r1',
          candidateVersion: 'v2',
          gate,
          experimentId: 'canary-r1',
          canaryStartedAt: 5_000,
        }),
        'promoted',
      );
      expect(await store.updateRun(full)).toBe(true);
      expect(await store.getRun('movies', 'r1')).toEqual(full);
      expect(await store.updateRun({ ...full, reason: 'late writer' })).toBe(false);
      expect(await store.updateRun({ ...full, step: 'decide', outcome: undefined })).toBe(false);
      expect(await store.currentRun('movies')).toEqual(full);
      expect(await store.listRuns('movies', 10)).toEqual([full]);
    });

    it('a run reaching done joins the recent runs and frees beginRun; an old runId is not begun again', async () => {
      const { store } = await harness.create();
      await store.beginRun(run('r1'));
      expect(await store.listRuns('movies', 10)).toEqual([run('r1')]);
      await store.updateRun(finished(run('r1')));
      expect(await store.beginRun(run('r2', { startedAt: 2_000 }))).toBeNull();
      expect((await store.listRuns('movies', 10)).map((r) => [r.runId, r.step])).toEqual([['r2', 'dataset'], ['r1', 'done']]);
      expect((await store.listRuns('movies', 1)).map((r) => r.runId)).toEqual(['r2']);
      expect(await store.listRuns('movies', 0)).toEqual([]);
      expect(await store.listRuns('books', 10)).toEqual([]);
      await store.updateRun(finished(run('r2', { startedAt: 2_000 }), 'no_data'));
      expect(await store.beginRun(run('r1'))).toEqual(finished(run('r1')));
      expect((await store.currentRun('movies'))?.runId).toBe('r2');
      // A run begun already done (skipped at once) is current and recent.
      const skipped = finished(run('r3'), 'pinned');
      expect(await store.beginRun(skipped)).toBeNull();
      expect((await store.listRuns('movies', 10)).map((r) => r.runId)).toEqual(['r3', 'r2', 'r1']);
      expect(await store.getRun('movies', 'r2')).toMatchObject({ outcome: 'no_data' });
      // Copies: mutating what was got does not change what is stored.
      const got = (await store.listRuns('movies', 1))[0] as LoopRun;
      got.schedule.gate.minDelta = 7;
      expect((await store.getRun('movies', 'r3'))?.schedule.gate.minDelta).toBe(-0.005);
    });

    it(`keeps the last ${LOOP_RUNS_KEPT} finished runs, newest first`, async () => {
      const { store } = await harness.create();
      const total = LOOP_RUNS_KEPT + 3;
      for (let i = 0; i < total; i++) {
        expect(await store.beginRun(run(`r${i}`, { startedAt: i }))).toBeNull();
        expect(await store.updateRun(finished(run(`r${i}`, { startedAt: i })))).toBe(true);
      }
      await store.beginRun(run('live', { startedAt: total }));
      const listed = await store.listRuns('movies', 1_000);
      expect(listed).toHaveLength(LOOP_RUNS_KEPT + 1);
      expect(listed.map((r) => r.runId)).toEqual(['live', ...Array.from({ length: LOOP_RUNS_KEPT }, (_, i) => `r${total - 1 - i}`)]);
      expect(await store.getRun('movies', 'r2')).toBeNull();
      expect(await store.getRun('movies', 'r3')).toMatchObject({ step: 'done' });
    });

    it('concurrent beginRun of 10 runs: exactly one wins, the others get it; concurrent finishing: exactly one', async () => {
      const { store, twin = store } = await harness.create();
      const runs = Array.from({ length: 10 }, (_, i) => run(`c${i}`, { startedAt: i }));
      const results = await Promise.all(runs.map((r, i) => (i % 2 === 0 ? store : twin).beginRun(r)));
      const winner = runs[results.indexOf(null)] as LoopRun;
      expect(results.filter((r) => r === null)).toHaveLength(1);
      expect(results.filter((r) => r !== null)).toEqual(Array.from({ length: 9 }, () => winner));
      expect(await store.currentRun('movies')).toEqual(winner);
      const endings = (['promoted', 'rolled_back', 'failed', 'cancelled'] as const).map((o) => finished(winner, o));
      const updated = await Promise.all(endings.map((r, i) => (i % 2 === 0 ? store : twin).updateRun(r)));
      expect(updated.filter(Boolean)).toHaveLength(1);
      expect(await store.listRuns('movies', 10)).toEqual([endings[updated.indexOf(true)]]);
    });

    it('audit: newest first, isolated by domain, copies out; limit 0 is empty', async () => {
      const { store } = await harness.create();
      const records = [audit(1_000, 0, { runId: null, kind: 'schedule_changed', actor: 'admin' }), audit(2_000, 0), audit(2_000, 1, { data: { nested: { a: [1, 'x'] } } })];
      for (const r of records) await store.appendAudit(r);
      await store.appendAudit(audit(1_500, 0, { domain: HOSTILE_DOMAIN }));
      expect(await store.listAudit('movies', { limit: 10 })).toEqual([...records].reverse());
      expect(await store.listAudit(HOSTILE_DOMAIN, { limit: 10 })).toEqual([audit(1_500, 0, { domain: HOSTILE_DOMAIN })]);
      expect(await store.listAudit('books', { limit: 10 })).toEqual([]);
      expect(await store.listAudit('movies', { limit: 0 })).toEqual([]);
      const got = (await store.listAudit('movies', { limit: 1 }))[0] as AuditRecord;
      got.data.nested = 'mutated';
      expect((await store.listAudit('movies', { limit: 1 }))[0]?.data).toEqual({ nested: { a: [1, 'x'] } });
    });

    it('audit: pages by `before`, filters by runId, orders by id even when appended out of order', async () => {
      const { store } = await harness.create();
      const order = [3, 1, 2, 5, 4, 8, 6, 7, 10, 9, 11, 12];
      for (const i of order) await store.appendAudit(audit(1_000 + i, 0, { runId: i % 3 === 0 ? 'r3' : i % 3 === 1 ? 'r1' : null }));
      const pages: string[][] = [];
      let before: string | undefined;
      for (;;) {
        const page = await store.listAudit('movies', { limit: 5, before });
        if (page.length === 0) break;
        pages.push(page.map((r) => r.id));
        before = page[page.length - 1]?.id;
      }
      const ids = (i: number) => audit(1_000 + i, 0).id;
      expect(pages).toEqual([[12, 11, 10, 9, 8].map(ids), [7, 6, 5, 4, 3].map(ids), [2, 1].map(ids)]);
      expect((await store.listAudit('movies', { limit: 10, runId: 'r3' })).map((r) => r.id)).toEqual([12, 9, 6, 3].map(ids));
      expect((await store.listAudit('movies', { limit: 2, runId: 'r1', before: ids(10) })).map((r) => r.id)).toEqual([7, 4].map(ids));
      expect(await store.listAudit('movies', { limit: 10, runId: 'nope' })).toEqual([]);
      // `before` need not be a stored id: any id-shaped cursor cuts by order.
      expect((await store.listAudit('movies', { limit: 10, before: '0000000001004-5' })).map((r) => r.id)).toEqual([4, 3, 2, 1].map(ids));
    });

    it(`audit keeps the last ${LOOP_AUDIT_KEPT} records of a domain`, async () => {
      const { store } = await harness.create();
      const total = LOOP_AUDIT_KEPT + 5;
      for (let i = 0; i < total; i++) await store.appendAudit(audit(10_000 + i, 0, { data: {} }));
      const all = await store.listAudit('movies', { limit: 10_000 });
      expect(all).toHaveLength(LOOP_AUDIT_KEPT);
      expect(all[0]?.at).toBe(10_000 + total - 1);
      expect(all[all.length - 1]?.at).toBe(10_005);
      // The cap keeps the greatest ids: a late record older than all kept is dropped, a late one in between
      // takes its place and pushes the oldest out.
      await store.appendAudit(audit(10_002, 9, { data: {} }));
      await store.appendAudit(audit(10_500, 9, { data: {} }));
      const after = await store.listAudit('movies', { limit: 10_000 });
      expect(after).toHaveLength(LOOP_AUDIT_KEPT);
      expect(after.map((r) => r.id)).not.toContain(audit(10_002, 9).id);
      expect(after[after.length - 1]?.at).toBe(10_006);
      expect(after.findIndex((r) => r.id === audit(10_500, 9).id)).toBe(after.findIndex((r) => r.id === audit(10_500, 0).id) - 1);
    });
  });
}
