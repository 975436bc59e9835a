/**
 * /admin/v1/experiments on the embedded stores: every refusal has its documented status and code, the
 * running cap holds, and the per-experiment Prometheus series appear while an experiment runs and are
 * removed when it stops (bounded label values).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';

const TOKEN = 'admin-experiments-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ jobs: false, env: { ADMIN_TOKEN: TOKEN, EXPERIMENTS_MAX_RUNNING: '3' } });
});
afterAll(() => t?.close());

const admin = (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = auth) =>
  t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
const holdout = (domain: string, mode: 'ab' | 'interleave' = 'ab') => ({
  domain,
  mode,
  arms: [
    { name: 'a', method: 'baseline' },
    { name: 'b', method: 'baseline' },
  ],
});
const metrics = async () => (await t.app.inject('/metrics')).body;

describe('admin experiments', () => {
  it('refuses bad definitions with 400 and a code, and unauthenticated calls with 401', async () => {
    const cases: Array<[object, string]> = [
      [{ ...holdout('d1', 'interleave'), arms: [...holdout('d1').arms, { name: 'c', method: 'agp' }] }, 'VALIDATION_ERROR'],
      [{ ...holdout('d1'), arms: [{ name: 'a', method: 'agp' }, { name: 'a', method: 'direct' }] }, 'VALIDATION_ERROR'],
      [{ ...holdout('d1'), arms: [{ name: 'a', method: 'agp', promptVersion: 'nope' }, { name: 'b', method: 'direct' }] }, 'UNKNOWN_PROMPT_VERSION'],
      [{ ...holdout('d1'), arms: [{ name: 'a', method: 'agp' }] }, 'VALIDATION_ERROR'],
      [{ ...holdout('d1'), trafficShare: 1.5 }, 'VALIDATION_ERROR'],
      [{ ...holdout('d1'), arms: [{ name: 'bad name!', method: 'agp' }, { name: 'b', method: 'agp' }] }, 'VALIDATION_ERROR'],
    ];
    for (const [body, code] of cases) {
      const res = await admin('POST', '/admin/v1/experiments', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe(code);
    }
    expect((await admin('POST', '/admin/v1/experiments', holdout('d1'), {})).statusCode).toBe(401);
    expect((await admin('GET', '/admin/v1/experiments', undefined, { authorization: 'Bearer wrong' })).statusCode).toBe(401);
    expect((await admin('GET', '/admin/v1/experiments/nope')).statusCode).toBe(404);
  });

  it('one running experiment per domain, EXPERIMENTS_MAX_RUNNING in all; stop frees both', async () => {
    const ids: string[] = [];
    for (const d of ['cap-1', 'cap-2', 'cap-3']) ids.push((await admin('POST', '/admin/v1/experiments', holdout(d))).json().id);
    const busy = await admin('POST', '/admin/v1/experiments', holdout('cap-1'));
    expect([busy.statusCode, busy.json().error.code]).toEqual([409, 'EXPERIMENT_ALREADY_RUNNING']);
    const full = await admin('POST', '/admin/v1/experiments', holdout('cap-4'));
    expect([full.statusCode, full.json().error.code]).toEqual([409, 'TOO_MANY_RUNNING_EXPERIMENTS']);
    for (const id of ids) expect((await admin('POST', `/admin/v1/experiments/${id}/stop`)).json()).toMatchObject({ state: 'stopped', stopReason: { kind: 'manual' } });
    expect((await admin('POST', '/admin/v1/experiments', holdout('cap-4'))).statusCode).toBe(201);
    const listed = (await admin('GET', '/admin/v1/experiments?domain=cap-1')).json().experiments;
    expect(listed.map((e: { id: string; state: string }) => [e.id, e.state])).toEqual([[ids[0], 'stopped']]);
    const stopped = await admin('POST', `/admin/v1/experiments/${ids[0]}/promote`, { arm: 'a' });
    expect([stopped.statusCode, stopped.json().error.code]).toEqual([409, 'EXPERIMENT_NOT_RUNNING']);
  });

  it('promote of an unknown arm is a 400; an arm without a pinned version activates nothing', async () => {
    const id = (await admin('POST', '/admin/v1/experiments', holdout('promo'))).json().id;
    expect((await admin('POST', `/admin/v1/experiments/${id}/promote`, { arm: 'zzz' })).statusCode).toBe(400);
    const res = await admin('POST', `/admin/v1/experiments/${id}/promote`, { arm: 'b' });
    expect(res.json()).toMatchObject({ activated: null, experiment: { state: 'stopped', stopReason: { kind: 'promoted', arm: 'b' } } });
  });

  it('per-experiment series exist while it runs, carry the estimates after a look, and are removed when it stops', async () => {
    const exp = (await admin('POST', '/admin/v1/experiments', holdout('metered'))).json();
    const candidates = Array.from({ length: 4 }, (_, i) => ({ id: `m${i}`, title: `M ${i}` }));
    const served: Array<{ requestId: string; id: string }> = [];
    for (let i = 0; i < 20; i++) {
      const res = (await t.app.inject({ method: 'POST', url: '/v1/rerank', payload: { userId: `mu-${i}`, history: [], candidates, domain: 'metered' } })).json();
      expect(res.experiment.id).toBe(exp.id);
      served.push({ requestId: res.requestId, id: res.ranking[0].id });
    }
    await t.container.experiments.recorder.flush();
    await t.app.inject({ method: 'POST', url: '/v1/events', payload: { events: served.slice(0, 5).map((s) => ({ requestId: s.requestId, itemId: s.id, type: 'click' })) } });
    await t.container.experiments.admin.look();
    const text = await metrics();
    const label = `domain="metered",experiment="${exp.id}"`;
    expect(text).toContain(`agp_experiment_running{${label},mode="ab"} 1`);
    const exposures = [...text.matchAll(new RegExp(`agp_experiment_exposures_total\\{${label},arm="(a|b)"\\} (\\d+)`, 'g'))].reduce((n, m) => n + Number(m[2]), 0);
    expect(exposures).toBe(20);
    expect(text).toMatch(new RegExp(`agp_experiment_events_total\\{${label},arm="(a|b)",type="click"\\} \\d`));
    const results = (await admin('GET', `/admin/v1/experiments/${exp.id}`)).json();
    const a = results.arms[0];
    expect(text).toContain(`agp_experiment_arm_estimate{${label},arm="a",metric="ctr",order="served",stat="value"} ${a.metrics.ctr.value}`);
    expect(text).toMatch(new RegExp(`agp_experiment_decision\\{${label},arm="b"\\} 0`));
    await admin('POST', `/admin/v1/experiments/${exp.id}/stop`);
    const after = await metrics();
    expect(after).not.toContain(exp.id);
    expect(after).toMatch(/agp_experiment_stops_total\{reason="manual"\} \d/);
  });
});
