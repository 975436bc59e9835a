/**
 * Contract cases of the loop's admin API (issue 11): /admin/v1/schedules…, /admin/v1/audit and
 * /admin/v1/pins…, against an in-process app with the in-memory loop store and a RunScheduler double (the
 * real service of contract.test.ts may or may not have a queue; the responses here must not depend on it).
 * Registered into contract.test.ts's run (see experiment-cases.ts), so its coverage test sees these responses.
 */
import type { AddressInfo } from 'node:net';
import type { Client } from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { paths } from './api-types.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { createFakeRunScheduler } from '../support/fake-run-scheduler.js';
import { createMemoryLoopStore } from '../../src/store/memory-loop-store.js';

type Api = Client<paths>;

/** What the cases need from the suite: its contract-checking client factory. */
export interface LoopContractContext {
  client(baseUrl: string, headers?: Record<string, string>): Api;
}

const TOKEN = 'contract-loop-admin-token-0123456789';

/** Registers the loop contract cases. */
export function describeLoopContract(ctx: LoopContractContext): void {
  describe('admin: the loop (in-process app, a queue double)', () => {
    let t: TestApp;
    let admin: Api;
    let anonymous: Api;
    const domain = 'contract-loop';
    const path = { path: { domain } };
    beforeAll(async () => {
      t = await buildTestApp({ env: { ADMIN_TOKEN: TOKEN }, jobs: false, loop: { store: createMemoryLoopStore(), scheduler: createFakeRunScheduler() } });
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      admin = ctx.client(base, { authorization: `Bearer ${TOKEN}` });
      anonymous = ctx.client(base);
      const prompt = await admin.POST('/admin/v1/prompts', { body: { domain, version: 'v2', text: 'Describe the viewer in four sentences.' } });
      expect(prompt.response.status).toBe(201);
    });
    afterAll(async () => t?.close());

    it('schedules: 401, 400, 201 create, 200 replace, 200 get and list, 404', async () => {
      const body = { every: '1d', window: '2d' };
      expect((await anonymous.PUT('/admin/v1/schedules/{domain}', { params: path, body })).response.status).toBe(401);
      const bad = await admin.PUT('/admin/v1/schedules/{domain}', { params: path, body: { ...body, cron: '0 3 * * *' } });
      expect([bad.response.status, bad.error?.error.code]).toEqual([400, 'VALIDATION_ERROR']);
      const created = await admin.PUT('/admin/v1/schedules/{domain}', { params: path, body });
      expect(created.response.status).toBe(201);
      expect(created.data).toMatchObject({ domain, everyMs: 86_400_000, source: 'api', currentRun: null });
      const replaced = await admin.PUT('/admin/v1/schedules/{domain}', { params: path, body: { cron: '0 3 * * *', window: '1d', rollout: { share: 0.2 } } });
      expect(replaced.response.status).toBe(200);
      expect((await admin.GET('/admin/v1/schedules/{domain}', { params: path })).data?.rollout.share).toBe(0.2);
      expect((await admin.GET('/admin/v1/schedules')).data?.schedules.map((s) => s.domain)).toEqual([domain]);
      expect((await admin.GET('/admin/v1/schedules/{domain}', { params: { path: { domain: 'missing' } } })).response.status).toBe(404);
    });

    it('pause, resume, run (202, 409 RUN_IN_PROGRESS), runs', async () => {
      expect((await admin.POST('/admin/v1/schedules/{domain}/pause', { params: path })).data).toMatchObject({ paused: true, nextRunAt: null });
      expect((await admin.POST('/admin/v1/schedules/{domain}/resume', { params: path })).data?.paused).toBe(false);
      const run = await admin.POST('/admin/v1/schedules/{domain}/run', { params: path });
      expect(run.response.status).toBe(202);
      const again = await admin.POST('/admin/v1/schedules/{domain}/run', { params: path });
      expect([again.response.status, again.error?.error.code]).toEqual([409, 'RUN_IN_PROGRESS']);
      const runs = await admin.GET('/admin/v1/schedules/{domain}/runs', { params: { ...path, query: { limit: 5 } } });
      expect(runs.data?.runs.map((r) => [r.runId, r.step])).toEqual([[run.data?.runId, 'dataset']]);
    });

    it('pins (200, 404, 204) and the audit trail', async () => {
      expect((await admin.PUT('/admin/v1/pins/{domain}', { params: path, body: { version: 'v9' } })).response.status).toBe(404);
      const pinned = await admin.PUT('/admin/v1/pins/{domain}', { params: path, body: { version: 'v2', reason: 'contract' } });
      expect(pinned.data).toMatchObject({ domain, version: 'v2', reason: 'contract' });
      expect((await admin.GET('/admin/v1/pins')).data?.pins).toHaveLength(1);
      expect((await admin.DELETE('/admin/v1/pins/{domain}', { params: path })).response.status).toBe(204);
      expect((await admin.DELETE('/admin/v1/pins/{domain}', { params: path })).response.status).toBe(404);
      const page = await admin.GET('/admin/v1/audit', { params: { query: { domain, limit: 3 } } });
      expect(page.data?.records.map((r) => r.kind)).toEqual(['unpinned', 'pinned', 'run_started']);
      expect(page.data?.next).toEqual(page.data?.records[2]?.id);
    });

    it('delete: 204, then 404', async () => {
      expect((await admin.DELETE('/admin/v1/schedules/{domain}', { params: path })).response.status).toBe(204);
      expect((await admin.DELETE('/admin/v1/schedules/{domain}', { params: path })).response.status).toBe(404);
      const runs = await admin.GET('/admin/v1/schedules/{domain}/runs', { params: path });
      expect(runs.data?.runs[0]).toMatchObject({ step: 'done', outcome: 'cancelled' });
    });
  });
}
