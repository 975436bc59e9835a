/**
 * The transport table: CPU per LLM call and throughput of three clients calling the instant simulator in
 * a closed loop at concurrency 50, each in its own child process (see reference-servers/llm-clients.ts).
 * CPU comes from the client's /proc/<pid>/stat between its `window-start` and `transport-result`
 * messages; the client's own process.cpuUsage() over the same window is kept as a cross-check.
 */
import type { BenchContext } from '../lib/context.js';
import { baseEnv } from '../lib/context.js';
import type { TransportWindow } from '../lib/ipc.js';
import { nextMessage } from '../lib/ipc.js';
import { machineCpuMicros, machineLoad } from '../lib/machine.js';
import { cpuMicros, rssKb, spawnNode } from '../../testkit/processes.js';
import { sleep } from '../../testkit/wait.js';

export const TRANSPORT_CLIENTS = ['undici-request', 'sdk-default-fetch', 'sdk-undici-fetch'] as const;
export type TransportClient = (typeof TRANSPORT_CLIENTS)[number];

export interface TransportResult {
  client: TransportClient;
  concurrency: number;
  window: TransportWindow;
  callsPerSec: number;
  /** /proc utime+stime of the client process over the window, per successful call. */
  cpuUsPerCall: number;
  /** The client's own process.cpuUsage() per call (cross-check). */
  selfReportedCpuUsPerCall: number;
  simUsPerCall: number;
  rssKbEnd: number;
  /** The rest of the machine during the window (see HttpScenarioResult.machine). */
  machine: { foreignCores: number; irqCores: number; stealCores: number };
}

export async function runTransport(ctx: BenchContext, client: TransportClient, concurrency = 50): Promise<TransportResult> {
  ctx.log(`▶ transport-${client}: closed loop at concurrency ${concurrency} against the instant simulator`);
  await ctx.sim.setLatency(0);
  const warmupMs = Math.round(ctx.opts.warmupSec * 1000);
  const child = spawnNode(`transport-${client}`, {
    args: [ctx.compiled.path('bench/reference-servers/llm-clients.ts')],
    env: baseEnv({
      CLIENT: client,
      LLM_BASE_URL: ctx.sim.url,
      CONCURRENCY: String(concurrency),
      WARMUP_MS: String(warmupMs),
      DURATION_MS: String(ctx.opts.transportMs),
    }),
    ipc: true,
    stdout: 'ignore',
  });
  try {
    await nextMessage(child, 'ready', 15_000);
    await nextMessage(child, 'window-start', warmupMs + 15_000);
    const c0 = cpuMicros(child.pid);
    const s0 = cpuMicros(ctx.sim.child.pid);
    const m0 = machineCpuMicros();
    const b0 = process.cpuUsage();
    const w0 = performance.now();
    const res = await nextMessage(child, 'transport-result', ctx.opts.transportMs * 3 + 15_000);
    const c1 = cpuMicros(child.pid);
    const s1 = cpuMicros(ctx.sim.child.pid);
    const m1 = machineCpuMicros();
    const b1 = process.cpuUsage(b0);
    const wallUs = (performance.now() - w0) * 1000;
    const rss = rssKb(child.pid) ?? 0;
    const w = res.window;
    const calls = Math.max(1, w.calls);
    const out: TransportResult = {
      client,
      concurrency,
      window: w,
      callsPerSec: w.calls / (w.elapsedMs / 1000),
      cpuUsPerCall: (c1 - c0) / calls,
      selfReportedCpuUsPerCall: (w.cpuUserUs + w.cpuSystemUs) / calls,
      simUsPerCall: (s1 - s0) / calls,
      rssKbEnd: rss,
      machine: machineLoad(m0, m1, c1 - c0 + (s1 - s0) + b1.user + b1.system, wallUs),
    };
    ctx.log(
      `  ${w.calls} calls (${w.failures} failed) = ${out.callsPerSec.toFixed(0)} calls/s; ` +
        `${out.cpuUsPerCall.toFixed(0)} µs CPU/call (/proc), ${out.selfReportedCpuUsPerCall.toFixed(0)} µs (self); other processes ${out.machine.foreignCores.toFixed(2)} cores`,
    );
    return out;
  } finally {
    await child.stop();
    await sleep(200);
  }
}
