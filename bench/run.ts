/**
 * `npm run bench` — the performance harness (see docs/performance.md).
 *
 * Builds the service (`npm run build`) and runs it as `node dist/server.js` in a child process with every
 * product feature on, next to same-run reference servers (bare Fastify hello; the floor), against an
 * OpenAI-compatible simulator and a private redis-server, each in its own process. Writes
 * bench/results/<scenario>.json, summary.json and latest.md.
 *
 * Flags:
 *   --duration <s>   measured seconds per scenario (default 10)
 *   --quick          3 s scenarios, 1 s warm-ups
 *   --only <list>    comma list of groups (default: all): hello, floor, service, transport, freshness, and
 *                    sizing (the 200 ms / 200 connections scenario at LLM_MAX_CONCURRENCY=64, the old default),
 *                    experiments (issue 10: recording CPU per rerank, events/s per core, bytes per exposure;
 *                    bench/scenarios/experiments.ts, about a minute). Not in the default list, minutes long
 *                    (bench/scenarios/loop-capacity.ts): dataset-build (1M exposures; --quick 100k) and
 *                    loop-run-cost (LLM calls of one scheduled loop run); asked for alone, they skip the
 *                    build, the simulator and the bench's Redis
 *   --no-build       use the existing dist/
 *   --service-node-flags "<flags>"  extra node flags for the service process (e.g. --max-semi-space-size=64),
 *                    recorded in the results; default none
 *   --cpu-prof       profile the service (node --cpu-prof) on the cache-hit path and summarise hot spots
 *                    into bench/results/cpu-profile-service-cache-hit.json (numbers from this mode are
 *                    profiler-inflated and are not written to latest.md)
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Pool } from 'undici';
import { startRedisServer } from '../testkit/redis-server.js';
import type { RedisServerHandle } from '../testkit/redis-server.js';
import { compileChildren } from './lib/compile.js';
import type { CompiledChildren } from './lib/compile.js';
import type { BenchContext, RunOptions, Target } from './lib/context.js';
import { redisPid, startReference, startService, startSimulator } from './lib/context.js';
import { summariseProfile } from './lib/cpuprofile.js';
import { machineInfo, sourceInfo } from './lib/machine.js';
import { CLK_TCK, stopAll } from '../testkit/processes.js';
import type { Summary, TargetCheck } from './lib/report.js';
import { renderMarkdown } from './lib/report.js';
import { hitBodies, missStream, mixStream, rotate } from './lib/workload.js';
import type { HttpScenarioResult } from './scenarios/http.js';
import { runHttpScenario } from './scenarios/http.js';
import type { FreshnessResult } from './scenarios/freshness.js';
import { runFreshness } from './scenarios/freshness.js';
import type { TransportResult } from './scenarios/transport.js';
import { TRANSPORT_CLIENTS, runTransport } from './scenarios/transport.js';
import { runExperimentsBench } from './scenarios/experiments.js';
import type { LoopCapacityGroup } from './scenarios/loop-capacity.js';
import { LOOP_CAPACITY_CAP_MS, LOOP_CAPACITY_GROUPS, runLoopCapacityGroups } from './scenarios/loop-capacity.js';

const GROUPS = ['hello', 'floor', 'service', 'transport', 'freshness', 'sizing', 'experiments', ...LOOP_CAPACITY_GROUPS] as const;
type Group = (typeof GROUPS)[number];
const isLoopCapacity = (g: Group): g is LoopCapacityGroup => (LOOP_CAPACITY_GROUPS as readonly string[]).includes(g);
const DEFAULT_GROUPS: Group[] = GROUPS.filter((g) => !isLoopCapacity(g));

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = join(repoRoot, 'bench', 'results');
const HIT_USERS = 200;
const execFileP = promisify(execFile);

interface Args extends RunOptions {
  only: Set<Group>;
  serviceNodeFlags: string[];
  build: boolean;
  cpuProf: boolean;
  argv: string[];
}

function parseArgs(argv: string[]): Args {
  let durationSec = 10;
  let quick = false;
  let build = true;
  let cpuProf = false;
  let only = new Set<Group>(DEFAULT_GROUPS);
  let explicitDuration = false;
  let serviceNodeFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--no-build') build = false;
    else if (a === '--cpu-prof') cpuProf = true;
    else if (a === '--duration' || a?.startsWith('--duration=')) {
      const v = a.includes('=') ? a.split('=')[1] : argv[++i];
      durationSec = Number(v);
      explicitDuration = true;
      if (!Number.isFinite(durationSec) || durationSec < 1 || durationSec > 120) throw new Error('--duration must be 1..120 seconds');
    } else if (a === '--only' || a?.startsWith('--only=')) {
      const v = (a.includes('=') ? a.split('=')[1] : argv[++i]) ?? '';
      const groups = v.split(',').map((s) => s.trim()).filter(Boolean);
      for (const g of groups) if (!(GROUPS as readonly string[]).includes(g)) throw new Error(`--only: unknown group ${g} (${GROUPS.join(',')})`);
      only = new Set(groups as Group[]);
    } else if (a === '--service-node-flags' || a?.startsWith('--service-node-flags=')) {
      const v = (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]) ?? '';
      serviceNodeFlags = v.split(/\s+/).filter(Boolean);
      if (serviceNodeFlags.some((f) => !f.startsWith('--'))) throw new Error('--service-node-flags takes node flags such as --max-semi-space-size=64');
    } else if (a === '--help' || a === '-h') {
      console.log(
        'usage: npm run bench -- [--duration <s>] [--quick] [--only hello,floor,service,transport,freshness,sizing,experiments,dataset-build,loop-run-cost] [--no-build] ' +
          '[--service-node-flags "<node flags>"] [--cpu-prof]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (quick && !explicitDuration) durationSec = 3;
  const warmupSec = quick ? 1 : Math.min(2, Math.max(1, durationSec / 5));
  const transportMs = Math.round(Math.min(5, Math.max(2, durationSec / 2)) * 1000);
  return { durationSec, warmupSec, transportMs, quick, only, build, cpuProf, argv, serviceNodeFlags };
}

const log = (msg: string) => process.stdout.write(`${msg}\n`);

async function build(): Promise<void> {
  log('building the service (npm run build)…');
  const t = performance.now();
  await execFileP('npm', ['run', '--silent', 'build'], { cwd: repoRoot, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }).catch(
    (err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`npm run build failed: ${err.stdout ?? ''}${err.stderr ?? ''}${err.message}`);
    },
  );
  log(`  built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

/** Gives each of the cache-hit users a profile, and checks a repeat is a cache hit. */
async function warmProfiles(service: Target, bodies: string[]): Promise<void> {
  const pool = new Pool(service.origin, { connections: 20 });
  try {
    let next = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++] as string;
        const res = await pool.request({ method: 'POST', path: '/v1/rerank', headers: { 'content-type': 'application/json' }, body });
        const reply = (await res.body.json()) as { fallback: unknown };
        if (res.statusCode !== 200 || reply.fallback) throw new Error(`warm-up rerank failed: ${res.statusCode} ${JSON.stringify(reply)}`);
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    const res = await pool.request({ method: 'POST', path: '/v1/rerank', headers: { 'content-type': 'application/json' }, body: bodies[0] as string });
    const reply = (await res.body.json()) as { profile?: { cached?: boolean }; usage?: { llmCalls?: number } };
    if (!reply.profile?.cached || reply.usage?.llmCalls !== 1) throw new Error(`warm profile is not a 1-call cache hit: ${JSON.stringify(reply)}`);
  } finally {
    await pool.close();
  }
}

async function runHttpGroups(ctx: BenchContext, only: Set<Group>, results: HttpScenarioResult[]): Promise<void> {
  const hits = hitBodies(HIT_USERS);
  const latency200 = 200;
  const mixLatency = { meanMs: 200, jitterMs: 50 };
  const misses = (tag: string) => missStream(`${tag}-${process.pid}`, 50);
  const post = { method: 'POST' as const, path: '/v1/rerank' };
  // The three 200-connection scenarios, identical for the floor and the service so their rows compare.
  const llmScenarios = (label: 'floor' | 'service', target: Parameters<typeof runHttpScenario>[1]['target']) => [
    {
      name: `${label}-llm-200ms`,
      description: `${label}, cache hits, 200 ms LLM, 200 connections`,
      target,
      connections: 200,
      latency: latency200 as number | { meanMs: number; jitterMs: number },
      ...post,
      bodies: () => rotate(hits),
    },
    {
      name: `${label}-llm-200ms-jitter`,
      description: `${label}, cache hits, 200 ± 50 ms LLM (uniform), 200 connections`,
      target,
      connections: 200,
      latency: mixLatency,
      ...post,
      bodies: () => rotate(hits),
    },
    {
      name: `${label}-mix`,
      description: `${label}, 80% cache hits / 20% new users, LLM 200 ± 50 ms, 200 connections`,
      target,
      connections: 200,
      latency: mixLatency,
      ...post,
      bodies: (phase: string) => mixStream(hits, misses(`${label === 'floor' ? 'floor' : 'svc'}-mix-${phase}`), 80),
    },
  ];

  if (only.has('hello')) {
    const hello = await startReference(ctx, 'hello');
    try {
      results.push(
        await runHttpScenario(ctx, {
          name: 'hello',
          description: 'bare Fastify hello (GET /), 50 connections',
          target: hello,
          connections: 50,
          latency: 0,
          method: 'GET',
          path: '/',
        }),
      );
    } finally {
      await hello.child.stop();
    }
  }

  if (only.has('floor')) {
    const floor = await startReference(ctx, 'floor', HIT_USERS);
    try {
      results.push(
        await runHttpScenario(ctx, {
          name: 'floor-cache-hit',
          description: `floor: schema + Redis GET + undici.request to the instant simulator, ${HIT_USERS} users, 50 connections`,
          target: floor,
          connections: 50,
          latency: 0,
          ...post,
          bodies: () => rotate(hits),
        }),
      );
      for (const spec of llmScenarios('floor', floor)) results.push(await runHttpScenario(ctx, spec));
    } finally {
      await floor.child.stop();
    }
  }

  if (only.has('service')) {
    const service = await startService(ctx, { label: 'service', keyPrefix: `bench-${process.pid}`, nodeFlags: ctx.opts.serviceNodeFlags });
    try {
      await ctx.sim.setLatency(0);
      ctx.log(`warming ${HIT_USERS} user profiles…`);
      await warmProfiles(service, hits);
      results.push(
        await runHttpScenario(ctx, {
          name: 'service-cache-hit',
          description: `service, warmed profiles (${HIT_USERS} users): 1 Redis lookup + 1 rerank call, instant simulator, 50 connections`,
          target: service,
          connections: 50,
          latency: 0,
          ...post,
          bodies: () => rotate(hits),
        }),
      );
      results.push(
        await runHttpScenario(ctx, {
          name: 'service-cache-miss',
          description: 'service, a new user every request: profile + rerank calls, instant simulator, 50 connections',
          target: service,
          connections: 50,
          latency: 0,
          ...post,
          bodies: (phase) => misses(`svc-miss-${phase}`),
        }),
      );
      for (const spec of llmScenarios('service', service)) results.push(await runHttpScenario(ctx, spec));
    } finally {
      await service.child.stop(15_000);
    }
  }
}

/** What LLM_MAX_CONCURRENCY=64 (the old default; now 256) does at 200 connections with a 200 ms LLM. */
async function runSizing(ctx: BenchContext, results: HttpScenarioResult[]): Promise<void> {
  const hits = hitBodies(HIT_USERS);
  const service = await startService(ctx, {
    label: 'service-default-concurrency',
    keyPrefix: `bench-sizing-${process.pid}`,
    env: { LLM_MAX_CONCURRENCY: '64' },
    nodeFlags: ctx.opts.serviceNodeFlags,
  });
  try {
    await ctx.sim.setLatency(0);
    await warmProfiles(service, hits);
    results.push(
      await runHttpScenario(ctx, {
        name: 'service-llm-200ms-default-concurrency',
        description: 'service at LLM_MAX_CONCURRENCY=64 (the old default; the default is now 256), cache hits, 200 ms LLM, 200 connections',
        target: service,
        connections: 200,
        latency: 200,
        method: 'POST',
        path: '/v1/rerank',
        bodies: () => rotate(hits),
      }),
    );
  } finally {
    await service.child.stop(15_000);
  }
}

function computeRatios(http: HttpScenarioResult[]): { ratios: Summary['ratios']; targets: TargetCheck[] } {
  const get = (name: string) => http.find((h) => h.scenario === name);
  const fh = get('floor-cache-hit');
  const sh = get('service-cache-hit');
  const f200 = get('floor-llm-200ms');
  const s200 = get('service-llm-200ms');
  const fmix = get('floor-mix');
  const smix = get('service-mix');
  const hello = get('hello');
  const div = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b !== 0 ? a / b : null);
  const sub = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? a - b : null);
  const ratios: Summary['ratios'] = {
    'cache-hit req/s: service ÷ floor': div(sh?.load.rps, fh?.load.rps),
    'cache-hit CPU µs/req: service ÷ floor': div(sh?.cpu.targetUsPerReq, fh?.cpu.targetUsPerReq),
    'cache-hit CPU µs/req: service − floor': sub(sh?.cpu.targetUsPerReq, fh?.cpu.targetUsPerReq),
    'cache-hit p99: service ÷ floor': div(sh?.load.latencyMs.p99, fh?.load.latencyMs.p99),
    'floor req/s ÷ hello req/s': div(fh?.load.rps, hello?.load.rps),
    '200 ms LLM @200: req/s service ÷ floor': div(s200?.load.rps, f200?.load.rps),
    '200 ms LLM @200: p50 service − floor (ms)': sub(s200?.load.latencyMs.p50, f200?.load.latencyMs.p50),
    '200 ms LLM @200: p99 service − floor (ms)': sub(s200?.load.latencyMs.p99, f200?.load.latencyMs.p99),
    '200 ms LLM @200: p99 service − 200 ms (ms)': s200 ? s200.load.latencyMs.p99 - 200 : null,
    '200 ms LLM @200: p99 floor − 200 ms (ms)': f200 ? f200.load.latencyMs.p99 - 200 : null,
    '200 ms LLM @200: CPU µs/req service ÷ floor': div(s200?.cpu.targetUsPerReq, f200?.cpu.targetUsPerReq),
    '200 ± 50 ms LLM @200: p99 service − floor (ms)': sub(get('service-llm-200ms-jitter')?.load.latencyMs.p99, get('floor-llm-200ms-jitter')?.load.latencyMs.p99),
    '200 ± 50 ms LLM @200: p50 service − floor (ms)': sub(get('service-llm-200ms-jitter')?.load.latencyMs.p50, get('floor-llm-200ms-jitter')?.load.latencyMs.p50),
    'mix: req/s service ÷ floor': div(smix?.load.rps, fmix?.load.rps),
    'mix: p99 service − floor (ms)': sub(smix?.load.latencyMs.p99, fmix?.load.latencyMs.p99),
  };
  const targets: TargetCheck[] = [];
  const r = ratios['cache-hit req/s: service ÷ floor'];
  if (r !== null && r !== undefined) {
    targets.push({ target: 'Cache-hit throughput vs the floor', goal: '≥ 0.40×', measured: `${r.toFixed(2)}× (${sh?.load.rps.toFixed(0)} vs ${fh?.load.rps.toFixed(0)} req/s)`, met: r >= 0.4 });
  }
  if (sh) {
    targets.push({ target: 'Service CPU per cache-hit rerank', goal: '≤ 500 µs', measured: `${sh.cpu.targetUsPerReq.toFixed(0)} µs`, met: sh.cpu.targetUsPerReq <= 500 });
    targets.push({
      target: 'LLM calls per cache-hit rerank',
      goal: 'exactly 1',
      measured: `${sh.llm.perRequest.toFixed(3)} (${sh.llm.calls} calls / ${sh.load.completed} requests)`,
      met: sh.llm.calls === sh.load.completed,
    });
  }
  const addedVsFloor = ratios['200 ms LLM @200: p99 service − floor (ms)'];
  if (s200) {
    const vsNominal = s200.load.latencyMs.p99 - 200;
    const primary = addedVsFloor ?? vsNominal;
    targets.push({
      target: 'p99 added latency, 200 ms LLM, 200 connections',
      goal: '≤ 30 ms',
      measured:
        `${addedVsFloor !== null && addedVsFloor !== undefined ? `${addedVsFloor.toFixed(1)} ms over the floor's p99; ` : ''}` +
        `${vsNominal.toFixed(1)} ms over the LLM's 200 ms (service p99 ${s200.load.latencyMs.p99.toFixed(1)} ms)`,
      met: primary <= 30,
    });
  }
  return { ratios, targets };
}

type ProfileOut = Awaited<ReturnType<typeof summariseProfile>> & { usPerReq: number; completed: number };

/** Runs the cache-hit scenario against one target started under --cpu-prof and summarises the window. */
async function profileTarget(ctx: BenchContext, kind: 'service' | 'floor'): Promise<ProfileOut> {
  const profDir = join(ctx.scratch, `cpu-prof-${kind}`);
  await mkdir(profDir, { recursive: true });
  const nodeFlags = ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
  const hits = hitBodies(HIT_USERS);
  const target =
    kind === 'service'
      ? await startService(ctx, { label: 'service-cpu-prof', keyPrefix: `bench-prof-${process.pid}`, nodeFlags: [...ctx.opts.serviceNodeFlags, ...nodeFlags] })
      : await startReference(ctx, 'floor', HIT_USERS, nodeFlags);
  let result: HttpScenarioResult;
  try {
    if (kind === 'service') await warmProfiles(target, hits);
    result = await runHttpScenario(ctx, {
      name: `${kind}-cache-hit (profiled)`,
      description: `${kind} under --cpu-prof, cache hits, instant simulator, 50 connections`,
      target,
      connections: 50,
      latency: 0,
      method: 'POST',
      path: '/v1/rerank',
      bodies: () => rotate(hits),
    });
  } finally {
    await target.child.stop(20_000);
  }
  const files = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile written by the ${kind} (did it exit cleanly?)`);
  const matchers = ['dist/', 'bench/', 'fastify-type-provider-zod', 'zod', 'openai', 'pino', 'prom-client', 'ioredis', 'undici'];
  const summary = await summariseProfile(join(profDir, files[0] as string), repoRoot, matchers, result.windowMonoUs);
  if (summary.samplesInWindow === 0) throw new Error('no profile samples inside the measured window (clock mismatch?)');
  return { ...summary, usPerReq: result.cpu.targetUsPerReq, completed: result.load.completed };
}

async function cpuProfileMode(ctx: BenchContext, command: string): Promise<void> {
  const profiles = { floor: await profileTarget(ctx, 'floor'), service: await profileTarget(ctx, 'service') };
  const perReq = (p: ProfileOut, pct: number) => ((pct / 100) * p.busyMs * 1000) / Math.max(1, p.completed);
  for (const [kind, p] of Object.entries(profiles)) {
    const out = {
      note: 'Profiler-inflated run: use for relative hot spots only. Samples restricted to the measured window.',
      command,
      ...p,
    };
    await writeFile(join(resultsDir, `cpu-profile-${kind}-cache-hit.json`), `${JSON.stringify(out, null, 2)}\n`);
  }
  const { floor, service } = profiles;
  log(`\nCPU µs per cache-hit request by owner (nearest package or service file on the stack), under the profiler:`);
  log(`  ${'owner'.padEnd(42)} ${'service'.padStart(8)} ${'floor'.padStart(8)}`);
  const owners = new Set([...service.byOwner.map((o) => o.owner), ...floor.byOwner.map((o) => o.owner)]);
  const rows = [...owners].map((owner) => ({
    owner,
    s: perReq(service, service.byOwner.find((o) => o.owner === owner)?.pct ?? 0),
    f: perReq(floor, floor.byOwner.find((o) => o.owner === owner)?.pct ?? 0),
  }));
  for (const r of rows.sort((a, b) => b.s - a.s).slice(0, 28)) log(`  ${r.owner.padEnd(42)} ${r.s.toFixed(0).padStart(8)} ${r.f.toFixed(0).padStart(8)}`);
  log(`  ${'total (busy samples ÷ requests)'.padEnd(42)} ${perReq(service, 100).toFixed(0).padStart(8)} ${perReq(floor, 100).toFixed(0).padStart(8)}`);
  log('\nservice: top self-time functions:');
  for (const f of service.topFunctions.slice(0, 25)) log(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.fn}`);
  log(`\nwritten: bench/results/cpu-profile-service-cache-hit.json, bench/results/cpu-profile-floor-cache-hit.json`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const command = `npm run bench${args.argv.length ? ` -- ${args.argv.join(' ')}` : ''}`;
  // Whatever happens, the run ends: scenarios have their own bounds, this is the backstop.
  const loopGroups = [...args.only].filter(isLoopCapacity);
  const capMs =
    (120 + 15 * (args.durationSec + args.warmupSec)) * 1000 +
    (args.cpuProf ? 60_000 : 0) +
    (args.only.has('experiments') ? 300_000 : 0) +
    loopGroups.reduce((ms, g) => ms + LOOP_CAPACITY_CAP_MS[g], 0);
  const cap = setTimeout(() => {
    log(`bench exceeded its ${capMs / 1000} s cap; stopping everything`);
    void shutdown(3);
  }, capMs);
  cap.unref();

  const machine = machineInfo(CLK_TCK);
  const source = sourceInfo(repoRoot);
  log(`agp-rerank bench: ${machine.nproc} × ${machine.cpuModel}, node ${machine.node}; ${command}`);
  await mkdir(resultsDir, { recursive: true });
  if (!args.cpuProf && loopGroups.length === args.only.size) {
    // Only the loop's groups: they start what they need themselves.
    const targets = await runLoopCapacityGroups(repoRoot, loopGroups, args.quick, log);
    log('');
    for (const t of targets) log(`${t.met === null ? 'N/A  ' : t.met ? 'MET  ' : 'MISS '} ${t.target}: ${t.measured} (goal ${t.goal})`);
    log(`\nwritten: ${loopGroups.map((g) => `bench/results/${g}.json`).join(', ')}`);
    return;
  }
  if (args.build) await build();
  compiled = await compileChildren(repoRoot);
  scratch = await mkdtemp(join(tmpdir(), 'agp-bench-scratch-'));
  redis = await startRedisServer();
  const sim = await startSimulator(compiled);
  const ctx: BenchContext = {
    repoRoot,
    compiled,
    scratch,
    opts: args,
    sim,
    redisUrl: redis.url,
    redisPid: await redisPid(redis.url),
    log,
  };
  log(`redis-server ${redis.url} (pid ${ctx.redisPid}); LLM simulator ${sim.url} (pid ${sim.child.pid})`);

  if (args.cpuProf) {
    await cpuProfileMode(ctx, command);
    return;
  }

  const http: HttpScenarioResult[] = [];
  await runHttpGroups(ctx, args.only, http);
  if (args.only.has('sizing')) await runSizing(ctx, http);

  const transport: TransportResult[] = [];
  if (args.only.has('transport')) for (const c of TRANSPORT_CLIENTS) transport.push(await runTransport(ctx, c));

  const freshness: FreshnessResult[] = [];
  if (args.only.has('freshness')) {
    freshness.push(await runFreshness(ctx, 'stale-while-revalidate'));
    freshness.push(await runFreshness(ctx, 'strict'));
  }

  const { ratios, targets } = computeRatios(http);
  if (args.only.has('experiments')) {
    log('experiments: recording CPU per rerank, events per core, bytes per exposure…');
    const x = await runExperimentsBench(repoRoot, join(repoRoot, 'dist'));
    targets.push(...x.targets);
    await writeFile(join(resultsDir, 'experiments.json'), `${JSON.stringify({ command, machine, source, ...x.result }, null, 2)}\n`);
  }
  if (loopGroups.length > 0) targets.push(...(await runLoopCapacityGroups(repoRoot, loopGroups, args.quick, log)));
  const finishedAt = new Date();
  const summary: Summary = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    wallSec: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    command,
    machine,
    source,
    options: { durationSec: args.durationSec, warmupSec: args.warmupSec, transportMs: args.transportMs, quick: args.quick },
    serviceConfig: {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      REDIS_URL: 'bench redis-server',
      LLM_MAX_CONCURRENCY: '256',
      PROFILE_FRESHNESS: 'stale-while-revalidate',
      ...(args.serviceNodeFlags.length ? { 'node flags': args.serviceNodeFlags.join(' ') } : {}),
    },
    http,
    transport,
    freshness,
    ratios,
    targets,
  };
  const meta = { command, machine, source, finishedAt: summary.finishedAt, options: summary.options };
  for (const h of http) await writeFile(join(resultsDir, `${h.scenario}.json`), `${JSON.stringify({ ...meta, ...h }, null, 2)}\n`);
  if (transport.length) await writeFile(join(resultsDir, 'transport.json'), `${JSON.stringify({ ...meta, clients: transport }, null, 2)}\n`);
  if (freshness.length) await writeFile(join(resultsDir, 'freshness.json'), `${JSON.stringify({ ...meta, policies: freshness }, null, 2)}\n`);
  // An experiments-only run (--only experiments) keeps the last full report: its own file is experiments.json.
  if (http.length + transport.length + freshness.length > 0) {
    await writeFile(join(resultsDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    await writeFile(join(resultsDir, 'latest.md'), renderMarkdown(summary));
  }
  log('');
  for (const t of targets) log(`${t.met === null ? 'N/A  ' : t.met ? 'MET  ' : 'MISS '} ${t.target}: ${t.measured} (goal ${t.goal})`);
  log(`\nwritten: bench/results/latest.md (+ ${http.length + (transport.length ? 1 : 0) + (freshness.length ? 1 : 0)} scenario files); wall ${summary.wallSec.toFixed(0)} s`);
}

let compiled: CompiledChildren | undefined;
let scratch: string | undefined;
let redis: RedisServerHandle | undefined;
let shuttingDown = false;

async function cleanup(): Promise<void> {
  await stopAll(5_000);
  await redis?.stop().catch(() => undefined);
  await compiled?.remove().catch(() => undefined);
  if (scratch) await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
}

async function shutdown(code: number): Promise<never> {
  if (!shuttingDown) {
    shuttingDown = true;
    const force = setTimeout(() => process.exit(code), 20_000);
    force.unref();
    await cleanup();
  }
  process.exit(code);
}

process.once('SIGINT', () => void shutdown(130));
process.once('SIGTERM', () => void shutdown(143));

main().then(
  () => shutdown(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return shutdown(1);
  },
);
