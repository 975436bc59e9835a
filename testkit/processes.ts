/**
 * Child processes for tests, benches and scripts, and /proc accounting of them.
 *
 * Every child is registered so that `stopAll()` (and, as a last resort, a synchronous SIGKILL in the
 * process 'exit' handler) leaves nothing running, whatever happened. CPU is read from /proc/<pid>/stat
 * (utime + stime, in clock ticks of `getconf CLK_TCK`, process-wide: all threads), RSS from VmRSS.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { freePort } from './redis-server.js';
import { sleep } from './wait.js';

/** The repository root: children run from it, so relative entry points (`src/server.ts`) resolve. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

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

/**
 * CPU time of each thread group of a process, by thread name (V8's and libuv's workers share names), split
 * into user and system time, in microseconds: where a process's CPU went (the main thread's system time is
 * its syscalls, e.g. socket writes; the other threads' is mostly GC and the libuv pool).
 */
export function threadCpuMicros(pid: number): Record<string, { user: number; sys: number }> {
  const out: Record<string, { user: number; sys: number }> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '').trim();
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const row = (out[name] ??= { user: 0, sys: 0 });
      row.user += (Number(fields[11]) * 1e6) / CLK_TCK;
      row.sys += (Number(fields[12]) * 1e6) / CLK_TCK;
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/**
 * CPU time of a process in nanoseconds, from the scheduler's own accounting (/proc/<pid>/task/<tid>/schedstat,
 * first field: time on a CPU), summed over its live threads. /proc/<pid>/stat counts in clock ticks (10 ms):
 * over a block of 250 requests that quantises CPU per request to 40 µs, coarser than a 5 % budget of a
 * ~1.2 ms rerank (61 µs). A thread that exits between two reads takes its time with it (Node's threads live
 * as long as the process).
 */
export function cpuNanos(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return total;
}

/** CPU time of a process in microseconds. */
export function cpuMicros(pid: number): number {
  return (cpuTicks(pid) * 1e6) / CLK_TCK;
}

/** Resident set size of a process in KiB (VmRSS of /proc/<pid>/status); undefined once it is gone. */
export function rssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** How a child ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedChild {
  name: string;
  pid: number;
  /** The node ChildProcess (kill it with a signal of your choice). */
  child: ChildProcess;
  /** The last `outputLimit` characters the child wrote to stderr (and to stdout when captured). */
  output(): string;
  /** Resolves once the process has exited. */
  exited: Promise<ChildExit>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. Idempotent. */
  stop(graceMs?: number): Promise<ChildExit>;
}

export interface SpawnOptions {
  args: string[];
  /** The child's whole environment (nothing is inherited unless the caller spreads process.env). */
  env: Record<string, string | undefined>;
  /** Default: the repository root. */
  cwd?: string;
  /** stdout: kept in output() (default), discarded, or appended to a file (the bench's service logs). */
  stdout?: 'capture' | 'ignore' | { file: string };
  /** Open an IPC channel (the bench's own children). */
  ipc?: boolean;
  /** Extra node flags (e.g. --cpu-prof, --import tsx). */
  nodeFlags?: string[];
  /** Characters of output kept (default 100,000). */
  outputLimit?: number;
}

const live = new Map<number, ManagedChild>();

process.once('exit', () => {
  for (const c of live.values()) {
    try {
      c.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Spawns `node <nodeFlags> <args>` as a tracked child. */
export function spawnNode(name: string, opts: SpawnOptions): ManagedChild {
  const mode = opts.stdout ?? 'capture';
  const outFd = typeof mode === 'object' ? openSync(mode.file, 'a') : mode === 'capture' ? 'pipe' : 'ignore';
  const stdio: StdioOptions = ['ignore', outFd, 'pipe'];
  if (opts.ipc) stdio.push('ipc');
  const proc = spawn(process.execPath, [...(opts.nodeFlags ?? []), ...opts.args], { cwd: opts.cwd ?? REPO_ROOT, env: opts.env, stdio });
  if (typeof outFd === 'number') closeSync(outFd);
  if (proc.pid === undefined) throw new Error(`could not spawn ${name}`);
  const pid = proc.pid;
  const limit = opts.outputLimit ?? 100_000;
  let out = '';
  const collect = (d: Buffer) => {
    out += d.toString('utf8');
    if (out.length > limit) out = out.slice(-limit);
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  const exited = new Promise<ChildExit>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  void exited.then(() => live.delete(pid));
  let stopping: Promise<ChildExit> | undefined;
  const managed: ManagedChild = {
    name,
    pid,
    child: proc,
    output: () => out,
    exited,
    stop(graceMs = 5_000) {
      stopping ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
  live.set(pid, managed);
  return managed;
}

/** Stops every child still running (SIGTERM, SIGKILL after the grace period). */
export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.allSettled([...live.values()].map((c) => c.stop(graceMs)));
}

/** Polls `url` until it answers 200; throws when the child exits first or the timeout passes. */
export async function waitHttpOk(url: string, child: ManagedChild, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    if (child.child.exitCode !== null || child.child.signalCode !== null) {
      throw new Error(`${child.name} exited (code ${child.child.exitCode}, signal ${child.child.signalCode}) before ready: ${child.output().slice(-2_000).trim()}`);
    }
    try {
      const res = await request(url, { headersTimeout: 2_000, bodyTimeout: 2_000 });
      const text = await res.body.text();
      if (res.statusCode === 200) return;
      last = `${res.statusCode} ${text.slice(0, 200)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`${child.name} not ready at ${url} within ${timeoutMs} ms (last: ${last}): ${child.output().slice(-2_000).trim()}`);
}

/** A server process listening on a loopback port. */
export interface ServerProcess extends ManagedChild {
  origin: string;
  port: number;
}

export interface StartServerOptions {
  env: Record<string, string>;
  /** What node runs (default `--import tsx src/server.ts`, exactly what `npm start` runs). */
  args?: string[];
  nodeFlags?: string[];
  /** The environment `env` is laid over (default: this process's). Pass `{ PATH }` for a clean one. */
  baseEnv?: Record<string, string | undefined>;
  /** Readiness probe (default /readyz). */
  readyPath?: string;
  /** How long to wait for readiness (default 30 s: tsx compiles on start, and the machine may be busy). */
  readyTimeoutMs?: number;
  stdout?: SpawnOptions['stdout'];
  outputLimit?: number;
  name?: string;
}

/**
 * The V8 heap ceiling `npm start` (package.json), the image (Dockerfile) and the chart's default (three quarters
 * of 512Mi) give the service unless NODE_OPTIONS is set: test/unit/heap-ceiling.test.ts keeps them equal.
 */
export const SERVICE_NODE_OPTIONS = '--max-old-space-size=384';

/**
 * Starts the service on a free loopback port (PORT/HOST are set here; NODE_ENV defaults to production,
 * LOG_LEVEL to error and NODE_OPTIONS to `npm start`'s) and waits until `readyPath` answers 200; a server that never gets ready is stopped.
 */
export async function startServerProcess(opts: StartServerOptions): Promise<ServerProcess> {
  const port = await freePort();
  const base = opts.baseEnv ?? process.env;
  const child = spawnNode(opts.name ?? 'server', {
    args: opts.args ?? ['--import', 'tsx', 'src/server.ts'],
    env: {
      ...base,
      NODE_ENV: 'production',
      LOG_LEVEL: 'error',
      NODE_OPTIONS: base.NODE_OPTIONS || SERVICE_NODE_OPTIONS,
      ...opts.env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    ...(opts.nodeFlags ? { nodeFlags: opts.nodeFlags } : {}),
    ...(opts.stdout ? { stdout: opts.stdout } : {}),
    outputLimit: opts.outputLimit ?? 200_000,
  });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitHttpOk(`${origin}${opts.readyPath ?? '/readyz'}`, child, opts.readyTimeoutMs ?? 30_000);
  } catch (err) {
    await child.stop(1_000);
    throw err;
  }
  return { ...child, origin, port };
}
