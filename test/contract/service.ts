/**
 * Runs the REAL service (`node --import tsx src/server.ts`, exactly what `npm start` runs) as a child process
 * on a free loopback port, with a clean environment: only PATH/HOME/TMPDIR are inherited, so nothing from
 * the developer's shell (REDIS_URL, LLM_API_KEY, ...) leaks in.
 */
import { REPO_ROOT, startServerProcess } from '../../testkit/processes.js';

/** Repository root. */
export const ROOT = REPO_ROOT;

export interface ServiceHandle {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The last few KB of the service's stdout/stderr (for failure messages). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Starts src/server.ts with `env` on a free port and waits until GET /healthz answers 200. */
export async function startService(env: Record<string, string>, timeoutMs = 30_000): Promise<ServiceHandle> {
  const server = await startServerProcess({
    name: 'the service',
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? ROOT, TMPDIR: process.env.TMPDIR ?? '/tmp' },
    env: { NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
    readyPath: '/healthz',
    readyTimeoutMs: timeoutMs,
    outputLimit: 8_000,
  });
  return {
    url: server.origin,
    port: server.port,
    output: server.output,
    stop: async (graceMs = 10_000) => (await server.stop(graceMs)).code,
  };
}
