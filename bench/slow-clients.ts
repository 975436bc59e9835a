/**
 * `npx tsx bench/slow-clients.ts [--repo <checkout>] [--sockets 1000] [--watch-ms 30000]` — slow clients
 * against the real server process (`node --import tsx src/server.ts` of the checkout, default this one, with
 * its default configuration and no LLM). Prints one JSON line per case:
 *
 * - `drip`: `--sockets` connections from this one client each send `Content-Length: 100000` and then one
 *   body byte every 10 s (the client of issue 9). When were they closed, how many got 408, and the service's
 *   RSS (VmRSS) with every socket open;
 * - `sigterm`: one such socket open, then SIGTERM: the exit code, how long the exit took, and whether the
 *   log says "grace period exceeded" (SHUTDOWN_GRACE_MS=10000, the default).
 *
 * The figures in docs/reliability.md ("Slow clients") come from this script, run on main and on the change.
 */
import { resolve } from 'node:path';
import { percentile } from '../testkit/load.js';
import { rssKb, startServerProcess } from '../testkit/processes.js';
import { drip, openRaw, parseRawAnswer, type RawConnection } from '../testkit/raw-http.js';
import { sleep } from '../testkit/wait.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? def) : def;
};
const repo = resolve(arg('repo', '.'));
const sockets = Number(arg('sockets', '1000'));
const watchMs = Number(arg('watch-ms', '30000'));
const HEAD = 'POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n';

function start(env: Record<string, string> = {}) {
  return startServerProcess({
    args: ['--import', 'tsx', resolve(repo, 'src/server.ts')],
    baseEnv: { PATH: process.env.PATH },
    env: { LOG_LEVEL: 'info', ...env },
    stdout: 'capture',
    readyTimeoutMs: 60_000,
  });
}

async function dripCase(): Promise<void> {
  const server = await start();
  const rssBefore = rssKb(server.pid);
  const conns: RawConnection[] = [];
  for (let i = 0; i < sockets; i++) {
    const c = await openRaw(server.port);
    c.socket.write(HEAD);
    void drip(c, 'x'.repeat(100), 10_000);
    conns.push(c);
  }
  await sleep(1_000);
  const rssOpen = rssKb(server.pid);
  const openAfter1s = conns.filter((c) => !c.isClosed()).length;
  const closedAt = await Promise.all(conns.map((c) => Promise.race([c.closed, sleep(watchMs).then(() => undefined)])));
  const closed = closedAt.filter((t): t is number => t !== undefined);
  for (const c of conns) c.socket.destroy();
  await server.stop(15_000);
  console.log(
    JSON.stringify({
      case: 'drip',
      repo,
      sockets,
      watchMs,
      openAfter1s,
      closedWithinWatch: closed.length,
      stillOpenAfterWatch: sockets - closed.length,
      answered408: conns.filter((c) => parseRawAnswer(c.received())?.status === 408).length,
      closeMs: closed.length > 0 ? { p50: percentile(closed, 50), max: Math.max(...closed) } : null,
      rssKb: { before: rssBefore, withSocketsOpen: rssOpen },
    }),
  );
}

async function sigtermCase(): Promise<void> {
  const server = await start();
  const c = await openRaw(server.port);
  c.socket.write(HEAD);
  void drip(c, 'x'.repeat(100), 10_000);
  await sleep(500);
  const t0 = Date.now();
  server.child.kill('SIGTERM');
  const exit = await server.exited;
  console.log(
    JSON.stringify({
      case: 'sigterm',
      repo,
      exitCode: exit.code,
      exitMs: Date.now() - t0,
      graceExceeded: server.output().includes('grace period exceeded'),
      slowClientAnswer: parseRawAnswer(c.received())?.status ?? null,
    }),
  );
  c.socket.destroy();
}

await dripCase();
await sigtermCase();
