/**
 * What the loop's storage costs in Redis (docs/loop-storage.md): bytes per schedule, pin, current run, finished
 * run and audit record, by MEMORY USAGE (exact: SAMPLES 0) and by the server's used_memory delta, for one domain
 * filled to its caps (LOOP_RUNS_KEPT finished runs, LOOP_AUDIT_KEPT audit records); plus Redis CPU per
 * listAudit page on a full trail (the script scans every entry).
 *
 * Records are realistic: a schedule with trainer params, guardrails and a gate; finished runs with every field
 * a promoted run sets; audit records cycling through the kinds a run writes, with the numbers the runner logs.
 *
 *   node --import tsx bench/loop-store-bytes.ts [--pages 200]
 */
import { parseArgs } from 'node:util';
import { LOOP_AUDIT_KEPT, LOOP_RUNS_KEPT } from '../src/loop/ports.js';
import type { AuditKind, AuditRecord, LoopRun, Schedule } from '../src/loop/ports.js';
import { createKeySchema } from '../src/store/key-schema.js';
import { createRedis, whenReady } from '../src/store/redis-connection.js';
import type { RedisClient } from '../src/store/redis-connection.js';
import { createRedisLoopStore } from '../src/store/redis-loop-store.js';
import { startRedisServer } from '../testkit/redis-server.js';

const { values: v } = parseArgs({ options: { pages: { type: 'string', default: '200' } }, strict: true });
const PAGES = Number(v.pages);
const DOMAIN = 'movies';
const T0 = 1_764_806_400_000;

const infoField = async (redis: RedisClient, section: string, field: string) =>
  Number(new RegExp(`${field}:([\\d.]+)`).exec(await redis.info(section))?.[1] ?? NaN);
const usage = async (redis: RedisClient, key: string) => Number((await redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0);
const cpu = async (redis: RedisClient) => (await infoField(redis, 'cpu', 'used_cpu_user')) + (await infoField(redis, 'cpu', 'used_cpu_sys'));

const schedule: Schedule = {
  domain: DOMAIN,
  everyMs: 86_400_000,
  windowMs: 7 * 86_400_000,
  params: { iterations: 3, batchSize: 32, historyLength: 20, model: 'gpt-4o-mini', temperature: 0.7 },
  gate: { minDelta: 0, holdoutShare: 0.2, minHoldoutUsers: 20, bootstrapIterations: 2000 },
  rollout: { share: 0.1, maxDurationMs: 7 * 86_400_000, decisionIntervalMs: 60_000, guardrails: { maxFallbackRate: 0.05, maxLatencyP99Ms: 1500 } },
  paused: false,
  source: 'api',
  createdAt: T0,
  updatedAt: T0,
};

function promotedRun(i: number): LoopRun {
  const runId = `sched-${DOMAIN}-${T0 + i * 86_400_000}`;
  return {
    runId,
    domain: DOMAIN,
    trigger: 'schedule',
    startedAt: T0 + i * 86_400_000,
    updatedAt: T0 + i * 86_400_000 + 3_600_000,
    step: 'done',
    baseVersion: `v${i + 1}`,
    schedule,
    dataset: { path: `datasets/loop-${runId}.train.jsonl`, holdoutPath: `datasets/loop-${runId}.holdout.jsonl`, rows: 18_211, users: 9_034, holdoutUsers: 1_807, skipped: { noPositive: 41_788, noHistory: 101, titleExpired: 12, maxUsers: 0 } },
    trainingJobId: `loop-${runId}`,
    candidateVersion: `v${i + 2}`,
    gate: { passed: true, users: 1_807, activeNdcg: 0.4123456789, candidateNdcg: 0.4387654321, diff: 0.0264197532, ci95: [0.0112345678, 0.0412345678], minDelta: 0, llmCalls: 3_614 },
    experimentId: `canary-${runId}`,
    canaryStartedAt: T0 + i * 86_400_000 + 1_800_000,
    outcome: 'promoted',
    reason: 'canary: the always-valid decision says treatment (p = 0.003)',
    finishedAt: T0 + i * 86_400_000 + 3 * 86_400_000,
  };
}

const KINDS: Array<[AuditKind, string, Record<string, unknown>]> = [
  ['run_started', 'run started by the schedule', { baseVersion: 'v7', windowMs: 604_800_000 }],
  ['dataset_built', 'dataset: 18211 rows, 9034 users, 1807 held out', { rows: 18_211, users: 9_034, holdoutUsers: 1_807, skipped: { noPositive: 41_788, noHistory: 101 } }],
  ['trained', 'training job loop-… succeeded: version v8', { jobId: 'loop-sched-movies-1764806400000', version: 'v8', llmCalls: 12_800 }],
  ['gated', 'gate passed: NDCG@10 0.4124 → 0.4388, ci95 [0.0112, 0.0412] > 0', { users: 1_807, activeNdcg: 0.4123456789, candidateNdcg: 0.4387654321, diff: 0.0264197532, ci95: [0.0112345678, 0.0412345678], minDelta: 0 }],
  ['canary_started', 'canary canary-… started at 10 % of traffic', { experimentId: 'canary-sched-movies-1764806400000', share: 0.1 }],
  ['promoted', 'v8 promoted: the always-valid decision says treatment (p = 0.003)', { version: 'v8', previous: 'v7', pValue: 0.003, exposures: 48_211 }],
];

function auditRecord(i: number): AuditRecord {
  const [kind, message, data] = KINDS[i % KINDS.length] as [AuditKind, string, Record<string, unknown>];
  const at = T0 + i * 60_000;
  return { id: `${String(at).padStart(13, '0')}-${i % 7}`, at, domain: DOMAIN, kind, runId: `sched-${DOMAIN}-${T0 + Math.floor(i / 6) * 86_400_000}`, actor: 'loop', message, data };
}

const server = await startRedisServer();
const redis = createRedis(server.url, { role: 'cache' });
try {
  if (!(await whenReady(redis, 5_000))) throw new Error('redis-server did not come up');
  const keys = createKeySchema('bench');
  const store = createRedisLoopStore({ redis, keyPrefix: 'bench' });
  /** One domain filled to its caps: schedule, pin, LOOP_RUNS_KEPT finished runs, a live run, a full audit trail. */
  const fill = async (s: typeof store) => {
    await s.putSchedule(schedule);
    await s.setPin(DOMAIN, { domain: DOMAIN, version: 'v7', reason: 'incident 42: hold the prompt during the sale', at: T0 });
    for (let i = 0; i < LOOP_RUNS_KEPT; i++) {
      const done = promotedRun(i);
      await s.beginRun({ ...done, step: 'dataset', outcome: undefined, finishedAt: undefined });
      await s.updateRun(done);
    }
    await s.beginRun({ ...promotedRun(LOOP_RUNS_KEPT), step: 'decide', outcome: undefined, reason: undefined, finishedAt: undefined });
    for (let i = 0; i < LOOP_AUDIT_KEPT; i++) await s.appendAudit(auditRecord(i));
  };
  // A first domain under another prefix loads the scripts and warms the allocator, so the used_memory delta of
  // the measured one is the domain's data.
  await fill(createRedisLoopStore({ redis, keyPrefix: 'warm' }));
  const used0 = await infoField(redis, 'memory', 'used_memory');
  await fill(store);
  const used1 = await infoField(redis, 'memory', 'used_memory');
  // The recent-runs list of one run: its fixed overhead, subtracted to get the bytes per finished run.
  const runsOne = await (async () => {
    const scratch = createRedisLoopStore({ redis, keyPrefix: 'scratch' });
    const done = promotedRun(0);
    await scratch.beginRun({ ...done, step: 'dataset' });
    await scratch.updateRun(done);
    return usage(redis, createKeySchema('scratch').loopRuns(DOMAIN));
  })();

  const bytes = {
    schedule: await usage(redis, keys.loopSchedule(DOMAIN)),
    pin: await usage(redis, keys.loopPin(DOMAIN)),
    currentRun: await usage(redis, keys.loopRun(DOMAIN)),
    recentRunsList: await usage(redis, keys.loopRuns(DOMAIN)),
    recentRunsListOfOne: runsOne,
    auditList: await usage(redis, keys.loopAudit(DOMAIN)),
    domainsIndex: await usage(redis, keys.loopDomains()),
    pinsIndex: await usage(redis, keys.loopPinned()),
  };
  // An index with 1,000 domains (`domain-0000`…): the per-domain share of each of the two index sets.
  for (let i = 0; i < 1_000; i++) await redis.sadd('probe:loop:domains', `domain-${String(i).padStart(4, '0')}`);
  const indexMemberBytes = Math.round((await usage(redis, 'probe:loop:domains')) / 1_000);
  const perDomain = bytes.schedule + bytes.pin + bytes.currentRun + bytes.recentRunsList + bytes.auditList;

  // Redis CPU and wall time of listAudit on a full trail: the first page, a page half-way down, a runId filter
  // (a run has a handful of records, so the script reads the whole trail to fill the page).
  const measure = async (opts: { limit: number; before?: string; runId?: string }) => {
    const c0 = await cpu(redis);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < PAGES; i++) await store.listAudit(DOMAIN, opts);
    const wallUs = Math.round(Number(process.hrtime.bigint() - t0) / 1000 / PAGES);
    return { wallUs, redisCpuUs: Math.round((((await cpu(redis)) - c0) * 1e6) / PAGES) };
  };
  const listAudit = {
    firstPage: await measure({ limit: 50 }),
    halfWayPage: await measure({ limit: 50, before: auditRecord(LOOP_AUDIT_KEPT / 2).id }),
    runIdFilter: await measure({ limit: 50, runId: auditRecord(600).runId ?? '' }),
  };

  process.stdout.write(
    `${JSON.stringify(
      {
        redisVersion: /redis_version:(\S+)/.exec(await redis.info('server'))?.[1],
        json: { schedule: JSON.stringify(schedule).length, finishedRun: JSON.stringify(promotedRun(0)).length, auditRecordMean: Math.round(Array.from({ length: 6 }, (_, i) => JSON.stringify(auditRecord(i)).length).reduce((a, b) => a + b) / 6) },
        memoryUsage: bytes,
        perRecord: {
          finishedRun: Math.round((bytes.recentRunsList - bytes.recentRunsListOfOne) / (LOOP_RUNS_KEPT - 1)),
          auditRecord: Math.round(bytes.auditList / LOOP_AUDIT_KEPT),
        },
        indexMemberBytes,
        perDomainAtCaps: perDomain,
        usedMemoryDelta: used1 - used0,
        listAuditPerPage: { pages: PAGES, limit: 50, entries: LOOP_AUDIT_KEPT, ...listAudit },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  redis.disconnect();
  await server.stop();
}
