/**
 * Soak: the long variant of test/resilience/llm-chaos.test.ts. Runs the real server process against the LLM
 * double with chaos (500s, 429s with Retry-After, hangs, junk, partial rankings, latency jitter) at steady
 * load for --duration, samples the server's RSS (/proc/<pid>/status) and heap every --sample-every seconds,
 * then turns chaos off and checks that the circuit breaker closes and fallbacks stop.
 *
 *   npm run soak -- --duration 5m            (default 5m; also 300, 300s, 90s, 2m)
 *   npm run soak -- --duration 60s --concurrency 20 --deadline 400 --out bench/results/soak.json
 *
 * Prints a Markdown summary and writes a JSON report. Exits 1 when an invariant broke: a non-200 answer, a
 * ranking that is not a permutation of the request's candidates, a fallback reason the faults cannot explain,
 * or a breaker that does not close after the chaos stops.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startLlmDouble, type ChaosOptions } from '../testkit/llm-double.js';
import { metricByLabel, metricValue, percentile, rerankProblem, runLoad, scrape, type LoadSample, type RerankBody } from '../testkit/load.js';
import { CLK_TCK, rssKb, startServerProcess } from '../testkit/processes.js';
import { machineInfo } from '../bench/lib/machine.js';
import { sleep } from '../testkit/wait.js';

const CHAOS: ChaosOptions = { error500: 0.2, error429: 0.05, hang: 0.05, junk: 0.1, partial: 0.05 };
const EXPLAINED = new Set(['llm_error', 'timeout', 'unparseable', 'circuit_open']);

/** "300", "300s", "5m", "1h" → seconds. */
function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new Error(`--duration: cannot parse "${v}" (use e.g. 300, 90s, 5m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return unit === 'ms' ? n / 1000 : unit === 'm' ? n * 60 : unit === 'h' ? n * 3600 : n;
}

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5m' },
    concurrency: { type: 'string', default: '20' },
    deadline: { type: 'string', default: '400' },
    'sample-every': { type: 'string', default: '5' },
    'breaker-reset-ms': { type: 'string', default: '1000' },
    seed: { type: 'string', default: '42' },
    out: { type: 'string', default: 'bench/results/soak.json' },
  },
  strict: true,
});
const durationS = parseDuration(args.duration);
const concurrency = Number(args.concurrency);
const deadlineMs = Number(args.deadline);
const sampleEveryMs = parseDuration(args['sample-every']) * 1000;
const breakerResetMs = Number(args['breaker-reset-ms']);

interface MemorySample {
  tS: number;
  rssMb: number;
  heapUsedMb: number | undefined;
  eventLoopLagMaxMs: number | undefined;
  circuitState: number | undefined;
  /** agp_llm_inflight at the sample: LLM calls holding a concurrency slot (foreground and background). */
  llmInflight: number | undefined;
}

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const info = machineInfo(CLK_TCK);
  const loadBefore = loadavg();
  const double = await startLlmDouble({ latency: { meanMs: 60, jitterMs: 40 }, seed: Number(args.seed) });
  const server = await startServerProcess({
    env: {
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'k',
      LLM_MODEL: 'double-model',
      BREAKER_RESET_MS: String(breakerResetMs),
      WORKER_ENABLED: 'false',
      MAX_EVENT_LOOP_DELAY_MS: '0',
    },
  });
  const problems: string[] = [];
  try {
    const candidatesOf = (i: number) => Array.from({ length: 8 }, (_, k) => ({ id: `c${k}`, title: `soak ${i % 97} candidate ${k} drama` }));
    const body = (i: number) => ({
      userId: `soak-${i % 500}`,
      method: i % 4 === 3 ? 'agp' : 'direct',
      deadlineMs,
      // A rotating history: users come back with a changed history, exercising stale-while-revalidate.
      history: Array.from({ length: 3 }, (_, k) => ({ id: `h${(i + k) % 7}`, title: `seen ${(i + k) % 7} space opera` })),
      candidates: candidatesOf(i),
    });

    process.stderr.write(`soak: server pid ${server.pid} on ${server.origin}; warm-up 2 s\n`);
    await runLoad({ origin: server.origin, concurrency: 4, durationMs: 2_000, next: (i) => ({ path: '/v1/rerank', body: body(i) }) });

    // ---- chaos phase
    const reasons: Record<string, number> = {};
    const statuses: Record<string, number> = {};
    const elapsed: number[] = [];
    const totals: number[] = [];
    let overDeadline50 = 0;
    let requests = 0;
    const record = (s: LoadSample) => {
      requests++;
      statuses[String(s.status ?? s.error)] = (statuses[String(s.status ?? s.error)] ?? 0) + 1;
      const problem = rerankProblem(s, candidatesOf(s.index));
      if (problem) {
        if (problems.length < 20) problems.push(`request #${s.index}: ${problem}`);
        return;
      }
      const b = s.body as RerankBody;
      const reason = b.fallback?.reason ?? 'none';
      reasons[reason] = (reasons[reason] ?? 0) + 1;
      if (reason !== 'none' && !EXPLAINED.has(reason) && problems.length < 20) problems.push(`request #${s.index}: unexplained reason ${reason}`);
      elapsed.push(s.elapsedMs);
      totals.push(b.timingsMs.total);
      if (b.timingsMs.total > deadlineMs + 50) overDeadline50++;
    };

    const memory: MemorySample[] = [];
    const t0 = performance.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const kb = rssKb(server.pid);
        let text = '';
        try {
          text = await scrape(server.origin);
        } catch {
          /* keep going: RSS is what matters */
        }
        const heap = metricValue(text, 'nodejs_heap_size_used_bytes');
        const lag = metricValue(text, 'nodejs_eventloop_lag_max_seconds');
        if (kb !== undefined) {
          memory.push({
            tS: round((performance.now() - t0) / 1000),
            rssMb: mb(kb),
            heapUsedMb: heap === undefined ? undefined : round(heap / 1024 / 1024),
            eventLoopLagMaxMs: lag === undefined ? undefined : round(lag * 1000 - 10, 0),
            circuitState: metricValue(text, 'agp_llm_circuit_state'),
            llmInflight: metricValue(text, 'agp_llm_inflight'),
          });
          process.stderr.write(`soak: t=${memory.at(-1)?.tS}s rss=${mb(kb)} MB llm-inflight=${memory.at(-1)?.llmInflight} requests=${requests}\n`);
        }
        double.calls.length = 0; // the double records every call; the soak does not need them
        const next = performance.now() + sampleEveryMs;
        while (sampling && performance.now() < next) await sleep(100);
      }
    })();

    double.setChaos(CHAOS);
    const run = await runLoad({
      origin: server.origin,
      concurrency,
      durationMs: durationS * 1000,
      timeoutMs: 10_000,
      pauseMs: () => 10 + Math.random() * 20,
      keepSamples: false,
      next: (i) => ({ path: '/v1/rerank', body: body(i) }),
      onSample: record,
    });
    sampling = false;
    await sampler;
    const lastRss = rssKb(server.pid);
    if (lastRss !== undefined) {
      memory.push({ tS: round((performance.now() - t0) / 1000), rssMb: mb(lastRss), heapUsedMb: undefined, eventLoopLagMaxMs: undefined, circuitState: undefined, llmInflight: undefined });
    }
    const endText = await scrape(server.origin);

    // ---- recovery: chaos off; the breaker must close (if it was open) and fallbacks stop
    double.setChaos(undefined);
    const offAt = performance.now();
    let closedAfterMs: number | undefined;
    while (performance.now() - offAt < breakerResetMs + 5_000) {
      const state = metricValue(await scrape(server.origin), 'agp_llm_circuit_state');
      if (state === 0) {
        closedAfterMs = performance.now() - offAt;
        break;
      }
      await sleep(50);
    }
    if (closedAfterMs === undefined) problems.push(`breaker still not closed ${breakerResetMs + 5_000} ms after chaos was turned off`);
    const calm = await runLoad({ origin: server.origin, concurrency, durationMs: 2_000, next: (i) => ({ path: '/v1/rerank', body: body(i) }) });
    const calmFallbacks = calm.samples.filter((s) => s.status !== 200 || (s.body as RerankBody).fallback !== null).length;
    if (calmFallbacks > 0) problems.push(`${calmFallbacks}/${calm.samples.length} fallbacks or errors after the breaker closed`);

    // ---- report
    const chaosMem = memory;
    const first = chaosMem[0];
    const last = chaosMem.at(-1);
    const afterFirstMinute = chaosMem.filter((m) => m.tS >= Math.min(60, durationS / 2));
    const rssSlopeMbPerMin = round(slope(afterFirstMinute.map((m) => m.tS), afterFirstMinute.map((m) => m.rssMb)) * 60, 2);
    const heaps = chaosMem.map((m) => m.heapUsedMb).filter((h): h is number => h !== undefined);
    const lags = chaosMem.map((m) => m.eventLoopLagMaxMs).filter((h): h is number => h !== undefined);
    const report = {
      command: `npm run soak -- ${process.argv.slice(2).join(' ')}`.trim(),
      date: new Date().toISOString(),
      machine: { ...info, loadavgBefore: loadBefore.map((x) => round(x, 2)), loadavgAfter: loadavg().map((x) => round(x, 2)) },
      settings: { durationS, concurrency, deadlineMs, chaos: CHAOS, llmLatency: '60 ± 40 ms', breakerResetMs, sampleEveryMs },
      requests,
      rps: round(requests / (run.elapsedMs / 1000)),
      statuses,
      fallbackReasons: reasons,
      latencyMs: {
        client: { p50: round(percentile(elapsed, 50)), p99: round(percentile(elapsed, 99)), max: round(Math.max(...elapsed)) },
        server: { p50: percentile(totals, 50), p99: percentile(totals, 99), max: Math.max(...totals) },
      },
      answersOverDeadlinePlus50ms: overDeadline50,
      rss: {
        startMb: first?.rssMb,
        endMb: last?.rssMb,
        growthMb: first && last ? round(last.rssMb - first.rssMb) : undefined,
        growthPct: first && last ? round(((last.rssMb - first.rssMb) / first.rssMb) * 100) : undefined,
        maxMb: Math.max(...chaosMem.map((m) => m.rssMb)),
        slopeAfterWarmupMbPerMin: rssSlopeMbPerMin,
      },
      heapUsedMb: { start: heaps[0], end: heaps.at(-1), max: heaps.length ? Math.max(...heaps) : undefined },
      eventLoopLagMaxMs: lags.length ? Math.max(...lags) : undefined,
      llmInflightMaxSampled: Math.max(0, ...chaosMem.map((m) => m.llmInflight ?? 0)),
      profileCache: metricByLabel(endText, 'agp_profile_cache_total', 'outcome'),
      backgroundRefreshes: metricByLabel(endText, 'agp_profile_refresh_total', 'outcome'),
      recovery: { breakerClosedAfterMs: closedAfterMs === undefined ? null : Math.round(closedAfterMs), calmRequests: calm.samples.length, calmFallbacks },
      memorySamples: memory,
      problems,
      ok: problems.length === 0,
    };
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);

    const h = Object.entries(reasons).sort((a, b) => b[1] - a[1]);
    const lines = [
      `## Soak: ${durationS} s of LLM chaos at ${concurrency} concurrent`,
      '',
      `\`${report.command}\` — ${report.date}`,
      `Machine: ${info.nproc} CPU (${info.cpuModel}), ${info.memTotalMiB} MiB, Node ${info.node}; load average before ${report.machine.loadavgBefore.join(' ')}, after ${report.machine.loadavgAfter.join(' ')}`,
      '',
      '| | |',
      '|---|---|',
      `| Requests | ${requests} (${report.rps} req/s), statuses ${JSON.stringify(statuses)} |`,
      `| Latency, client p50 / p99 / max | ${report.latencyMs.client.p50} / ${report.latencyMs.client.p99} / ${report.latencyMs.client.max} ms |`,
      `| Latency, server timingsMs.total p50 / p99 / max | ${report.latencyMs.server.p50} / ${report.latencyMs.server.p99} / ${report.latencyMs.server.max} ms (deadline ${deadlineMs} ms; ${overDeadline50} answers over deadline + 50 ms) |`,
      `| Server event-loop lag, max of ${sampleEveryMs / 1000} s windows | ${report.eventLoopLagMaxMs ?? '?'} ms |`,
      `| LLM calls in flight (agp_llm_inflight), max of the samples | ${report.llmInflightMaxSampled} |`,
      `| Profile cache / background refreshes | ${JSON.stringify(report.profileCache)} / ${JSON.stringify(report.backgroundRefreshes)} |`,
      `| RSS start / end / max | ${report.rss.startMb} / ${report.rss.endMb} / ${report.rss.maxMb} MB |`,
      `| RSS growth | ${report.rss.growthMb} MB (${report.rss.growthPct} %); slope after warm-up ${rssSlopeMbPerMin} MB/min |`,
      `| Heap used start / end / max | ${report.heapUsedMb.start} / ${report.heapUsedMb.end} / ${report.heapUsedMb.max} MB |`,
      `| Breaker closed after chaos off | ${report.recovery.breakerClosedAfterMs ?? 'never'} ms; then ${calm.samples.length} requests, ${calmFallbacks} fallbacks |`,
      '',
      '| Fallback reason | Count | Share |',
      '|---|---:|---:|',
      ...h.map(([r, n]) => `| ${r} | ${n} | ${round((n / requests) * 100)} % |`),
      '',
      ...(durationS < 120
        ? ['_Under 2 minutes the RSS/heap figures mostly show V8 growing its heap before its first major collections; judge leaks on a run of 5 minutes or more._', '']
        : []),
      problems.length ? `**${problems.length} problem(s):**\n${problems.map((p) => `- ${p}`).join('\n')}` : 'All invariants held.',
      '',
      `JSON: ${args.out}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await server.stop();
    await double.close();
  }
  process.exitCode = problems.length ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
