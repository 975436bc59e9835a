/** Facts about the machine and toolchain, recorded with every result. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { CLK_TCK } from '../../testkit/processes.js';

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  node: string;
  kernel: string;
  memTotalMiB: number;
  redisServer: string;
  loadAvgAtStart: number[];
  clkTck: number;
}

function tryExec(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export function machineInfo(clkTck: number): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpuModel = m[1].trim();
  } catch {
    // keep os.cpus()
  }
  return {
    nproc: Number(tryExec('nproc', [])) || cpus().length,
    cpuModel,
    node: process.version,
    kernel: release(),
    memTotalMiB: Math.round(totalmem() / 1_048_576),
    redisServer: tryExec('redis-server', ['--version']).replace(/^Redis server /, ''),
    loadAvgAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
    clkTck,
  };
}

export interface SourceInfo {
  /** HEAD commit (short). */
  commit: string;
  /** Files under src/ that differ from HEAD when the run started (the build measures the working tree). */
  modifiedSrcFiles: number;
}

export function sourceInfo(repoRoot: string): SourceInfo {
  const commit = tryExecIn(repoRoot, 'git', ['rev-parse', '--short', 'HEAD']);
  const status = tryExecIn(repoRoot, 'git', ['status', '--porcelain', '--', 'src']);
  return { commit, modifiedSrcFiles: status === 'unknown' || status === '' ? 0 : status.split('\n').length };
}

function tryExecIn(cwd: string, cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Machine-wide CPU time from /proc/stat (all CPUs), in microseconds: time in process context
 * (user+nice+system), interrupt handling (irq+softirq: loopback TCP is processed there), and steal
 * (the hypervisor ran something else).
 */
export function machineCpuMicros(): { process: number; irq: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = v;
  const toUs = 1e6 / CLK_TCK;
  return { process: (user + nice + system) * toUs, irq: (irq + softirq) * toUs, steal: steal * toUs };
}

/** Machine load during a window, in cores, excluding the given processes' own CPU (µs). */
export function machineLoad(
  before: ReturnType<typeof machineCpuMicros>,
  after: ReturnType<typeof machineCpuMicros>,
  oursUs: number,
  wallUs: number,
): { foreignCores: number; irqCores: number; stealCores: number } {
  return {
    foreignCores: Math.max(0, (after.process - before.process - oursUs) / wallUs),
    irqCores: (after.irq - before.irq) / wallUs,
    stealCores: (after.steal - before.steal) / wallUs,
  };
}
