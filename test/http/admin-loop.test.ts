/**
 * The loop's admin API on the real app: schedules, runs, pins and the audit trail with the in-memory loop
 * store and a RunScheduler double (a queue), and the embedded default without a queue (409
 * SCHEDULES_UNAVAILABLE). Every route refuses a caller without the token, every refusal has its status and
 * code in the error envelope, and every operator action leaves an audit record by `admin`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { createFakeRunScheduler, type FakeRunScheduler } from '../support/fake-run-scheduler.js';
import { createMemoryLoopStore } from '../../src/store/memory-loop-store.js';

const TOKEN = 'admin-loop-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

let t: TestApp;
let bare: TestApp;
let queue: FakeRunScheduler;
beforeAll(async () => {
  queue = createFakeRunScheduler();
  const configSchedules = JSON.stringify([{ domain: 'books', every: '1d', window: '2d', rollout: { share: 0.05 } }]);
  [t, bare] = await Promise.all([
    buildTestApp({ jobs: false, env: { ADMIN_TOKEN: TOKEN, EXPOSURE_TTL_SECONDS: String(7 * 86_400), LOOP_SCHEDULES: configSchedules }, loop: { store: createMemoryLoopStore(), scheduler: queue } }),
    buildTestApp({ jobs: false, env: { ADMIN_TOKEN: TOKEN } }),
  ]);
  const prompt = { domain: 'movies', version: 'v2', text: 'Describe the viewer in four sentences.', parentVersion: null };
  expect((await call(t, 'POST', '/admin/v1/prompts', prompt)).statusCode).toBe(201);
});
afterAll(async () => {
  await Promise.all([t?.close(), bare?.close()]);
});

function call(app: TestApp, method: Method, url: string, payload?: object, headers: Record<string, string> = auth) {
  return app.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
}
const admin = (method: Method, url: string, payload?: object) => call(t, method, url, payload);
const trail = async (domain: string, query = '') => (await admin('GET', `/admin/v1/audit?domain=${domain}${query}`)).json();
const expectError = (res: { statusCode: number; json(): { error: { code: string; message: string; requestId: string } } }, status: number, code: string) => {
  expect(res.statusCode).toBe(status);
  expect(res.json().error).toMatchObject({ code, requestId: expect.any(String) });
  return res.json().error.message;
};

const ROUTES: Array<[Method, string, object?]> = [
  ['PUT', '/admin/v1/schedules/movies', { every: '1d', window: '1d' }],
  ['GET', '/admin/v1/schedules'],
  ['GET', '/admin/v1/schedules/movies'],
  ['DELETE', '/admin/v1/schedules/movies'],
  ['POST', '/admin/v1/schedules/movies/pause'],
  ['POST', '/admin/v1/schedules/movies/resume'],
  ['POST', '/admin/v1/schedules/movies/run'],
  ['GET', '/admin/v1/schedules/movies/runs'],
  ['GET', '/admin/v1/audit?domain=movies'],
  ['GET', '/admin/v1/pins'],
  ['PUT', '/admin/v1/pins/movies', { version: 'v2' }],
  ['DELETE', '/admin/v1/pins/movies'],
];

describe('admin loop API', () => {
  it('every route answers 401 without the token, and changes nothing', async () => {
    for (const [method, url, body] of ROUTES) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }] as Array<Record<string, string>>) {
        expectError(await call(t, method, url, body, headers), 401, 'UNAUTHORIZED');
      }
    }
    expect(queue.calls.filter((c) => c.domain === 'movies')).toEqual([]);
  });

  it('LOOP_SCHEDULES was applied at start, by `config`', async () => {
    const res = await admin('GET', '/admin/v1/schedules/books');
    expect(res.json()).toMatchObject({ domain: 'books', everyMs: 86_400_000, windowMs: 2 * 86_400_000, source: 'config', rollout: { share: 0.05, decisionIntervalMs: 60_000 } });
    expect((await trail('books')).records.map((r: { kind: string; actor: string }) => [r.kind, r.actor])).toEqual([['schedule_changed', 'config']]);
  });

  it('PUT creates (201) then replaces (200); GET reads one and all; each write is audited', async () => {
    const created = await admin('PUT', '/admin/v1/schedules/movies', { every: '6h', window: '3d', gate: { minDelta: 0.01 } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ domain: 'movies', everyMs: 21_600_000, cron: null, tz: null, windowMs: 259_200_000, gate: { minDelta: 0.01, holdoutShare: 0.2 }, source: 'api', paused: false, pinned: null, currentRun: null });
    expect(Date.parse(created.json().nextRunAt)).toBeGreaterThan(Date.now());
    const replaced = await admin('PUT', '/admin/v1/schedules/movies', { cron: '0 3 * * *', tz: 'Europe/Paris', window: 86_400_000 });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ everyMs: null, cron: '0 3 * * *', tz: 'Europe/Paris', windowMs: 86_400_000, gate: { minDelta: 0 } });
    expect((await admin('GET', '/admin/v1/schedules/movies')).json()).toEqual(replaced.json());
    expect((await admin('GET', '/admin/v1/schedules')).json().schedules.map((s: { domain: string }) => s.domain)).toEqual(['books', 'movies']);
    const records = (await trail('movies')).records;
    expect(records.map((r: { kind: string; actor: string; data: { change: string } }) => [r.kind, r.actor, r.data.change])).toEqual([
      ['schedule_changed', 'admin', 'replaced'],
      ['schedule_changed', 'admin', 'created'],
    ]);
  });

  it('bad schedules are 400 VALIDATION_ERROR naming the problem, and store nothing', async () => {
    const cases: Array<[object, RegExp]> = [
      [{ cron: '61 * * * *', window: '1d' }, /cron/],
      [{ cron: '0 3 * * *', tz: 'Mars/Olympus', window: '1d' }, /tz/],
      [{ every: '1d', window: '8d' }, /window .* longer than the exposure TTL/],
      [{ every: '1d', cron: '0 3 * * *', window: '1d' }, /either every or cron, not both/],
      [{ window: '1d' }, /give every/],
      [{ every: '30s', window: '1d' }, /every must be at least 1m/],
      [{ every: 'often', window: '1d' }, /every must be a duration/],
      [{ every: '1d', window: '1d', rollout: { share: 1.5 } }, /rollout.share/],
      [{ every: '1d', window: '1d', windw: '2d' }, /windw/],
      [{ every: '1d', window: '1d', params: { epochz: 2 } }, /epochz/],
      [{ every: '1d', window: '1d', params: { domain: 'books' } }, /params.domain/],
    ];
    for (const [body, message] of cases) {
      const res = await admin('PUT', '/admin/v1/schedules/bad-domain', body);
      expect(expectError(res, 400, 'VALIDATION_ERROR'), JSON.stringify(body)).toMatch(message);
    }
    expectError(await admin('PUT', '/admin/v1/schedules/not%20a%20domain', { every: '1d', window: '1d' }), 400, 'VALIDATION_ERROR');
    expectError(await admin('GET', '/admin/v1/schedules/bad-domain'), 404, 'NOT_FOUND');
    expectError(await admin('GET', '/admin/v1/audit'), 400, 'VALIDATION_ERROR');
    expectError(await admin('GET', '/admin/v1/audit?domain=movies&limit=0'), 400, 'VALIDATION_ERROR');
    expect((await trail('bad-domain')).records).toEqual([]);
  });

  it('an unknown domain is a 404 in the error envelope on every domain route', async () => {
    for (const [method, url] of [
      ['GET', '/admin/v1/schedules/nowhere'],
      ['DELETE', '/admin/v1/schedules/nowhere'],
      ['POST', '/admin/v1/schedules/nowhere/pause'],
      ['POST', '/admin/v1/schedules/nowhere/resume'],
      ['POST', '/admin/v1/schedules/nowhere/run'],
      ['GET', '/admin/v1/schedules/nowhere/runs'],
      ['DELETE', '/admin/v1/pins/nowhere'],
    ] as const) {
      expect(expectError(await admin(method, url), 404, 'NOT_FOUND'), `${method} ${url}`).toContain('nowhere');
    }
    expect(expectError(await admin('PUT', '/admin/v1/pins/movies', { version: 'v9' }), 404, 'NOT_FOUND')).toContain('movies/v9');
  });

  it('run: 202 with a runId, then 409 RUN_IN_PROGRESS; the run is listed and audited', async () => {
    const res = await admin('POST', '/admin/v1/schedules/movies/run');
    expect(res.statusCode).toBe(202);
    const { runId } = res.json();
    expect(runId).toMatch(/^\d{8}T\d{6}-[0-9a-f]{8}$/);
    expect(queue.calls.at(-1)).toEqual({ op: 'runNow', domain: 'movies', runId });
    expectError(await admin('POST', '/admin/v1/schedules/movies/run'), 409, 'RUN_IN_PROGRESS');
    const runs = (await admin('GET', '/admin/v1/schedules/movies/runs?limit=5')).json().runs;
    expect(runs).toMatchObject([{ runId, domain: 'movies', trigger: 'manual', step: 'dataset', schedule: { cron: '0 3 * * *' } }]);
    expect((await admin('GET', '/admin/v1/schedules/movies')).json().currentRun).toMatchObject({ runId, step: 'dataset', outcome: null });
    expect((await trail('movies', `&runId=${runId}`)).records).toMatchObject([{ kind: 'run_started', actor: 'admin', runId }]);
    expect((await t.app.inject('/metrics')).body).toMatch(/^agp_loop_runs_active 1$/m);
  });

  it('pause and resume: the queue follows, the view says so, both audited', async () => {
    const paused = await admin('POST', '/admin/v1/schedules/movies/pause');
    expect(paused.json()).toMatchObject({ paused: true, nextRunAt: null });
    expect(queue.active.has('movies')).toBe(false);
    const resumed = await admin('POST', '/admin/v1/schedules/movies/resume');
    expect(resumed.json().paused).toBe(false);
    expect(resumed.json().nextRunAt).toEqual(expect.any(String));
    expect((await trail('movies', '&limit=2')).records.map((r: { kind: string; actor: string }) => `${r.kind}:${r.actor}`)).toEqual(['resumed:admin', 'paused:admin']);
  });

  it('pin activates the version, blocks runs (409 DOMAIN_PINNED), shows on the schedule; unpin 204', async () => {
    const pin = await admin('PUT', '/admin/v1/pins/books', { version: 'v2' });
    expectError(pin, 404, 'NOT_FOUND');
    const res = await admin('PUT', '/admin/v1/pins/movies', { version: 'v2', reason: 'holiday freeze' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ domain: 'movies', version: 'v2', reason: 'holiday freeze', at: expect.any(Number) });
    expect((await admin('GET', '/admin/v1/prompts/movies/v2')).json().active).toBe(true);
    expect((await admin('GET', '/admin/v1/pins')).json()).toEqual({ pins: [res.json()] });
    expect((await admin('GET', '/admin/v1/schedules/movies')).json().pinned).toEqual(res.json());
    expectError(await admin('PUT', '/admin/v1/pins/movies', { version: 'v2', colour: 'red' }), 400, 'VALIDATION_ERROR');

    expectError(await admin('POST', '/admin/v1/schedules/movies/run'), 409, 'DOMAIN_PINNED');
    const unpinned = await admin('DELETE', '/admin/v1/pins/movies');
    expect([unpinned.statusCode, unpinned.body]).toEqual([204, '']);
    expect((await admin('GET', '/admin/v1/pins')).json()).toEqual({ pins: [] });
    expectError(await admin('POST', '/admin/v1/schedules/movies/run'), 409, 'RUN_IN_PROGRESS');
    const records = (await trail('movies', '&limit=2')).records;
    expect(records.map((r: { kind: string; actor: string }) => `${r.kind}:${r.actor}`)).toEqual(['unpinned:admin', 'pinned:admin']);
    expect(records[1].data).toMatchObject({ version: 'v2', activated: true, reason: 'holiday freeze' });
  });

  it('DELETE 204 removes the schedule and its job scheduler and cancels the run in progress', async () => {
    const runId = (await admin('GET', '/admin/v1/schedules/movies')).json().currentRun.runId;
    const res = await admin('DELETE', '/admin/v1/schedules/movies');
    expect([res.statusCode, res.body]).toEqual([204, '']);
    expect(queue.active.has('movies')).toBe(false);
    expectError(await admin('GET', '/admin/v1/schedules/movies'), 404, 'NOT_FOUND');
    expect((await admin('GET', '/admin/v1/schedules/movies/runs')).json().runs).toMatchObject([{ runId, step: 'done', outcome: 'cancelled' }]);
    const records = (await trail('movies', '&limit=2')).records;
    expect(records.map((r: { kind: string; runId: string | null }) => [r.kind, r.runId])).toEqual([['schedule_changed', null], ['run_ended', runId]]);
    const metrics = (await t.app.inject('/metrics')).body;
    expect(metrics).toMatch(/^agp_loop_runs_active 0$/m);
    expect(metrics).toMatch(/^agp_loop_runs_total\{outcome="cancelled"\} 1$/m);
    expect(metrics).toMatch(/^agp_loop_audit_records_total\{kind="pinned"\} 1$/m);
  });

  it('the audit trail pages with `next` until the end, newest first', async () => {
    const all = (await trail('movies', '&limit=200')).records.map((r: { id: string }) => r.id);
    expect(all.length).toBeGreaterThanOrEqual(8);
    const paged: string[] = [];
    let next: string | null = null;
    do {
      const page = await trail('movies', `&limit=3${next ? `&before=${next}` : ''}`);
      paged.push(...page.records.map((r: { id: string }) => r.id));
      next = page.next;
    } while (next);
    expect(paged).toEqual(all);
    expect([...all].sort().reverse()).toEqual(all);
  });
});

describe('admin loop API without a queue (embedded default)', () => {
  it('schedule writes and runs are 409 SCHEDULES_UNAVAILABLE; reads, pins and the audit trail work', async () => {
    const put = await call(bare, 'PUT', '/admin/v1/schedules/movies', { every: '1d', window: '1d' });
    expect(expectError(put, 409, 'SCHEDULES_UNAVAILABLE')).toContain('REDIS_URL or QUEUE_REDIS_URL');
    expectError(await call(bare, 'POST', '/admin/v1/schedules/movies/run'), 409, 'SCHEDULES_UNAVAILABLE');
    expectError(await call(bare, 'POST', '/admin/v1/schedules/movies/pause'), 409, 'SCHEDULES_UNAVAILABLE');
    expect((await call(bare, 'GET', '/admin/v1/schedules')).json()).toEqual({ schedules: [] });
    expect((await call(bare, 'POST', '/admin/v1/prompts', { domain: 'movies', version: 'v3', text: 'Profile the viewer.' })).statusCode).toBe(201);
    expect((await call(bare, 'PUT', '/admin/v1/pins/movies', { version: 'v3' })).statusCode).toBe(200);
    expect((await call(bare, 'GET', '/admin/v1/audit?domain=movies')).json().records).toMatchObject([{ kind: 'pinned', actor: 'admin' }]);
  });
});
