/**
 * `npx tsx bench/training-queue.ts [--repo <checkout>] [--jobs 100]` — the in-process training runner under a
 * flood of submits: the real server process (`node --import tsx src/server.ts` of the checkout, default this
 * one; no Redis, so the in-process runner) with an LLM that takes 60 s per call, so nothing finishes. `--jobs`
 * submits of one domain, each with ≈ 0.54 MB of inline users (the case of issue 9), then every accepted job is
 * cancelled. Prints one JSON line: statuses, and the service's RSS (VmRSS) before, after the submits, and 5 s
 * after the cancels. The figures in docs/reliability.md ("Training queue") come from this script.
 */
import { resolve } from 'node:path';
import { request } from 'undici';
import { startLlmDouble } from '../testkit/llm-double.js';
import { rssKb, startServerProcess } from '../testkit/processes.js';
import { makeUsers } from '../testkit/synthetic-world.js';
import { sleep } from '../testkit/wait.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? def) : def;
};
const repo = resolve(arg('repo', '.'));
const jobs = Number(arg('jobs', '100'));
const TOKEN = 'bench-admin-token-0123456789';
const TARGET_BYTES = 540_000;

const double = await startLlmDouble({ latency: 60_000 });
const server = await startServerProcess({
  args: ['--import', 'tsx', resolve(repo, 'src/server.ts')],
  baseEnv: { PATH: process.env.PATH },
  env: { LLM_BASE_URL: double.url, LLM_API_KEY: 'k', LLM_MODEL: 'm', ADMIN_TOKEN: TOKEN, SHUTDOWN_GRACE_MS: '2000' },
  readyTimeoutMs: 60_000,
});
const perUser = JSON.stringify(makeUsers(1)[0]).length;
const users = makeUsers(Math.ceil(TARGET_BYTES / perUser));
const body = JSON.stringify({
  domain: 'bench',
  dataset: { users },
  params: { epochs: 1, batchSize: 2, valUsers: 2, verifySteps: 0, patience: 0, concurrency: 2 },
  activate: 'never',
});
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

const rssBefore = rssKb(server.pid);
const statuses: Record<number, number> = {};
const accepted: string[] = [];
for (let i = 0; i < jobs; i++) {
  const res = await request(`${server.origin}/admin/v1/training-jobs`, { method: 'POST', headers, body });
  const json = (await res.body.json()) as { jobId?: string };
  statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
  if (json.jobId) accepted.push(json.jobId);
}
await sleep(1_000);
const rssAfterSubmits = rssKb(server.pid);
for (const id of accepted) await request(`${server.origin}/admin/v1/training-jobs/${id}`, { method: 'DELETE', headers: { authorization: headers.authorization } }).then((r) => r.body.dump());
await sleep(5_000);
const rssAfterCancel = rssKb(server.pid);
await server.stop(10_000);
await double.close();
console.log(
  JSON.stringify({
    repo,
    jobs,
    bodyBytes: Buffer.byteLength(body),
    statuses,
    rssKb: { before: rssBefore, afterSubmits: rssAfterSubmits, fiveSecondsAfterCancel: rssAfterCancel },
  }),
);
