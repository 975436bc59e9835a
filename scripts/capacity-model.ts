/**
 * Capacity model for agp-rerank (docs/scaling.md explains every formula).
 *
 *   npx tsx scripts/capacity-model.ts [--rps 1000] [--hit-ratio 0.8] [--churn 0.1] [--llm-latency-ms 200]
 *        [--price-prompt USD_PER_1M --price-completion USD_PER_1M] [--users 1000000] [--json]
 *   npx tsx scripts/capacity-model.ts --measure-redis --measure-tokens      # refresh the measured inputs
 *
 * Inputs come from measurements, never from constants in this file:
 * - service CPU µs per request (cache hit / cache miss) and throughput: bench/results/service-cache-hit.json and
 *   service-cache-miss.json, written by the serving bench (`npm run bench`); or --cpu-us-hit / --cpu-us-miss;
 * - tokens per LLM call by role: --measure-tokens runs the real service in-process (real prompts, real
 *   pipeline) against the LLM double on the bench's workload (bench/lib/workload.ts) and reads each
 *   response's `usage`; or --rerank-prompt-tokens / --profile-prompt-tokens / --rerank-completion-tokens;
 * - Redis bytes per cached user: --measure-redis starts its own redis-server on a free port (never 6379),
 *   writes profiles through src/store/redis-profile-store.ts and reads `MEMORY USAGE` per key and the
 *   INFO `used_memory` delta; or --redis-bytes-per-user.
 * Measurements are kept in bench/results/capacity-measurements.json and used as defaults afterwards.
 *
 * Workload and deployment figures (request rate, hit ratio, churn, prices, pod size, HPA target) are
 * scenario INPUTS: they are flags, printed with the result.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { planWindows } from '../src/agp/sliding-window.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createRuntime } from '../src/runtime/index.js';
import { createMetrics } from '../src/observability/metrics.js';
import { createKeySchema } from '../src/store/key-schema.js';
import { createRedis, whenReady } from '../src/store/redis-connection.js';
import { createRedisProfileStore } from '../src/store/redis-profile-store.js';
import { HISTORY_LEN, rerankBody, userCandidates, userHistory } from '../bench/lib/workload.js';
import { startLlmDouble } from '../testkit/llm-double.js';
import { startRedisServer } from '../testkit/redis-server.js';

const RESULTS = 'bench/results';
const MEASUREMENTS = `${RESULTS}/capacity-measurements.json`;

// ---------------------------------------------------------------------------------------------------------
// Measured inputs

interface TokenMeasurement {
  command: string;
  at: string;
  users: number;
  candidates: number;
  historyItemsSent: number;
  /** Mean over the users, from each response's `usage` (the double counts ⌈chars / 4⌉ per request). */
  rerankPromptTokens: number;
  rerankCompletionTokens: number;
  profilePromptTokens: number;
  /** The double's stub profile ("Enjoys: …"), NOT a model's: only used to correct the rerank prompt. */
  profileCompletionTokensOfDouble: number;
  rerankCallsPerRequest: number;
}

interface RedisMeasurement {
  command: string;
  at: string;
  redisServer: string;
  usersPerPoint: number;
  points: Array<{
    profileChars: number;
    digestsPerUser: number;
    /** INFO used_memory delta ÷ users (includes the expires dict and allocator overhead). */
    bytesPerUser: number;
    /** MEMORY USAGE of one user's keys (mean), by kind. */
    keyBytes: { exact: number; latest: number; index: number };
    keysPerUser: number;
  }>;
  /**
   * Least-squares fit over the points. The profile value is stored once per live digest (exact keys) plus
   * once as `latest`: bytesPerUser ≈ base + perCharPerCopy·chars·(digests + 1) + perExtraDigest·(digests − 1).
   */
  fit: { base: number; perCharPerCopy: number; perExtraDigest: number };
}

interface Measurements {
  tokens?: TokenMeasurement;
  redis?: RedisMeasurement;
}

function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

interface BenchScenario {
  command?: string;
  finishedAt?: string;
  machine?: { nproc?: number; cpuModel?: string };
  connections?: number;
  load?: { rps?: number };
  cpu?: { targetUsPerReq?: number; targetCoreUtil?: number };
  rssKb?: { end?: number };
  llm?: { perRequest?: number };
}

// ---------------------------------------------------------------------------------------------------------
// --measure-tokens: the real service, in-process, against the double, on the bench workload

async function measureTokens(users: number, candidates: number): Promise<TokenMeasurement> {
  const double = await startLlmDouble();
  const config = loadConfig({ LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-capacity', LLM_MODEL: 'double-model', LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0' });
  const logger = pino({ level: 'silent' });
  const container = await createRuntime(config, 'api', { logger, overrides: { metrics: createMetrics({ defaultMetrics: false }), jobs: false } });
  const app = await buildApp(container, { logger });
  await app.ready();
  type Usage = { llmCalls: number; promptTokens: number; completionTokens: number };
  const sums = { rerankPrompt: 0, rerankCompletion: 0, profilePrompt: 0, profileCompletion: 0, rerankCalls: 0 };
  try {
    for (let u = 0; u < users; u++) {
      const payload = rerankBody(`capacity-${u}`, userHistory(u, HISTORY_LEN), userCandidates(u, candidates));
      const post = async (): Promise<{ usage: Usage; profile: { cached: boolean } | null }> => {
        const res = await app.inject({ method: 'POST', url: '/v1/rerank', headers: { 'content-type': 'application/json' }, payload });
        if (res.statusCode !== 200) throw new Error(`rerank answered ${res.statusCode}: ${res.body}`);
        return res.json();
      };
      const callsBefore = double.calls.length;
      const miss = await post(); // profile + rerank
      const profileCall = double.calls.slice(callsBefore).find((c) => c.role === 'profile');
      const hit = await post(); // rerank only, same prompt text
      if (miss.profile?.cached !== false || hit.profile?.cached !== true) throw new Error('expected a cache miss, then a hit');
      const rerankCalls = hit.usage.llmCalls;
      sums.rerankCalls += rerankCalls;
      sums.rerankPrompt += hit.usage.promptTokens / rerankCalls;
      sums.rerankCompletion += hit.usage.completionTokens / rerankCalls;
      sums.profilePrompt += miss.usage.promptTokens - hit.usage.promptTokens;
      sums.profileCompletion += miss.usage.completionTokens - hit.usage.completionTokens;
      if (!profileCall) throw new Error('the double saw no profile call');
    }
  } finally {
    await app.close();
    await container.close();
    await double.close();
  }
  const mean = (x: number) => Math.round((x / users) * 10) / 10;
  return {
    command: 'npx tsx scripts/capacity-model.ts --measure-tokens',
    at: new Date().toISOString(),
    users,
    candidates,
    historyItemsSent: HISTORY_LEN,
    rerankPromptTokens: mean(sums.rerankPrompt),
    rerankCompletionTokens: mean(sums.rerankCompletion),
    profilePromptTokens: mean(sums.profilePrompt),
    profileCompletionTokensOfDouble: mean(sums.profileCompletion),
    rerankCallsPerRequest: mean(sums.rerankCalls),
  };
}

// ---------------------------------------------------------------------------------------------------------
// --measure-redis: bytes per cached user on a private redis-server

function infoField(info: string, field: string): number {
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  if (!m?.[1]) throw new Error(`INFO has no ${field}`);
  return Number(m[1]);
}

/** Least squares for y ≈ X·b (tiny normal equations, Gaussian elimination). */
function leastSquares(rows: number[][], y: number[]): number[] {
  const n = rows[0]?.length ?? 0;
  const a = Array.from({ length: n }, (_, i) => Array.from({ length: n + 1 }, (_, j) => rows.reduce((s, r, k) => s + (r[i] ?? 0) * (j < n ? (r[j] ?? 0) : (y[k] ?? 0)), 0)));
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]?.[c] ?? 0) > Math.abs(a[p]?.[c] ?? 0)) p = r;
    [a[c], a[p]] = [a[p] as number[], a[c] as number[]];
    const pivot = a[c]?.[c] ?? 0;
    if (pivot === 0) throw new Error('degenerate fit: measure at two profile sizes and two digest counts');
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = (a[r]?.[c] ?? 0) / pivot;
      for (let j = c; j <= n; j++) (a[r] as number[])[j] = (a[r]?.[j] ?? 0) - f * (a[c]?.[j] ?? 0);
    }
  }
  return Array.from({ length: n }, (_, i) => (a[i]?.[n] ?? 0) / (a[i]?.[i] ?? 1));
}

async function measureRedis(users: number, sizes: number[], digestCounts: number[]): Promise<RedisMeasurement> {
  const server = await startRedisServer(); // a free loopback port, never 6379; no persistence
  const redis = createRedis(server.url, { role: 'cache' });
  const points: RedisMeasurement['points'] = [];
  let version = 'unknown';
  try {
    if (!(await whenReady(redis, 5_000))) throw new Error('redis-server did not become ready');
    version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    const keyPrefix = 'agp';
    const store = createRedisProfileStore({ redis, keyPrefix });
    const keys = createKeySchema(keyPrefix);
    // A realistic key: a trained version name and a 32-hex history digest.
    const promptVersion = 'movies-20260101-120000-0123456789ab';
    const digest = (u: number, d: number) => `${(u * 7919 + d * 104_729).toString(16).padStart(8, '0')}${'0'.repeat(24)}`;
    for (const chars of sizes) {
      for (const digests of digestCounts) {
        await redis.flushall(); // our own server
        const before = infoField(await redis.info('memory'), 'used_memory');
        const text = 'The user enjoys '.padEnd(chars, 'x y z ').slice(0, chars);
        let next = 0;
        const worker = async () => {
          for (;;) {
            const u = next++;
            if (u >= users) return;
            for (let d = 0; d < digests; d++) {
              await store.save({ domain: 'movies', promptVersion, userId: `user-${u}`, historyDigest: digest(u, d) }, { text, historyDigest: digest(u, d), createdAt: Date.now() }, 86_400);
            }
          }
        };
        await Promise.all(Array.from({ length: 32 }, () => worker()));
        const after = infoField(await redis.info('memory'), 'used_memory');
        const sample = Math.min(200, users);
        const sum = { exact: 0, latest: 0, index: 0 };
        for (let u = 0; u < sample; u++) {
          const k = { domain: 'movies', promptVersion, userId: `user-${u}`, historyDigest: digest(u, 0) };
          sum.exact += Number(await redis.memory('USAGE', keys.profileExact(k), 'SAMPLES', 0));
          sum.latest += Number(await redis.memory('USAGE', keys.profileLatest(k), 'SAMPLES', 0));
          sum.index += Number(await redis.memory('USAGE', keys.profileIndex(k.userId), 'SAMPLES', 0));
        }
        const dbsize = await redis.dbsize();
        points.push({
          profileChars: chars,
          digestsPerUser: digests,
          bytesPerUser: Math.round((after - before) / users),
          keyBytes: { exact: Math.round(sum.exact / sample), latest: Math.round(sum.latest / sample), index: Math.round(sum.index / sample) },
          keysPerUser: dbsize / users,
        });
        process.stderr.write(`[capacity] redis: ${chars} chars, ${digests} digest(s)/user: ${points.at(-1)?.bytesPerUser} B/user\n`);
      }
    }
  } finally {
    redis.disconnect();
    await server.stop();
  }
  const [base, perCharPerCopy, perExtraDigest] = leastSquares(
    points.map((p) => [1, p.profileChars * (p.digestsPerUser + 1), p.digestsPerUser - 1]),
    points.map((p) => p.bytesPerUser),
  ) as [number, number, number];
  return {
    command: 'npx tsx scripts/capacity-model.ts --measure-redis',
    at: new Date().toISOString(),
    redisServer: version,
    usersPerPoint: users,
    points,
    fit: { base: Math.round(base), perCharPerCopy: Math.round(perCharPerCopy * 1000) / 1000, perExtraDigest: Math.round(perExtraDigest) },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The model

interface ModelInputs {
  rps: number;
  hitRatio: number;
  churn: number;
  latencyMs: number;
  windows: number;
  cpuUsHit: number;
  cpuUsMiss: number;
  rerankPromptTokens: number;
  rerankCompletionTokens: number;
  profilePromptTokens: number;
  profileCompletionTokens: number;
  podCpuRequest: number;
  podCpuLimit: number;
  hpaTarget: number;
  llmMaxConcurrency: number;
  users: number;
  profileChars: number;
  digestsPerUser: number;
  promptVersionsCached: number;
  redisFit: RedisMeasurement['fit'];
  pricePrompt?: number | undefined;
  priceCompletion?: number | undefined;
}

/** Every output of the model for one set of inputs (formulas in docs/scaling.md). */
function model(i: ModelInputs) {
  const pProfile = 1 - i.hitRatio + i.hitRatio * i.churn; // requests that cause a profile call
  const syncProfile = { swr: 1 - i.hitRatio, strict: pProfile }; // ... that wait for it
  const callsPerReq = i.windows + pProfile;
  const promptPerReq = i.windows * i.rerankPromptTokens + pProfile * i.profilePromptTokens;
  const completionPerReq = i.windows * i.rerankCompletionTokens + pProfile * i.profileCompletionTokens;
  const cpuUsPerReq = (1 - pProfile) * i.cpuUsHit + pProfile * i.cpuUsMiss;
  const coresNeeded = (i.rps * cpuUsPerReq) / 1e6;
  const inFlight = i.rps * callsPerReq * (i.latencyMs / 1000); // Little's law
  const podsAtRequest = coresNeeded / (i.podCpuRequest * i.hpaTarget);
  // One Node event loop uses at most about one core, whatever the limit says.
  const podsAtLimit = coresNeeded / (Math.min(1, i.podCpuLimit) * i.hpaTarget);
  const podsForLlmSlots = inFlight / i.llmMaxConcurrency;
  const bytesPerUser =
    (i.redisFit.base + i.redisFit.perCharPerCopy * i.profileChars * (i.digestsPerUser + 1) + i.redisFit.perExtraDigest * (i.digestsPerUser - 1)) *
    i.promptVersionsCached;
  const costPerMillion =
    i.pricePrompt !== undefined && i.priceCompletion !== undefined ? promptPerReq * i.pricePrompt + completionPerReq * i.priceCompletion : undefined;
  return {
    pProfile,
    syncProfile,
    callsPerReq,
    promptPerReq,
    completionPerReq,
    cpuUsPerReq,
    llmCallsPerSec: i.rps * callsPerReq,
    promptTokensPerDay: i.rps * 86_400 * promptPerReq,
    completionTokensPerDay: i.rps * 86_400 * completionPerReq,
    coresNeeded,
    inFlight,
    podsPer1000: { atRequest: (podsAtRequest * 1000) / i.rps, atLimit: (podsAtLimit * 1000) / i.rps, llmSlots: (podsForLlmSlots * 1000) / i.rps },
    pods: { atRequest: podsAtRequest, atLimit: podsAtLimit, llmSlots: podsForLlmSlots },
    expectedLlmWaitMs: {
      swr: i.latencyMs * i.windows + syncProfile.swr * i.latencyMs,
      strict: i.latencyMs * i.windows + syncProfile.strict * i.latencyMs,
    },
    redisBytesPerUser: bytesPerUser,
    redisGiB: (bytesPerUser * i.users) / 2 ** 30,
    costPerMillion,
    costPerDay: costPerMillion === undefined ? undefined : (costPerMillion * i.rps * 86_400) / 1e6,
  };
}

// ---------------------------------------------------------------------------------------------------------
// CLI

const num = (name: string, v: string | undefined, def?: number): number | undefined => {
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a non-negative number: ${v}`);
  return n;
};
const f = (n: number, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const si = (n: number) => (n >= 1e9 ? `${f(n / 1e9, 2)} G` : n >= 1e6 ? `${f(n / 1e6, 2)} M` : n >= 1e3 ? `${f(n / 1e3, 1)} k` : f(n, 1));

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      rps: { type: 'string', default: '1000' },
      'hit-ratio': { type: 'string', default: '0.8' },
      churn: { type: 'string', default: '0.1' },
      'llm-latency-ms': { type: 'string', default: '200' },
      candidates: { type: 'string', default: '20' },
      'window-size': { type: 'string', default: '20' },
      'window-step': { type: 'string', default: '10' },
      'cpu-us-hit': { type: 'string' },
      'cpu-us-miss': { type: 'string' },
      'rerank-prompt-tokens': { type: 'string' },
      'rerank-completion-tokens': { type: 'string' },
      'profile-prompt-tokens': { type: 'string' },
      'profile-completion-tokens': { type: 'string', default: '300' },
      'price-prompt': { type: 'string' },
      'price-completion': { type: 'string' },
      'pod-cpu-request': { type: 'string', default: '1' },
      'pod-cpu-limit': { type: 'string', default: '1' },
      'hpa-target': { type: 'string', default: '0.7' },
      'llm-max-concurrency': { type: 'string', default: '256' },
      users: { type: 'string', default: '1000000' },
      'profile-chars': { type: 'string' },
      'digests-per-user': { type: 'string', default: '1' },
      'prompt-versions-cached': { type: 'string', default: '1' },
      'redis-bytes-per-user': { type: 'string' },
      'measure-redis': { type: 'boolean', default: false },
      'measure-tokens': { type: 'boolean', default: false },
      'redis-users': { type: 'string', default: '20000' },
      'token-users': { type: 'string', default: '50' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (v.help) {
    process.stdout.write(`${readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]}*/\n`);
    return;
  }
  const candidates = num('candidates', v.candidates) as number;
  const stored = readJson<Measurements>(MEASUREMENTS) ?? {};
  if (v['measure-tokens']) {
    stored.tokens = await measureTokens(num('token-users', v['token-users']) as number, candidates);
    process.stderr.write(`[capacity] tokens measured: ${JSON.stringify(stored.tokens)}\n`);
  }
  if (v['measure-redis']) {
    stored.redis = await measureRedis(num('redis-users', v['redis-users']) as number, [400, 1200], [1, 3]);
  }
  if (v['measure-tokens'] || v['measure-redis']) {
    await mkdir(dirname(MEASUREMENTS), { recursive: true });
    await writeFile(MEASUREMENTS, `${JSON.stringify(stored, null, 2)}\n`);
  }

  const hit = readJson<BenchScenario>(`${RESULTS}/service-cache-hit.json`);
  const miss = readJson<BenchScenario>(`${RESULTS}/service-cache-miss.json`);
  const t = stored.tokens;
  const missing: string[] = [];
  const need = (name: string, flag: string | undefined, measured: number | undefined): number => {
    const n = num(name, flag) ?? measured;
    if (n === undefined) missing.push(`--${name}`);
    return n ?? Number.NaN;
  };
  const profileCompletionTokens = num('profile-completion-tokens', v['profile-completion-tokens']) as number;
  const rerankPromptMeasured = t ? t.rerankPromptTokens - t.profileCompletionTokensOfDouble + profileCompletionTokens : undefined;
  const profileChars = num('profile-chars', v['profile-chars']) ?? profileCompletionTokens * 4;
  const redisFit: RedisMeasurement['fit'] | undefined =
    v['redis-bytes-per-user'] !== undefined ? { base: num('redis-bytes-per-user', v['redis-bytes-per-user']) as number, perCharPerCopy: 0, perExtraDigest: 0 } : stored.redis?.fit;
  if (!redisFit) missing.push('--redis-bytes-per-user (or --measure-redis)');
  const ws = num('window-size', v['window-size']) as number;
  const wstep = num('window-step', v['window-step']) as number;
  const inputs: ModelInputs = {
    rps: num('rps', v.rps) as number,
    hitRatio: Math.min(1, num('hit-ratio', v['hit-ratio']) as number),
    churn: Math.min(1, num('churn', v.churn) as number),
    latencyMs: num('llm-latency-ms', v['llm-latency-ms']) as number,
    windows: planWindows(candidates, ws, wstep).length,
    cpuUsHit: need('cpu-us-hit', v['cpu-us-hit'], hit?.cpu?.targetUsPerReq),
    cpuUsMiss: need('cpu-us-miss', v['cpu-us-miss'], miss?.cpu?.targetUsPerReq),
    rerankPromptTokens: need('rerank-prompt-tokens', v['rerank-prompt-tokens'], rerankPromptMeasured),
    rerankCompletionTokens: need('rerank-completion-tokens', v['rerank-completion-tokens'], t?.rerankCompletionTokens),
    profilePromptTokens: need('profile-prompt-tokens', v['profile-prompt-tokens'], t?.profilePromptTokens),
    profileCompletionTokens,
    podCpuRequest: num('pod-cpu-request', v['pod-cpu-request']) as number,
    podCpuLimit: num('pod-cpu-limit', v['pod-cpu-limit']) as number,
    hpaTarget: num('hpa-target', v['hpa-target']) as number,
    llmMaxConcurrency: num('llm-max-concurrency', v['llm-max-concurrency']) as number,
    users: num('users', v.users) as number,
    profileChars,
    digestsPerUser: Math.max(1, num('digests-per-user', v['digests-per-user']) as number),
    promptVersionsCached: Math.max(1, num('prompt-versions-cached', v['prompt-versions-cached']) as number),
    redisFit: redisFit ?? { base: Number.NaN, perCharPerCopy: 0, perExtraDigest: 0 },
    pricePrompt: num('price-prompt', v['price-prompt']),
    priceCompletion: num('price-completion', v['price-completion']),
  };
  if (missing.length > 0) {
    throw new Error(
      `missing measured inputs: ${missing.join(', ')}. Run the serving bench (npm run bench) for CPU, ` +
        `--measure-tokens and --measure-redis for tokens and memory, or pass the flags.`,
    );
  }
  const out = model(inputs);
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ inputs, outputs: out, sources: { hit: hit?.finishedAt, miss: miss?.finishedAt, tokens: t?.at, redis: stored.redis?.at } }, null, 2)}\n`);
    return;
  }

  const src = (flag: string | undefined, measured: string) => (flag !== undefined ? 'flag' : measured);
  const lines: string[] = [];
  const p = (s = '') => lines.push(s);
  p(`# Capacity model (${new Date().toISOString()}, ${availableParallelism()} × ${cpus()[0]?.model ?? 'cpu'})`);
  p();
  p('## Inputs');
  p();
  p('| Input | Value | Source |');
  p('|---|---|---|');
  p(`| request rate | ${f(inputs.rps)} req/s | flag --rps |`);
  p(`| profile cache hit ratio h | ${inputs.hitRatio} | flag --hit-ratio |`);
  p(`| history churn c (hits whose history changed) | ${inputs.churn} | flag --churn |`);
  p(`| LLM latency | ${inputs.latencyMs} ms | flag --llm-latency-ms |`);
  p(`| rerank calls per request W | ${inputs.windows} (${candidates} candidates, window ${ws}/${wstep}) | planWindows() |`);
  p(`| service CPU per cache-hit request | ${f(inputs.cpuUsHit)} µs | ${src(v['cpu-us-hit'], `bench/results/service-cache-hit.json (${hit?.finishedAt ?? '?'}, ${f(hit?.load?.rps ?? 0)} req/s at ${f((hit?.cpu?.targetCoreUtil ?? 0) * 100)} % of a core)`)} |`);
  p(`| service CPU per cache-miss request | ${f(inputs.cpuUsMiss)} µs | ${src(v['cpu-us-miss'], `bench/results/service-cache-miss.json (${miss?.finishedAt ?? '?'}, ${f(miss?.load?.rps ?? 0)} req/s)`)} |`);
  p(`| rerank prompt tokens / call | ${f(inputs.rerankPromptTokens, 1)} | ${src(v['rerank-prompt-tokens'], `--measure-tokens (${t?.at ?? '?'}): ${t?.rerankPromptTokens} measured with the double's ${t?.profileCompletionTokensOfDouble}-token profile, corrected to a ${profileCompletionTokens}-token profile`)} |`);
  p(`| rerank completion tokens / call | ${f(inputs.rerankCompletionTokens, 1)} | ${src(v['rerank-completion-tokens'], '--measure-tokens (the double answers the exact `<ranking>` format)')} |`);
  p(`| profile prompt tokens / call | ${f(inputs.profilePromptTokens, 1)} | ${src(v['profile-prompt-tokens'], '--measure-tokens (the real profile prompt, built-in prompt text)')} |`);
  p(`| profile completion tokens / call | ${f(inputs.profileCompletionTokens)} | flag --profile-completion-tokens (default = LLM_PROFILE_MAX_TOKENS cap: an upper bound, not measured) |`);
  p(`| Redis bytes per cached user | ${f(inputs.redisFit.base)} + ${inputs.redisFit.perCharPerCopy} × chars × (digests + 1) + ${f(inputs.redisFit.perExtraDigest)} × (digests − 1) | ${v['redis-bytes-per-user'] !== undefined ? 'flag' : `--measure-redis (${stored.redis?.at ?? '?'}, redis ${stored.redis?.redisServer ?? '?'})`} |`);
  p(`| profile size / digests alive per user / prompt versions cached | ${f(inputs.profileChars)} chars / ${inputs.digestsPerUser} / ${inputs.promptVersionsCached} | flags |`);
  p(`| pod CPU request / limit / HPA target | ${inputs.podCpuRequest} / ${inputs.podCpuLimit} core / ${inputs.hpaTarget} | flags (chart defaults) |`);
  p(`| LLM_MAX_CONCURRENCY per pod | ${inputs.llmMaxConcurrency} | flag |`);
  p();
  p('## Per request');
  p();
  p('| Policy | LLM calls / req | requests waiting for a profile call | expected LLM wait / req | prompt tok / req | completion tok / req | service CPU µs / req |');
  p('|---|---:|---:|---:|---:|---:|---:|');
  for (const pol of ['swr', 'strict'] as const) {
    p(
      `| ${pol === 'swr' ? 'stale-while-revalidate' : 'strict'} | ${f(out.callsPerReq, 3)} | ${f(out.syncProfile[pol] * 100, 1)} % | ${f(out.expectedLlmWaitMs[pol])} ms | ${f(out.promptPerReq, 1)} | ${f(out.completionPerReq, 1)} | ${f(out.cpuUsPerReq)} |`,
    );
  }
  p();
  p(`## At ${f(inputs.rps)} req/s`);
  p();
  p('| Quantity | Value |');
  p('|---|---|');
  p(`| LLM calls / s | ${f(out.llmCallsPerSec, 1)} (rerank ${f(inputs.rps * inputs.windows, 1)}, profile ${f(inputs.rps * out.pProfile, 1)}) |`);
  p(`| tokens / day | prompt ${si(out.promptTokensPerDay)}, completion ${si(out.completionTokensPerDay)} |`);
  p(`| LLM calls in flight (all pods) | ${f(out.inFlight, 1)} |`);
  p(`| service CPU | ${f(out.coresNeeded, 2)} cores |`);
  p(`| pods at the HPA target of the CPU request (${inputs.hpaTarget} × ${inputs.podCpuRequest} core) | ${f(out.pods.atRequest, 1)} (${f(out.podsPer1000.atRequest, 2)} per 1,000 req/s) |`);
  p(`| pods at ${inputs.hpaTarget} × min(limit, 1 core) | ${f(out.pods.atLimit, 1)} (${f(out.podsPer1000.atLimit, 2)} per 1,000 req/s) |`);
  p(`| pods so that in-flight LLM calls fit LLM_MAX_CONCURRENCY | ${f(out.pods.llmSlots, 1)} (${f(out.podsPer1000.llmSlots, 2)} per 1,000 req/s) |`);
  p(`| Redis for ${si(inputs.users)} users | ${f(out.redisBytesPerUser)} B/user → ${f(out.redisGiB, 2)} GiB |`);
  p(
    `| LLM cost per 1M reranks | ${out.costPerMillion === undefined ? `${f(out.promptPerReq, 1)} M prompt tok × P_prompt + ${f(out.completionPerReq, 1)} M completion tok × P_completion (pass --price-prompt/--price-completion, USD per 1M tokens)` : `$${f(out.costPerMillion, 2)} (at $${inputs.pricePrompt} / $${inputs.priceCompletion} per 1M prompt/completion tokens)`} |`,
  );
  if (out.costPerDay !== undefined) p(`| LLM cost per day | $${f(out.costPerDay, 2)} |`);
  p();
  p(`## Sensitivity at ${f(inputs.rps)} req/s: LLM calls / s and tokens / day (prompt + completion) by hit ratio and churn`);
  p();
  const churns = [0, 0.1, 0.25, 0.5, 1];
  p(`| hit ratio \\ churn | ${churns.join(' | ')} |`);
  p(`|---|${churns.map(() => '---:').join('|')}|`);
  for (const h of [0.5, 0.8, 0.9, 0.95, 0.99]) {
    const cells = churns.map((c) => {
      const m = model({ ...inputs, hitRatio: h, churn: c });
      return `${f(m.llmCallsPerSec)} /s · ${si(m.promptTokensPerDay + m.completionTokensPerDay)}`;
    });
    p(`| ${h} | ${cells.join(' | ')} |`);
  }
  const training = readJson<{ command: string; runs: Array<{ reasons: string; scenario: string; concurrency: number; llmCalls: number; promptTokens: number; completionTokens: number; wallMs: number }> }>(
    `${RESULTS}/training-cost.json`,
  );
  if (training) {
    p();
    p(`## One training run of the paper's setting (bench/results/training-cost.json, \`${training.command}\`)`);
    p();
    p('| reasons | LLM behaviour | LLM calls | prompt tokens | completion tokens | wall s | cost |');
    p('|---|---|---:|---:|---:|---:|---|');
    for (const r of training.runs.filter((x, idx, all) => all.findIndex((y) => y.reasons === x.reasons && y.scenario === x.scenario) === idx)) {
      const cost = inputs.pricePrompt !== undefined && inputs.priceCompletion !== undefined ? `$${f((r.promptTokens * inputs.pricePrompt + r.completionTokens * inputs.priceCompletion) / 1e6, 4)}` : '–';
      p(`| ${r.reasons} | ${r.scenario} | ${r.llmCalls} | ${f(r.promptTokens)} | ${f(r.completionTokens)} | ${f(r.wallMs / 1000, 1)} | ${cost} |`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`capacity-model: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
