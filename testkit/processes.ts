/**
 * Child-process management and /proc accounting for the bench.
 *
 * Every child is registered so that `stopAll()` (and, as a last resort, a synchronous SIGKILL in the
 * process 'exit' handler) leaves nothing running, whatever happened. CPU is read from /proc/<pid>/stat
 * (utime + stime, in clock ticks of `getconf CLK_TCK`, process-wide: all threads), RSS from VmRSS.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request } from 'undici';
import type { ChildToParent, ParentToChild } from '../bench/lib/ipc.js';

/** Clock ticks per second for /proc/<pid>/stat. */
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of a process, in clock ticks (includes every thread of the process). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU time of a process in microseconds. */
export function cpuMicros(pid: number): number {
  return (cpuTicks(pid) * 1e6) / CLK_TCK;
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

/** Resident set size in KiB (VmRSS). */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : 0;
}

export interface ManagedChild {
  name: string;
  pid: number;
  proc: ChildProcess;
  /** Last few KiB of stderr (for error messages). */
  stderrTail(): string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** Sends an IPC message and waits for the reply with the same id. */
  ask<T extends ChildToParent>(msg: ParentToChild, timeoutMs?: number): Promise<T>;
  /** Waits for the next IPC message of a type. */
  next<K extends ChildToParent['type']>(type: K, timeoutMs: number): Promise<Extract<ChildToParent, { type: K }>>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Map<number, ManagedChild>();
let askId = 0;

process.once('exit', () => {
  for (const c of live.values()) {
    try {
      c.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface SpawnOptions {
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** File to append the child's stdout to; default: discarded. */
  stdoutFile?: string;
  /** Open an IPC channel (the bench's own children). */
  ipc?: boolean;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
}

/** Spawns `node <args>` as a tracked child. */
export function spawnNode(name: string, opts: SpawnOptions): ManagedChild {
  const outFd = opts.stdoutFile ? openSync(opts.stdoutFile, 'a') : 'ignore';
  const stdio: StdioOptions = ['ignore', outFd, 'pipe'];
  if (opts.ipc) stdio.push('ipc');
  const proc = spawn(process.execPath, [...(opts.nodeFlags ?? []), ...opts.args], {
    cwd: opts.cwd,
    env: opts.env,
    stdio,
  });
  if (typeof outFd === 'number') closeSync(outFd);
  if (proc.pid === undefined) throw new Error(`could not spawn ${name}`);
  const pid = proc.pid;
  let tail = '';
  proc.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString('utf8')).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
  void exited.then(() => live.delete(pid));

  const next = <K extends ChildToParent['type']>(type: K, timeoutMs: number) =>
    new Promise<Extract<ChildToParent, { type: K }>>((resolve, reject) => {
      const onMessage = (msg: ChildToParent) => {
        if (msg.type === 'fatal') {
          cleanup();
          reject(new Error(`${name} failed: ${msg.message}`));
        } else if (msg.type === type) {
          cleanup();
          resolve(msg as Extract<ChildToParent, { type: K }>);
        }
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`${name} exited (code ${proc.exitCode}, signal ${proc.signalCode}) while waiting for ${type}: ${tail.trim()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${name}: no ${type} message within ${timeoutMs} ms: ${tail.trim()}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        proc.off('message', onMessage);
        proc.off('exit', onExit);
      };
      proc.on('message', onMessage);
      proc.once('exit', onExit);
    });

  const child: ManagedChild = {
    name,
    pid,
    proc,
    stderrTail: () => tail,
    exited,
    next,
    ask<T extends ChildToParent>(msg: ParentToChild, timeoutMs = 5_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const onMessage = (reply: ChildToParent) => {
          if ('id' in reply && reply.id === msg.id) {
            clearTimeout(timer);
            proc.off('message', onMessage);
            resolve(reply as T);
          }
        };
        const timer = setTimeout(() => {
          proc.off('message', onMessage);
          reject(new Error(`${name}: no reply to ${msg.type} within ${timeoutMs} ms`));
        }, timeoutMs);
        proc.on('message', onMessage);
        proc.send(msg);
      });
    },
    async stop(graceMs = 5_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  live.set(pid, child);
  return child;
}

/** A fresh id for ask(). */
export function nextAskId(): number {
  askId += 1;
  return askId;
}

/** Stops every child still running (SIGTERM, SIGKILL after the grace period). */
export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.allSettled([...live.values()].map((c) => c.stop(graceMs)));
}

/** Polls `url` until it answers 200 or the child exits or the timeout passes. */
export async function waitHttpOk(url: string, child: ManagedChild, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      throw new Error(`${child.name} exited (code ${child.proc.exitCode}) before ready: ${child.stderrTail().trim()}`);
    }
    try {
      const res = await request(url, { headersTimeout: 1_000, bodyTimeout: 1_000 });
      const text = await res.body.text();
      if (res.statusCode === 200) return;
      last = `${res.statusCode} ${text.slice(0, 200)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`${child.name} not ready at ${url} within ${timeoutMs} ms (last: ${last}): ${child.stderrTail().trim()}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
