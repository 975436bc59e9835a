/**
 * Starts a private multi-master Redis Cluster for integration tests: N cluster-enabled redis-server
 * processes on free loopback ports (client port and cluster-bus port both probed, so the bus never
 * collides or overflows past 65535), joined with `redis-cli --cluster create … --cluster-replicas 0`,
 * and awaited until every node reports `cluster_state:ok` and knows every other node.
 *
 * It never touches the Redis on 127.0.0.1:6379; every process and its temporary directory is removed
 * by stop(), and killed on process exit if a test forgot to.
 */
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, spawnRedisServer } from './redis-server.js';
import { eventually, sleep } from './wait.js';

const run = promisify(execFile);

export interface StartRedisClusterOptions {
  /** Number of masters (default 3; Redis Cluster needs at least 3). */
  masters?: number;
  /** cluster-node-timeout in ms (default 1000): how fast a dead master is flagged FAIL. */
  nodeTimeoutMs?: number;
  /**
   * cluster-require-full-coverage (Redis default true). With false, the surviving masters keep serving
   * their slots while a master without replicas is down; with true the whole cluster answers CLUSTERDOWN.
   */
  requireFullCoverage?: boolean;
  /** Give up after this long (default 20 s). */
  timeoutMs?: number;
}

export interface RedisClusterHandle {
  /** `127.0.0.1:<port>` of every master, in start order. */
  nodes: string[];
  ports: number[];
  /** The REDIS_CLUSTER_NODES value: every node, comma-separated. */
  env: string;
  /** The working directory of all nodes (nodes-<port>.conf live here). */
  dir: string;
  /** SIGKILLs node `i` (a crash: no shutdown, no failover handshake) and resolves once it has exited. */
  kill(i: number): Promise<void>;
  /** Runs `redis-cli -p <port of node i> <args…>` and returns its trimmed stdout. */
  cli(i: number, ...args: string[]): Promise<string>;
  /** Index of the node that owns the slot of `key` (asks a live node; reflects its view of the cluster). */
  ownerOf(key: string, via?: number): Promise<number>;
  /** Resolves once every LIVE node reports `cluster_state:<state>`. */
  waitForState(state: 'ok' | 'fail', timeoutMs?: number): Promise<void>;
  /** Resolves once every live node flags node `i` as FAIL (agreed by the majority, not just PFAIL). */
  waitForFailFlag(i: number, timeoutMs?: number): Promise<void>;
  /** Kills every node and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

interface Node {
  port: number;
  busPort: number;
  child: ChildProcess;
  output: () => string;
}

// Processes are killed on exit by spawnRedisServer's safety net; the working directories are ours to remove.
const dirs = new Set<string>();
process.once('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, timeoutMs = 5_000): Promise<void> {
  if (exited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

async function cli(port: number, args: string[], timeoutMs = 5_000): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: timeoutMs });
  return stdout.trim();
}

/** Two distinct free ports that are neither 6379 nor its bus port. */
async function portPair(taken: Set<number>): Promise<[number, number]> {
  const pick = async () => {
    for (;;) {
      const p = await freePort();
      if (p !== 6379 && p !== 16379 && !taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  return [await pick(), await pick()];
}

function spawnNode(port: number, busPort: number, dir: string, opts: Required<Omit<StartRedisClusterOptions, 'masters' | 'timeoutMs'>>): Node {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--cluster-enabled', 'yes',
    '--cluster-config-file', join(dir, `nodes-${port}.conf`),
    '--cluster-port', String(busPort),
    '--cluster-node-timeout', String(opts.nodeTimeoutMs),
    '--cluster-require-full-coverage', opts.requireFullCoverage ? 'yes' : 'no',
    '--cluster-announce-ip', '127.0.0.1',
    '--appendonly', 'no',
    '--save', '',
    '--protected-mode', 'yes',
    '--daemonize', 'no',
    '--loglevel', 'warning',
  ];
  const { child, output } = spawnRedisServer(args);
  return { port, busPort, child, output };
}

async function waitPing(node: Node, until: number): Promise<void> {
  while (Date.now() < until) {
    if (exited(node.child)) throw new Error(`redis-server :${node.port} exited early: ${node.output().trim()}`);
    if ((await cli(node.port, ['PING'], 1_000).catch(() => '')) === 'PONG') return;
    await sleep(25);
  }
  throw new Error(`redis-server :${node.port} did not answer PING: ${node.output().trim()}`);
}

/** `CLUSTER NODES` → slot ranges per `ip:port` (masters only). */
function parseSlots(clusterNodes: string): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  for (const line of clusterNodes.split('\n')) {
    const parts = line.trim().split(' ');
    const addr = parts[1]?.split('@')[0];
    if (!addr || !parts[2]?.includes('master')) continue;
    const ranges: Array<[number, number]> = [];
    for (const s of parts.slice(8)) {
      if (s.startsWith('[')) continue; // migrating/importing markers
      const [a, b] = s.split('-');
      ranges.push([Number(a), Number(b ?? a)]);
    }
    out.set(addr, ranges);
  }
  return out;
}

/** Starts the cluster. Throws (after cleaning up) when it does not come up within `timeoutMs`. */
export async function startRedisCluster(opts: StartRedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = opts.masters ?? 3;
  if (masters < 3) throw new Error('Redis Cluster needs at least 3 masters');
  const mode = { nodeTimeoutMs: opts.nodeTimeoutMs ?? 1_000, requireFullCoverage: opts.requireFullCoverage ?? true };
  const until = Date.now() + (opts.timeoutMs ?? 20_000);
  const dir = await mkdtemp(join(tmpdir(), 'agp-redis-cluster-'));
  dirs.add(dir);
  const nodes: Node[] = [];
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const n of nodes) if (!exited(n.child)) n.child.kill('SIGKILL');
    await Promise.all(nodes.map((n) => waitExit(n.child)));
    await rm(dir, { recursive: true, force: true });
    dirs.delete(dir);
  };

  try {
    const taken = new Set<number>();
    for (let i = 0; i < masters; i++) {
      // A probed port can be taken before redis-server binds it: retry with a fresh pair.
      for (let attempt = 0; ; attempt++) {
        const [port, busPort] = await portPair(taken);
        const node = spawnNode(port, busPort, dir, mode);
        try {
          await waitPing(node, Math.min(until, Date.now() + 5_000));
          nodes.push(node);
          break;
        } catch (err) {
          node.child.kill('SIGKILL');
          await waitExit(node.child);
          if (attempt >= 4) throw err;
        }
      }
    }
    const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: Math.max(1_000, until - Date.now()),
    });
    const handle = makeHandle(nodes, dir, stop);
    await handle.waitForState('ok', Math.max(1_000, until - Date.now()));
    // Every node knows every other node (gossip finished), so MOVED replies are consistent everywhere.
    for (let i = 0; i < nodes.length; i++) {
      await eventually(() => handle.cli(i, 'CLUSTER', 'INFO'), (info) => info.includes(`cluster_known_nodes:${masters}`), {
        what: `node ${addrs[i] ?? i} to know all ${masters} nodes`,
        timeoutMs: Math.max(1_000, until - Date.now()),
        intervalMs: 50,
      });
    }
    return handle;
  } catch (err) {
    await stop();
    throw err;
  }
}

function makeHandle(nodes: Node[], dir: string, stop: () => Promise<void>): RedisClusterHandle {
  const nodeAt = (i: number): Node => {
    const n = nodes[i];
    if (!n) throw new Error(`no cluster node ${i}`);
    return n;
  };
  const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
  const handle: RedisClusterHandle = {
    nodes: addrs,
    ports: nodes.map((n) => n.port),
    env: addrs.join(','),
    dir,
    async kill(i) {
      const n = nodeAt(i);
      n.child.kill('SIGKILL');
      await waitExit(n.child);
    },
    cli: (i, ...args) => cli(nodeAt(i).port, args),
    async ownerOf(key, via) {
      const from = via ?? nodes.findIndex((n) => !exited(n.child));
      const slot = Number(await handle.cli(from, 'CLUSTER', 'KEYSLOT', key));
      const slots = parseSlots(await handle.cli(from, 'CLUSTER', 'NODES'));
      for (const [addr, ranges] of slots) {
        if (ranges.some(([a, b]) => slot >= a && slot <= b)) {
          const idx = addrs.indexOf(addr);
          if (idx >= 0) return idx;
        }
      }
      throw new Error(`no node owns slot ${slot} of ${key}`);
    },
    async waitForState(state, timeoutMs = 10_000) {
      const want = `cluster_state:${state}`;
      const infos = async () => {
        const alive = nodes.map((n, i) => ({ n, i })).filter(({ n }) => !exited(n.child));
        return Promise.all(alive.map(({ i }) => handle.cli(i, 'CLUSTER', 'INFO').catch(() => '')));
      };
      await eventually(infos, (all) => all.every((s) => s.includes(want)), { what: `the cluster to reach ${want}`, timeoutMs, intervalMs: 50 });
    },
    async waitForFailFlag(i, timeoutMs = 10_000) {
      const target = addrs[i];
      const flagged = (nodesText: string) =>
        nodesText.split('\n').some((line) => {
          const parts = line.trim().split(' ');
          return parts[1]?.split('@')[0] === target && (parts[2] ?? '').split(',').includes('fail');
        });
      const views = async () => {
        const others = nodes.map((n, j) => ({ n, j })).filter(({ n, j }) => j !== i && !exited(n.child));
        return Promise.all(others.map(({ j }) => handle.cli(j, 'CLUSTER', 'NODES').catch(() => '')));
      };
      await eventually(views, (all) => all.length > 0 && all.every(flagged), { what: `node ${target ?? i} to be flagged FAIL`, timeoutMs, intervalMs: 50 });
    },
    stop,
  };
  return handle;
}
