/**
 * One HTTP load scenario against one target (the service or a reference server):
 * set the simulator's latency → warm up (unmeasured) → settle → snapshot → measured run of a fixed number
 * of requests (≈ rate × duration) → snapshot. Snapshots cover the target's CPU (/proc), RSS, the
 * simulator's call count and CPU, Redis's CPU, the bench process's own CPU and, for the service, its
 * Prometheus counters (scraped outside the CPU window).
 */
import type { BenchContext, Target } from '../lib/context.js';
import { fileSize } from '../lib/context.js';
import type { SimLatency } from '../lib/ipc.js';
import type { LoadResult } from '../lib/load.js';
import { measureLoad } from '../lib/load.js';
import type { Counters } from '../lib/prom.js';
import { counterDelta, scrapeCounters, sumSeries } from '../lib/prom.js';
import { machineCpuMicros, machineLoad } from '../lib/machine.js';
import { cpuMicros, rssKb } from '../../testkit/processes.js';
import { sleep } from '../../testkit/wait.js';

export interface HttpScenario {
  name: string;
  description: string;
  target: Target;
  connections: number;
  latency: SimLatency;
  method: 'GET' | 'POST';
  path: string;
  /** A fresh body stream for a phase (warm-up and measurement get distinct miss users). */
  bodies?: (phase: 'warmup' | 'measure') => () => string;
}

export interface HttpScenarioResult {
  scenario: string;
  description: string;
  target: Target['kind'];
  connections: number;
  simLatency: SimLatency;
  load: LoadResult;
  cpu: {
    /** Process under test: CPU µs per completed request (/proc utime+stime). */
    targetUsPerReq: number;
    /** Process under test: busy fraction of one core over the run. */
    targetCoreUtil: number;
    simUsPerReq: number;
    redisUsPerReq: number;
    benchUsPerReq: number;
  };
  /**
   * The rest of the machine during the window, in cores: CPU of processes outside this bench (other
   * users' builds and tests: non-zero means a shared, noisy machine), irq+softirq (loopback TCP), steal.
   */
  machine: { foreignCores: number; irqCores: number; stealCores: number };
  rssKb: { start: number; end: number };
  /** CLOCK_MONOTONIC (µs) at the start and end of the measured run: selects a --cpu-prof window. */
  windowMonoUs: { start: number; end: number };
  llm: { calls: number; perRequest: number; byRole: Record<string, number> };
  /** Service only: counter deltas over the measured run. */
  service?: {
    counters: Counters;
    reranks: number;
    fallbacks: number;
    fallbackReasons: Record<string, number>;
    profileCache: Record<string, number>;
    logBytesPerReq: number;
  };
}

const maxLatency = (l: SimLatency) => (typeof l === 'number' ? l : l.meanMs + l.jitterMs);

export async function runHttpScenario(ctx: BenchContext, sc: HttpScenario): Promise<HttpScenarioResult> {
  const { opts, sim } = ctx;
  const { target } = sc;
  ctx.log(`▶ ${sc.name}: ${sc.description}`);
  await sim.setLatency(sc.latency);
  const load = (phase: 'warmup' | 'measure') => ({
    url: target.origin,
    method: sc.method,
    path: sc.path,
    connections: sc.connections,
    ...(sc.bodies ? { body: sc.bodies(phase) } : {}),
  });

  const warm = await measureLoad({ ...load('warmup'), durationSec: opts.warmupSec, hardStopMs: opts.warmupSec * 3_000 + 5_000 });
  // Let background work of the warm-up (profile refreshes, simulator calls) drain out before the snapshot.
  await sleep(300 + maxLatency(sc.latency));
  const amount = Math.max(sc.connections * 4, Math.round(warm.rps * opts.durationSec));

  const isService = target.kind === 'service';
  const countersBefore = isService ? await scrapeCounters(target.origin) : {};
  const logBefore = fileSize(target.logFile);
  const simBefore = await sim.stats();
  const rssStart = rssKb(target.child.pid) ?? 0;
  const t0 = cpuMicros(target.child.pid);
  const s0 = cpuMicros(sim.child.pid);
  const r0 = cpuMicros(ctx.redisPid);
  const b0 = process.cpuUsage();
  const m0 = machineCpuMicros();
  const monoStart = Number(process.hrtime.bigint() / 1000n);
  const started = performance.now();

  const result = await measureLoad({ ...load('measure'), amount, hardStopMs: opts.durationSec * 3_000 + 10_000 });

  const wall = performance.now() - started;
  const monoEnd = Number(process.hrtime.bigint() / 1000n);
  const m1 = machineCpuMicros();
  const b1 = process.cpuUsage(b0);
  const t1 = cpuMicros(target.child.pid);
  const s1 = cpuMicros(sim.child.pid);
  const r1 = cpuMicros(ctx.redisPid);
  const rssEnd = rssKb(target.child.pid) ?? 0;
  const simAfter = await sim.stats();
  const logAfter = fileSize(target.logFile);
  const countersAfter = isService ? await scrapeCounters(target.origin) : {};

  const n = Math.max(1, result.completed);
  const byRole: Record<string, number> = {};
  for (const [role, c] of Object.entries(simAfter.byRole)) {
    const d = c - (simBefore.byRole[role] ?? 0);
    if (d) byRole[role] = d;
  }
  const llmCalls = simAfter.calls - simBefore.calls;
  const out: HttpScenarioResult = {
    scenario: sc.name,
    description: sc.description,
    target: target.kind,
    connections: sc.connections,
    simLatency: sc.latency,
    load: result,
    cpu: {
      targetUsPerReq: (t1 - t0) / n,
      targetCoreUtil: (t1 - t0) / (wall * 1000),
      simUsPerReq: (s1 - s0) / n,
      redisUsPerReq: (r1 - r0) / n,
      benchUsPerReq: (b1.user + b1.system) / n,
    },
    machine: machineLoad(m0, m1, t1 - t0 + (s1 - s0) + (r1 - r0) + b1.user + b1.system, wall * 1000),
    rssKb: { start: rssStart, end: rssEnd },
    windowMonoUs: { start: monoStart, end: monoEnd },
    llm: { calls: llmCalls, perRequest: llmCalls / n, byRole },
  };
  if (isService) {
    const d = counterDelta(countersBefore, countersAfter);
    const fallbackReasons: Record<string, number> = {};
    const profileCache: Record<string, number> = {};
    for (const [series, v] of Object.entries(d)) {
      const reason = /^agp_rerank_fallbacks_total\{reason="([^"]+)"\}/.exec(series)?.[1];
      if (reason) fallbackReasons[reason] = v;
      const outcome = /^agp_profile_cache_total\{outcome="([^"]+)"\}/.exec(series)?.[1];
      if (outcome) profileCache[outcome] = v;
    }
    out.service = {
      counters: d,
      reranks: sumSeries(d, 'agp_rerank_total'),
      fallbacks: sumSeries(d, 'agp_rerank_fallbacks_total'),
      fallbackReasons,
      profileCache,
      logBytesPerReq: (logAfter - logBefore) / n,
    };
  }
  const l = result.latencyMs;
  ctx.log(
    `  ${result.completed} req in ${(result.elapsedMs / 1000).toFixed(1)} s = ${result.rps.toFixed(0)} req/s; ` +
      `p50 ${l.p50.toFixed(1)} p95 ${l.p95.toFixed(1)} p99 ${l.p99.toFixed(1)} ms; ` +
      `${target.label} ${out.cpu.targetUsPerReq.toFixed(0)} µs CPU/req; LLM calls/req ${out.llm.perRequest.toFixed(3)}` +
      (out.service ? `; fallbacks ${out.service.fallbacks}` : '') +
      `; other processes ${out.machine.foreignCores.toFixed(2)} cores, irq ${out.machine.irqCores.toFixed(2)}, steal ${out.machine.stealCores.toFixed(2)}` +
      (result.non2xx || result.errors ? `; non2xx ${result.non2xx} errors ${result.errors}` : ''),
  );
  return out;
}
