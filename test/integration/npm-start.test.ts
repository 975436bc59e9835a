/**
 * `npm start` under a process manager: SIGTERM goes to the npm process only (not its process group). The
 * server must receive it and exit, and nothing of the process tree may survive. With `tsx src/server.ts`
 * tsx's own child (the real server) was orphaned and kept the port; and since npm runs a script through
 * `sh -c` and dash forks rather than exec'ing it, npm's forwarded SIGTERM stopped at the shell until the
 * script said `exec node --import tsx src/server.ts`.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../testkit/redis-server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Parent pid of every live process (Linux /proc). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The command may contain spaces and parentheses: the fields after the last ')' are fixed.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(name), ppid);
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** `pid` and all its descendants. */
function tree(pid: number): number[] {
  const all = parents();
  const found = [pid];
  for (let i = 0; i < found.length; i++) for (const [child, parent] of all) if (parent === found[i]) found.push(child);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    // A zombie has exited; only its parent has not reaped it yet.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

async function healthz(url: string): Promise<number | string> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
    return res.status;
  } catch (err) {
    return (err as Error).name;
  }
}

async function until<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let v = await fn();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    v = await fn();
  }
  return v;
}

describe('npm start', () => {
  it('stops the server when the npm process alone gets SIGTERM', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '3000' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    npm.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exited = new Promise<void>((r) => npm.once('exit', () => r()));
    const pid = npm.pid as number;
    let pids: number[] = [];
    try {
      expect(await until(() => healthz(url), (s) => s === 200, 30_000), stderr).toBe(200);
      pids = tree(pid);
      // npm, the shell (unless it exec'd) and the server: the server is somewhere below npm.
      expect(pids.length).toBeGreaterThanOrEqual(2);

      process.kill(pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      expect(await until(() => healthz(url), (s) => s !== 200, 10_000)).not.toBe(200);
      const survivors = await until(() => pids.filter(alive), (s) => s.length === 0, 10_000);
      expect(survivors, `still running: ${survivors.join(', ')}`).toEqual([]);
    } finally {
      for (const p of [...pids].reverse()) if (alive(p)) process.kill(p, 'SIGKILL');
    }
  });
});
