/**
 * The processes a bench run owns (simulator, Redis, the process under test) and how to start them.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { CompiledChildren } from './compile.js';
import type { SimLatency, SimStats } from './ipc.js';
import { ask, nextAskId, nextMessage } from './ipc.js';
import type { ManagedChild } from '../../testkit/processes.js';
import { spawnNode, startServerProcess } from '../../testkit/processes.js';

export interface RunOptions {
  durationSec: number;
  warmupSec: number;
  quick: boolean;
  /** Transport comparison window (ms). */
  transportMs: number;
  /** Extra node flags for every service process. */
  serviceNodeFlags: string[];
}

export interface Simulator {
  child: ManagedChild;
  /** Base URL ending in /v1. */
  url: string;
  setLatency(latency: SimLatency): Promise<void>;
  stats(): Promise<SimStats>;
}

/** A process under load: the service or a reference server. */
export interface Target {
  kind: 'service' | 'floor' | 'hello';
  label: string;
  child: ManagedChild;
  origin: string;
  /** Service stdout (pino logs), when captured. */
  logFile?: string | undefined;
}

export interface BenchContext {
  repoRoot: string;
  compiled: CompiledChildren;
  /** Scratch directory for logs and profiles (removed at the end). */
  scratch: string;
  opts: RunOptions;
  sim: Simulator;
  redisUrl: string;
  redisPid: number;
  log(msg: string): void;
}

/** Minimal environment for children: nothing inherited but PATH (no stray OPENAI_API_KEY, NODE_OPTIONS…). */
export function baseEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', ...extra };
}

export async function startSimulator(compiled: CompiledChildren): Promise<Simulator> {
  const child = spawnNode('llm-simulator', {
    args: [compiled.path('bench/reference-servers/simulator.ts')],
    env: baseEnv({}),
    ipc: true,
    stdout: 'ignore',
  });
  const ready = await nextMessage(child, 'ready', 15_000);
  return {
    child,
    url: ready.url,
    async setLatency(latency) {
      await ask(child, { type: 'set-latency', id: nextAskId(), latency });
    },
    async stats() {
      const reply = await ask<{ type: 'stats'; id: number; stats: SimStats }>(child, { type: 'stats', id: nextAskId() });
      return reply.stats;
    },
  };
}

/** The pid of a redis-server, from INFO (the test helper does not expose it). */
export async function redisPid(url: string): Promise<number> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const info = await r.info('server');
    const m = /process_id:(\d+)/.exec(info);
    if (!m?.[1]) throw new Error('redis INFO has no process_id');
    return Number(m[1]);
  } finally {
    r.disconnect();
  }
}

export interface ServiceOptions {
  label: string;
  keyPrefix: string;
  freshness?: 'stale-while-revalidate' | 'strict';
  /** Extra environment (overrides). */
  env?: Record<string, string>;
  nodeFlags?: string[];
}

/**
 * Starts the built service (`node dist/server.js`) with every product feature on: zod validation,
 * Prometheus metrics, pino logs at info (to a file), the Redis profile cache, the breaker and the
 * concurrency gate, under-pressure, the in-process training worker. LLM_MAX_CONCURRENCY is raised from
 * 64 to 256 so 200 connections with a 200 ms LLM are not shed as `overloaded` (see docs/performance.md).
 */
export async function startService(ctx: BenchContext, o: ServiceOptions): Promise<Target> {
  const logFile = join(ctx.scratch, `${o.label}.log`);
  const child = await startServerProcess({
    name: o.label,
    args: [join(ctx.repoRoot, 'dist/server.js')],
    baseEnv: baseEnv({}),
    env: {
      LOG_LEVEL: 'info',
      REDIS_URL: ctx.redisUrl,
      REDIS_KEY_PREFIX: o.keyPrefix,
      LLM_BASE_URL: ctx.sim.url,
      LLM_API_KEY: 'bench-key',
      LLM_MODEL: 'bench-model',
      LLM_MAX_CONCURRENCY: '256',
      PROFILE_FRESHNESS: o.freshness ?? 'stale-while-revalidate',
      ...o.env,
    },
    stdout: { file: logFile },
    ...(o.nodeFlags ? { nodeFlags: o.nodeFlags } : {}),
  });
  return { kind: 'service', label: o.label, child, origin: child.origin, logFile };
}

/** Starts a reference server (transpiled, plain node) and waits for its URL. */
export async function startReference(ctx: BenchContext, kind: 'hello' | 'floor', users = 200, nodeFlags: string[] = []): Promise<Target> {
  const file = kind === 'hello' ? 'bench/reference-servers/hello.ts' : 'bench/reference-servers/floor.ts';
  const child = spawnNode(`ref-${kind}`, {
    args: [ctx.compiled.path(file)],
    env: baseEnv({
      REDIS_URL: ctx.redisUrl,
      LLM_BASE_URL: ctx.sim.url,
      FLOOR_USER_PREFIX: 'hit-',
      FLOOR_USERS: String(users),
    }),
    ipc: true,
    stdout: 'ignore',
    nodeFlags,
  });
  const ready = await nextMessage(child, 'ready', 15_000);
  return { kind, label: `ref-${kind}`, child, origin: ready.url.replace(/\/$/, '') };
}

/** Size of a file in bytes (0 when missing). */
export function fileSize(path: string | undefined): number {
  if (!path) return 0;
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
