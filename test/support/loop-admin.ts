/**
 * The closed-loop tests' admin client: the DESIGNED loop API (docs/loop.md, /work/wt/_brief/loop-design.md)
 * over a testkit Transport (an app's inject or a server's origin), with the waits the tests need. Answers are
 * returned loosely typed: each test checks the fields it relies on.
 */
import { expect } from 'vitest';
import type { Transport, TransportResponse } from '../../testkit/loop-world.js';
import { eventually, sleep } from '../../testkit/wait.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- admin answers are checked field by field by the tests */

/** A loop run as GET /admin/v1/schedules/{domain}/runs lists it (src/loop/ports.ts LoopRun). */
export type RunView = any;

/** What a closed-loop test calls. */
export interface LoopAdmin {
  call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<TransportResponse>;
  /** POST /admin/v1/prompts + activate. */
  importActive(domain: string, version: string, text: string, historyLength: number): Promise<void>;
  putSchedule(domain: string, body: Record<string, unknown>): Promise<any>;
  /** POST …/run → the runId. */
  runNow(domain: string): Promise<string>;
  run(domain: string, runId: string): Promise<RunView | undefined>;
  /** Polls the run until `ok` holds (or it is done when `ok` is absent). */
  waitRun(domain: string, runId: string, ok: (r: RunView) => boolean, what: string, timeoutMs?: number): Promise<RunView>;
  /** The run's audit records, oldest first. */
  audit(domain: string, runId: string): Promise<any[]>;
  experiments(domain: string): Promise<any[]>;
  experiment(id: string): Promise<any>;
  prompts(domain: string): Promise<Array<{ version: string; active: boolean; parentVersion: string | null }>>;
  activeVersion(domain: string): Promise<string | undefined>;
}

/** An admin client over `transport` with `token`. A 503 (a bounded Redis call that timed out on a busy machine) is retried. */
export function loopAdmin(transport: Transport, token: string): LoopAdmin {
  const headers = { authorization: `Bearer ${token}` };
  const call: LoopAdmin['call'] = async (method, path, body) => {
    for (let attempt = 1; ; attempt++) {
      const res = await transport({ method, path, headers, ...(body === undefined ? {} : { body }) });
      if (res.status !== 503 || attempt === 5) return res;
      await sleep(500);
    }
  };
  const ok = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, status: number, body?: unknown): Promise<any> => {
    const res = await call(method, path, body);
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
    return res.body;
  };
  const prompts: LoopAdmin['prompts'] = async (domain) => (await ok('GET', `/admin/v1/prompts?domain=${domain}`, 200)).prompts;
  const run: LoopAdmin['run'] = async (domain, runId) => {
    const body = await ok('GET', `/admin/v1/schedules/${domain}/runs?limit=10`, 200);
    return (body.runs as RunView[]).find((r) => r.runId === runId);
  };
  return {
    call,
    async importActive(domain, version, text, historyLength) {
      await ok('POST', '/admin/v1/prompts', 201, { domain, version, text, historyLength });
      await ok('POST', `/admin/v1/prompts/${domain}/${version}/activate`, 200);
    },
    async putSchedule(domain, body) {
      const res = await call('PUT', `/admin/v1/schedules/${domain}`, body);
      expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
      return res.body;
    },
    async runNow(domain) {
      const body = await ok('POST', `/admin/v1/schedules/${domain}/run`, 202);
      expect(typeof body.runId).toBe('string');
      return body.runId as string;
    },
    run,
    waitRun: (domain, runId, pred, what, timeoutMs = 60_000) =>
      eventually(() => run(domain, runId), (r) => r !== undefined && pred(r), { what: `run ${runId}: ${what}`, timeoutMs, intervalMs: 100 }),
    async audit(domain, runId) {
      const body = await ok('GET', `/admin/v1/audit?domain=${domain}&runId=${encodeURIComponent(runId)}&limit=100`, 200);
      return [...(body.records as any[])].reverse();
    },
    async experiments(domain) {
      return (await ok('GET', `/admin/v1/experiments?domain=${domain}`, 200)).experiments as any[];
    },
    experiment: (id) => ok('GET', `/admin/v1/experiments/${id}`, 200),
    prompts,
    activeVersion: async (domain) => (await prompts(domain)).find((p) => p.active)?.version,
  };
}

/** `expected` appears in `kinds` in this order (other kinds may come between). */
export function expectInOrder(kinds: readonly string[], expected: readonly string[]): void {
  let at = -1;
  for (const k of expected) {
    const next = kinds.indexOf(k, at + 1);
    expect(next, `audit kind "${k}" after position ${at} in [${kinds.join(', ')}]`).toBeGreaterThan(at);
    at = next;
  }
}
