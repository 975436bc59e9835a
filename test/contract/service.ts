/**
 * Runs the REAL service (`node --import tsx src/server.ts`, exactly what `npm start` runs) as a child process
 * on a free loopback port, with a clean environment: only PATH/HOME/TMPDIR are inherited, so nothing from
 * the developer's shell (REDIS_URL, LLM_API_KEY, ...) leaks in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../testkit/redis-server.js';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServiceHandle {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The last few KB of the service's stdout/stderr (for failure messages). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts src/server.ts with `env` on a free port and waits until GET /healthz answers 200. */
export async function startService(env: Record<string, string>, timeoutMs = 30_000): Promise<ServiceHandle> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? ROOT,
      TMPDIR: process.env.TMPDIR ?? '/tmp',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  const collect = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-8_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );

  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the service exited early (code ${child.exitCode}, signal ${child.signalCode}):\n${out}`);
    }
    const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`the service did not answer /healthz within ${timeoutMs} ms:\n${out}`);
    }
    await sleep(100);
  }

  let stopping: Promise<number | null> | undefined;
  return {
    url,
    port,
    output: () => out,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
}
