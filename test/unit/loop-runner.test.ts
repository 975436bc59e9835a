/**
 * The loop's step machine against a fake world (test/support/loop-world.ts): every outcome, the audit trail
 * with its numbers, people acting in the middle (stop, pin, cancel), and crashes after every single store
 * write, resumed from the stored run without a second training job, canary or promotion.
 */
import { describe, expect, it, vi } from 'vitest';
import { abandonRun, advanceRun, canaryIdOf, newRunRecord, startRun, trainingJobIdOf } from '../../src/loop/loop-runner.js';
import type { AuditRecord, LoopRun } from '../../src/loop/ports.js';
import { BASE, createLoopWorld, DAY, DOMAIN, testSchedule, type LoopWorld } from '../support/loop-world.js';

const kinds = async (w: LoopWorld, runId?: string): Promise<string[]> =>
  (await w.store.listAudit(DOMAIN, { limit: 1000, runId })).map((r) => r.kind).reverse();
const record = async (w: LoopWorld, kind: string): Promise<AuditRecord | undefined> =>
  (await w.store.listAudit(DOMAIN, { limit: 1000 })).find((r) => r.kind === kind);

describe('advanceRun: outcomes', () => {
  it('happy path: dataset, training, gate, canary, promotion, with the numbers in the audit trail', async () => {
    const w = createLoopWorld();
    const run = await w.begin();
    const done = await w.drive(run);
    expect(done).toMatchObject({ step: 'done', outcome: 'promoted', trainingJobId: trainingJobIdOf(run), experimentId: canaryIdOf(run) });
    expect(done.reason).toMatch(/decision says treatment \(p = 0\.003\)/);
    expect(w.active.get(DOMAIN)).toBe(done.candidateVersion);
    expect(done.candidateVersion).toMatch(/^books-trained-loop-books-/);
    expect(await kinds(w, run.runId)).toEqual(['run_started', 'dataset_built', 'trained', 'gated', 'candidate_registered', 'canary_started', 'promoted', 'run_ended']);
    expect((await record(w, 'dataset_built'))?.data).toMatchObject({ rows: 1000, holdoutUsers: 40, trainRows: 960, skipped: { noPositive: 3 } });
    const gated = await record(w, 'gated');
    expect(gated?.data).toMatchObject({ passed: true, users: 40, minDelta: 0, llmCalls: 160 });
    expect(gated?.data.diff as number).toBeCloseTo(0.1, 3);
    expect((gated?.data.ci95 as number[])[0]).toBeGreaterThan(0);
    expect((await record(w, 'candidate_registered'))?.data).toMatchObject({ version: done.candidateVersion, parentVersion: BASE, jobId: trainingJobIdOf(run) });
    expect((await record(w, 'canary_started'))?.data).toMatchObject({ experimentId: canaryIdOf(run), share: 0.1, control: BASE, candidate: done.candidateVersion });
    expect((await record(w, 'run_ended'))?.data).toMatchObject({ outcome: 'promoted', decision: 'treatment', pValue: 0.003 });
    const exp = await w.experimentStore.get(canaryIdOf(run));
    expect(exp).toMatchObject({ state: 'stopped', trafficShare: 0.1, stopReason: { kind: 'promoted', arm: 'candidate' } });
    expect(exp?.arms).toEqual([
      { name: 'control', method: 'agp', promptVersion: BASE },
      { name: 'candidate', method: 'agp', promptVersion: done.candidateVersion },
    ]);
    expect(w.counts).toMatchObject({ builds: 1, jobsCreated: 1, submits: 1, evaluations: 2, creates: 1, promotes: 1 });
    // The window ends when the run started and is the schedule's window long.
    expect((await record(w, 'dataset_built'))?.data).toMatchObject({ until: new Date(run.startedAt).toISOString(), since: new Date(run.startedAt - 7 * DAY).toISOString() });
  });

  it('not better: the gate fails, the run ends not_better and no canary starts', async () => {
    const w = createLoopWorld();
    w.lift = -0.02;
    const done = await w.drive(await w.begin());
    expect(done).toMatchObject({ outcome: 'not_better', step: 'done' });
    expect(done.gate?.passed).toBe(false);
    expect(done.reason).toMatch(/not better: NDCG@10 .* on 40 held-out users/);
    expect(w.counts.creates).toBe(0);
    expect(w.active.get(DOMAIN)).toBe(BASE);
    expect(await kinds(w)).toEqual(['run_started', 'dataset_built', 'trained', 'gated', 'run_ended']);
  });

  it('a gate with a looser minDelta passes a candidate that is merely not worse', async () => {
    const w = createLoopWorld();
    w.lift = 0;
    const loose = await w.drive(await w.begin(testSchedule({ gate: { minDelta: -0.05, holdoutShare: 0.2, minHoldoutUsers: 20, bootstrapIterations: 500 } })));
    expect(loose.gate).toMatchObject({ passed: true, minDelta: -0.05 });
  });

  it('no data: an empty window ends no_data with one record and nothing trained', async () => {
    const w = createLoopWorld();
    w.rows = 0;
    const done = await w.drive(await w.begin());
    expect(done).toMatchObject({ outcome: 'no_data', step: 'done' });
    expect(done.reason).toMatch(/no exposure with a positive event in the last 7d/);
    expect(w.counts.submits).toBe(0);
    expect(await kinds(w)).toEqual(['run_started', 'run_ended']);
  });

  it('no data: fewer held-out users than gate.minHoldoutUsers', async () => {
    const w = createLoopWorld();
    w.holdoutUsers = 5;
    const done = await w.drive(await w.begin());
    expect(done).toMatchObject({ outcome: 'no_data' });
    expect(done.reason).toBe('5 held-out users, fewer than gate.minHoldoutUsers (20)');
    expect(w.counts.submits).toBe(0);
  });

  it('training failed: the run ends failed with the job error, and waited one poll interval for it', async () => {
    const w = createLoopWorld();
    w.trainResult = 'failed';
    const waits: number[] = [];
    const done = await w.drive(await w.begin(), (_r, ms) => void waits.push(ms));
    expect(done).toMatchObject({ outcome: 'failed', reason: 'training failed: the LLM said no' });
    expect(waits).toEqual([0, 10_000]);
    expect(w.counts.evaluations).toBe(0);
  });

  it('decision control: the canary is stopped and rolled back, the active version unchanged', async () => {
    const w = createLoopWorld();
    w.decision = 'control';
    const done = await w.drive(await w.begin());
    expect(done).toMatchObject({ outcome: 'rolled_back' });
    expect(done.reason).toMatch(/says control/);
    expect(w.active.get(DOMAIN)).toBe(BASE);
    expect((await w.experimentStore.get(done.experimentId ?? ''))?.state).toBe('stopped');
    expect(await kinds(w)).toContain('rolled_back');
  });

  it('a guardrail stop (the experiments look) rolls back with the guardrail message', async () => {
    const w = createLoopWorld();
    w.decision = 'inconclusive';
    const done = await w.drive(await w.begin(), async (run) => {
      if (run.step === 'decide' && run.experimentId) {
        await w.experimentStore.stop(run.experimentId, w.clock.t, { kind: 'guardrail', arm: 'candidate', message: 'arm candidate: fallback rate 0.2 > 0.05' });
      }
    });
    expect(done).toMatchObject({ outcome: 'rolled_back', reason: 'guardrail: arm candidate: fallback rate 0.2 > 0.05' });
    expect(w.active.get(DOMAIN)).toBe(BASE);
  });

  it('a breach in the results rolls back at once, before the look stops the experiment', async () => {
    const w = createLoopWorld();
    w.decision = 'treatment';
    w.breach = { arm: 'candidate', guardrail: 'latencyP99Ms', value: 9000, limit: 3000, reason: 'latency p99 9000 ms > 3000 ms' };
    const done = await w.drive(await w.begin());
    expect(done).toMatchObject({ outcome: 'rolled_back', reason: 'guardrail: latency p99 9000 ms > 3000 ms' });
    expect(w.active.get(DOMAIN)).toBe(BASE);
    expect((await w.experimentStore.get(done.experimentId ?? ''))?.state).toBe('stopped');
  });

  it('a person stopping the canary cancels the run', async () => {
    const w = createLoopWorld();
    w.decision = 'inconclusive';
    const done = await w.drive(await w.begin(), async (run) => {
      if (run.step === 'decide' && run.experimentId) await w.admin.stop(run.experimentId).catch(() => undefined);
    });
    expect(done).toMatchObject({ outcome: 'cancelled' });
    expect(done.reason).toMatch(/stopped by a person: stopped through the admin API/);
  });

  it('no decision before rollout.maxDuration: rolled back after it, looking every decision interval', async () => {
    const w = createLoopWorld();
    w.decision = 'inconclusive';
    let looks = 0;
    const rollout = { share: 0.1, maxDurationMs: 6 * 3_600_000, decisionIntervalMs: 7 * 60_000 };
    const done = await w.drive(await w.begin(testSchedule({ rollout })), (run) => void (run.step === 'decide' && looks++));
    expect(done).toMatchObject({ outcome: 'rolled_back', reason: 'no decision after 6h' });
    // The wait before the first look, 50 more full intervals, then the last wait cut to the deadline (3 min).
    expect(looks).toBe(52);
    expect(done.finishedAt).toBe((done.canaryStartedAt ?? 0) + rollout.maxDurationMs);
    expect(w.active.get(DOMAIN)).toBe(BASE);
  });

  it('a domain pinned before the canary ends the run pinned, with no experiment', async () => {
    const w = createLoopWorld();
    const done = await w.drive(await w.begin(), async (run) => {
      if (run.step === 'train') await w.store.setPin(DOMAIN, { domain: DOMAIN, version: BASE, reason: 'black friday', at: w.clock.t });
    });
    expect(done).toMatchObject({ outcome: 'pinned' });
    expect(done.reason).toMatch(/pinned to books-v1 \(black friday\)/);
    expect(w.counts.creates).toBe(0);
  });

  it('a canary that wins on a domain pinned meanwhile is stopped, not promoted', async () => {
    const w = createLoopWorld();
    w.decision = 'inconclusive';
    const done = await w.drive(await w.begin(), async (run) => {
      if (run.step === 'decide') {
        await w.store.setPin(DOMAIN, { domain: DOMAIN, version: BASE, reason: '', at: w.clock.t });
        w.decision = 'treatment';
      }
    });
    expect(done).toMatchObject({ outcome: 'pinned' });
    expect(w.counts.promotes).toBe(0);
    expect(w.active.get(DOMAIN)).toBe(BASE);
    expect((await w.experimentStore.get(done.experimentId ?? ''))?.state).toBe('stopped');
  });

  it('another experiment on the domain: the canary waits (audited once), then starts when it ends', async () => {
    const w = createLoopWorld();
    const other = await w.admin.create({ domain: DOMAIN, mode: 'ab', arms: [{ name: 'a', method: 'agp' }, { name: 'b', method: 'baseline' }] });
    let waits = 0;
    const done = await w.drive(await w.begin(), async (run) => {
      if (run.step === 'canary' && ++waits === 3) await w.admin.stop(other.id);
    });
    expect(done).toMatchObject({ outcome: 'promoted' });
    expect((await kinds(w)).filter((k) => k === 'skipped')).toHaveLength(1);
    expect((await record(w, 'skipped'))?.message).toMatch(/canary postponed: .*already has a running experiment/);
  });

  it('another experiment that never ends: the run is cancelled after rollout.maxDuration', async () => {
    const w = createLoopWorld();
    await w.admin.create({ domain: DOMAIN, mode: 'ab', arms: [{ name: 'a', method: 'agp' }, { name: 'b', method: 'baseline' }] });
    const done = await w.drive(await w.begin(testSchedule({ rollout: { share: 0.1, maxDurationMs: 3_600_000 } })));
    expect(done).toMatchObject({ outcome: 'cancelled' });
    expect(done.reason).toMatch(/could not start within 1h: .*already has a running experiment/);
    expect(w.counts.creates).toBeGreaterThan(1);
    await expect(w.experimentStore.get(canaryIdOf(done))).resolves.toBeNull();
  });

  it('a run cancelled by a person mid-canary stops: advancing it again does nothing', async () => {
    const w = createLoopWorld();
    w.decision = 'inconclusive';
    let run: LoopRun = await w.begin();
    while (run.step !== 'decide') run = (await advanceRun(w.deps, run)).run;
    // What the admin service does on DELETE of the schedule.
    await w.store.updateRun({ ...run, step: 'done', outcome: 'cancelled', reason: 'schedule deleted', finishedAt: w.clock.t });
    const after = await advanceRun(w.deps, run);
    expect(after.waitMs).toBeNull();
    expect(after.run).toMatchObject({ step: 'done', outcome: 'cancelled', reason: 'schedule deleted' });
    expect(await kinds(w)).not.toContain('run_ended');
  });

  it('abandonRun ends a stuck run failed and stops its canary', async () => {
    const w = createLoopWorld();
    w.decision = 'inconclusive';
    let run: LoopRun = await w.begin();
    while (run.step !== 'decide') run = (await advanceRun(w.deps, run)).run;
    const ended = await abandonRun(w.deps, run, 'step decide kept failing: boom');
    expect(ended).toMatchObject({ step: 'done', outcome: 'failed', reason: 'step decide kept failing: boom' });
    expect((await w.experimentStore.get(canaryIdOf(run)))?.state).toBe('stopped');
  });

  it('abandonRun while training cancels the training job', async () => {
    const w = createLoopWorld();
    let run: LoopRun = await w.begin();
    while (run.step !== 'train' || !run.trainingJobId) run = (await advanceRun(w.deps, run)).run;
    const cancel = vi.spyOn(w.deps.training, 'cancel');
    const ended = await abandonRun(w.deps, run, 'the worker kept crashing');
    expect(ended).toMatchObject({ step: 'done', outcome: 'failed' });
    expect(cancel).toHaveBeenCalledWith(trainingJobIdOf(run));
  });

  it('an unavailable dependency is retried after the poll interval, with nothing stored', async () => {
    const w = createLoopWorld();
    const run = await w.begin();
    const { UnavailableError } = await import('../../src/errors.js');
    w.deps.datasets.build = () => Promise.reject(new UnavailableError('exposure store down', 5));
    const r = await advanceRun(w.deps, run);
    expect(r).toMatchObject({ waitMs: 10_000, run: { step: 'dataset' } });
  });
});

describe('startRun', () => {
  it('a pinned domain or a paused schedule starts nothing (audit skipped)', async () => {
    const w = createLoopWorld();
    await expect(w.begin(testSchedule({ paused: true }))).rejects.toThrow(/paused/);
    await w.store.setPin(DOMAIN, { domain: DOMAIN, version: BASE, reason: 'freeze', at: 1 });
    await expect(w.begin()).rejects.toThrow(/pinned to books-v1/);
    expect(await kinds(w)).toEqual(['skipped', 'skipped']);
    expect(await w.store.currentRun(DOMAIN)).toBeNull();
  });

  it('one run per domain: a second firing is skipped; the same runId again resumes the stored run', async () => {
    const w = createLoopWorld();
    const first = await w.begin(testSchedule(), 'books-1');
    await advanceRun(w.deps, first);
    const again = await startRun(w.deps, newRunRecord({ runId: 'books-1', domain: DOMAIN, trigger: 'schedule', schedule: testSchedule(), baseVersion: BASE, now: 5 }));
    expect(again.run).toMatchObject({ runId: 'books-1', step: 'train' });
    const second = await startRun(w.deps, newRunRecord({ runId: 'books-2', domain: DOMAIN, trigger: 'manual', schedule: testSchedule(), baseVersion: BASE, now: 5 }));
    expect(second).toEqual({ run: null, skipped: 'run books-1 is still in progress (step train)' });
    expect(await kinds(w)).toEqual(['run_started', 'dataset_built', 'skipped']);
  });
});

describe('advanceRun: a crash after any store write resumes without a second job, canary or promotion', () => {
  // After it started, a promoted run writes the run 7 times and the audit trail 7 times: a crash after each.
  for (const op of ['updateRun', 'appendAudit'] as const) {
    for (let n = 1; n <= 7; n++) {
      it(`crash after ${op} #${n}`, async () => {
        const w = createLoopWorld();
        const run = await w.begin();
        w.crashAfter = { op, n: w.writes[op] + n };
        const { run: done, crashes } = await w.driveThroughCrashes(run);
        expect(crashes).toBe(1);
        expect(done).toMatchObject({ step: 'done', outcome: 'promoted' });
        expect(w.counts.jobsCreated).toBe(1);
        expect((await w.experimentStore.list(DOMAIN)).length).toBe(1);
        expect(w.counts.promotes).toBe(1);
        expect(w.active.get(DOMAIN)).toBe(done.candidateVersion);
        // Each kind at least once, first seen in order; a crash may repeat the records of the step it hit.
        const trail = await kinds(w, run.runId);
        expect([...new Set(trail)]).toEqual(['run_started', 'dataset_built', 'trained', 'gated', 'candidate_registered', 'canary_started', 'promoted', 'run_ended']);
      });
    }
  }

  it('the counts above cover every write of a run', async () => {
    const w = createLoopWorld();
    const before = { ...w.writes };
    await w.drive(await w.begin());
    expect(w.writes.updateRun - before.updateRun).toBe(7);
    expect(w.writes.appendAudit - before.appendAudit).toBe(8);
  });
});
