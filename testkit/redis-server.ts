/**
 * Starts a private redis-server (from PATH) for integration tests: a free loopback port, a fresh
 * temporary directory, no persistence unless asked. It never touches the Redis on 127.0.0.1:6379
 * and never flushes a server it did not start.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, sleep } from './wait.js';

export interface RedisServerHandle {
  /** redis://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The server's working directory (RDB/AOF files live here). */
  dir: string;
  /** Graceful shutdown, then removes `dir`. Idempotent. */
  stop(): Promise<void>;
  /** Sends a signal (default SIGKILL) without waiting: simulates a crash or an outage. */
  kill(signal?: NodeJS.Signals): void;
  /** Stops the process (gracefully, so persistence is flushed) and starts it again on the same port and dir. */
  restart(): Promise<void>;
}

export interface StartRedisOptions {
  /** appendonly yes (data survives restart()); default false. */
  persistence?: boolean;
  /**
   * Start a one-node Redis Cluster owning all 16384 slots. It enforces CROSSSLOT like a real cluster,
   * so it proves the key schema's hash tags. Connect with `{ clusterNodes: [\`127.0.0.1:${port}\`] }`.
   */
  cluster?: boolean;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Spawns `redis-server` with the given arguments, keeps the last 4 kB of its output for error messages,
 * and registers it for the kill-on-exit safety net. Shared by the single-server and cluster helpers.
 */
export function spawnRedisServer(args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  live.add(child);
  child.once('exit', () => live.delete(child));
  return { child, output: () => out };
}

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/** One raw RESP PING; resolves true on +PONG. */
function pingOnce(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

/** Sends one command (RESP array) and returns the raw reply text. */
function rawCommand(port: number, args: string[], timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`redis command ${args[0]} timed out`));
    }, timeoutMs);
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.once('connect', () => {
      sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      // Enough for simple, error and bulk-string replies.
      const complete = /^[+\-:]/.test(buf) ? buf.includes('\r\n') : /^\$(-1\r\n|\d+\r\n)/.test(buf) && isBulkComplete(buf);
      if (complete) {
        clearTimeout(timer);
        sock.destroy();
        resolve(buf);
      }
    });
  });
}

function isBulkComplete(buf: string): boolean {
  const m = /^\$(-?\d+)\r\n/.exec(buf);
  if (!m) return false;
  const len = Number(m[1]);
  return len < 0 || Buffer.byteLength(buf) >= m[0].length + len + 2;
}

/** Gives a fresh one-node cluster every slot and waits for cluster_state:ok. */
async function claimAllSlots(port: number): Promise<void> {
  const info = await rawCommand(port, ['CLUSTER', 'INFO']);
  if (!info.includes('cluster_state:ok')) {
    const reply = await rawCommand(port, ['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
    if (!reply.startsWith('+OK') && !reply.includes('already busy')) throw new Error(`CLUSTER ADDSLOTSRANGE: ${reply.trim()}`);
  }
  await eventually(() => rawCommand(port, ['CLUSTER', 'INFO']), (info) => info.includes('cluster_state:ok'), {
    what: 'the one-node cluster to reach cluster_state:ok',
    intervalMs: 50,
  });
}

interface ServerMode {
  persistence: boolean;
  cluster: boolean;
}

function spawnServer(port: number, dir: string, mode: ServerMode): { child: ChildProcess; output: () => string } {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--appendonly', mode.persistence ? 'yes' : 'no',
    ...(mode.cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1'] : []),
    '--protected-mode', 'yes',
    '--daemonize', 'no',
    '--loglevel', 'warning',
  ];
  return spawnRedisServer(args);
}

async function waitReady(child: ChildProcess, port: number, output: () => string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited early (code ${child.exitCode}): ${output().trim()}`);
    }
    if (await pingOnce(port)) return;
    await sleep(25);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms: ${output().trim()}`);
}

function waitExit(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

export async function startRedisServer(opts: StartRedisOptions = {}): Promise<RedisServerHandle> {
  const mode: ServerMode = { persistence: opts.persistence ?? false, cluster: opts.cluster ?? false };
  const dir = await mkdtemp(join(tmpdir(), 'agp-redis-'));
  let port = 0;
  let current: { child: ChildProcess; output: () => string } | undefined;
  let lastError: unknown;
  // The port can be taken between probing and binding; retry with a fresh one.
  for (let attempt = 0; attempt < 5 && !current; attempt++) {
    port = await freePort();
    if (port === 6379) continue;
    const started = spawnServer(port, dir, mode);
    try {
      await waitReady(started.child, port, started.output);
      if (mode.cluster) await claimAllSlots(port);
      current = started;
    } catch (err) {
      lastError = err;
      started.child.kill('SIGKILL');
      await waitExit(started.child);
    }
  }
  if (!current) {
    await rm(dir, { recursive: true, force: true });
    throw lastError instanceof Error ? lastError : new Error('could not start redis-server');
  }
  let stopped = false;

  const shutdown = async () => {
    const { child } = current!;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await waitExit(child);
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      current?.child.kill(signal);
    },
    async restart() {
      if (stopped) throw new Error('redis-server handle already stopped');
      await shutdown();
      const started = spawnServer(port, dir, mode);
      current = started;
      await waitReady(started.child, port, started.output);
      if (mode.cluster) await claimAllSlots(port);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await shutdown();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;

/** A key prefix unique to this process and call, for per-test key isolation (no braces). */
export function uniquePrefix(label = 't'): string {
  counter += 1;
  return `${label}-${process.pid}-${counter}-${randomUUID().slice(0, 8)}`;
}
