/**
 * A training job's report and trace through the admin API (in-process engine, app.inject), trained
 * against the LLM double's taste world: 404 envelopes for unknown jobs and for jobs with nothing written
 * yet, then the Markdown report, the SVG chart and the JSONL trace of the finished job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrace } from '../../src/agp/trace.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { tasteWorldUsers } from '../../testkit/taste-world.js';

const TOKEN = 'admin-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

let double: LlmDouble;
let t: TestApp;

const get = (url: string, headers: Record<string, string> = auth) => t.app.inject({ method: 'GET', url, headers });

beforeAll(async () => {
  double = await startLlmDouble();
  t = await buildTestApp({
    env: { ADMIN_TOKEN: TOKEN, LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-test', LLM_MODEL: 'test-model', BREAKER_FAILURE_THRESHOLD: '1000' },
  });
});

afterAll(async () => {
  await t?.close();
  await double?.close();
});

describe('training job artifacts', () => {
  it('404s in the error envelope for an unknown job, and needs the admin token', async () => {
    for (const path of ['report', 'report/ndcg.svg', 'trace']) {
      const res = await get(`/admin/v1/training-jobs/no-such-job/${path}`);
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('training job no-such-job') });
      expect(typeof res.json().error.requestId).toBe('string');
      expect((await get(`/admin/v1/training-jobs/no-such-job/${path}`, {})).statusCode).toBe(401);
    }
  });

  it('serves the report, the chart and the trace of a finished job', async () => {
    double.setLatency(40); // the job is still running when its report is first asked for
    const submit = await t.app.inject({
      method: 'POST',
      url: '/admin/v1/training-jobs',
      headers: auth,
      payload: {
        domain: 'taste',
        dataset: { users: tasteWorldUsers(10, { seed: 3 }) },
        validation: { users: tasteWorldUsers(6, { seed: 3, offset: 500 }) },
        params: { epochs: 1, batchSize: 5, concurrency: 6, patience: 0 },
      },
    });
    expect(submit.statusCode).toBe(202);
    const { jobId } = submit.json() as { jobId: string };

    const early = await get(`/admin/v1/training-jobs/${jobId}/report`);
    expect(early.statusCode).toBe(404);
    expect(early.json().error.message).toContain('none written yet');

    let job: { state: string; result?: { promptVersion: string; metrics: { llmCalls: number; bestValNdcg: number; initialValNdcg: number } } };
    const until = Date.now() + 30_000;
    do {
      await new Promise((r) => setTimeout(r, 50));
      job = (await get(`/admin/v1/training-jobs/${jobId}`)).json();
    } while (!['completed', 'failed', 'cancelled'].includes(job.state) && Date.now() < until);
    double.setLatency(0);
    expect(job.state).toBe('completed');
    const result = job.result as NonNullable<typeof job.result>;
    expect(result.metrics.bestValNdcg).toBeGreaterThan(result.metrics.initialValNdcg);

    const report = await get(`/admin/v1/training-jobs/${jobId}/report`);
    expect(report.statusCode).toBe(200);
    expect(report.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(report.body).toContain('# AGP training report: taste');
    expect(report.body).toContain(`\`${result.promptVersion}\``);
    expect(report.body).toContain('## Accepted edits');

    const svg = await get(`/admin/v1/training-jobs/${jobId}/report/ndcg.svg`);
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(svg.headers['x-content-type-options']).toBe('nosniff');
    expect(svg.body.startsWith('<svg ')).toBe(true);
    expect(svg.body).toContain('validation NDCG@10');

    const trace = await get(`/admin/v1/training-jobs/${jobId}/trace`);
    expect(trace.statusCode).toBe(200);
    expect(trace.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(trace.headers['x-trace-truncated']).toBe('false');
    const entries = parseTrace(trace.body);
    expect(entries).toHaveLength(result.metrics.llmCalls);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i));
    expect(new Set(entries.map((e) => e.model))).toEqual(new Set(['test-model']));
  }, 60_000);
});
