/**
 * `npx tsx bench/hostile-llm.ts` — the service (`node --import tsx src/server.ts`, a child process, in-memory
 * cache) against the hostile-LLM server (test/support/hostile-llm.ts, in this process). Prints one JSON line
 * per case with latencies, fallback reasons and the service's RSS from /proc (VmRSS, peak sampled every 20 ms).
 * The figures in docs/reliability.md ("Hostile LLM") come from this script, run on the code before and after.
 *
 * Flags: --only <comma list of case names>
 */
import { request } from 'undici';
import { hugeProfile, startHostileLlm } from '../testkit/hostile-llm.js';
import type { HostileLlm, HostileMode } from '../testkit/hostile-llm.js';
import { freePort } from '../testkit/redis-server.js';
import { baseEnv } from './lib/context.js';
import { rssKb, spawnNode, waitHttpOk } from '../testkit/processes.js';
import { sleep } from '../testkit/wait.js';
import type { ManagedChild } from '../testkit/processes.js';

interface Service {
  child: ManagedChild;
  origin: string;
}

const only = (() => {
  const i = process.argv.indexOf('--only');
  return i >= 0 ? new Set((process.argv[i + 1] ?? '').split(',')) : undefined;
})();

async function startService(llm: HostileLlm, env: Record<string, string> = {}): Promise<Service> {
  const port = await freePort();
  const child = spawnNode('service', {
    args: ['--import', 'tsx', 'src/server.ts'],
    cwd: process.cwd(),
    env: baseEnv({
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      LLM_BASE_URL: llm.url,
      LLM_API_KEY: 'k',
      LLM_MODEL: 'm',
      LLM_MAX_RETRIES: '0',
      ...env,
    }),
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitHttpOk(`${origin}/readyz`, child, 60_000);
  return { child, origin };
}

let seq = 0;
async function rerank(s: Service, body: Record<string, unknown>) {
  const started = performance.now();
  const res = await request(`${s.origin}/v1/rerank`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      userId: `u${seq++}`,
      method: 'direct',
      history: [{ id: 'h1', title: 'Space opera' }],
      candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }, { id: 'c', title: 'C' }],
      ...body,
    }),
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  const json = (await res.body.json()) as { fallback: { reason: string } | null; profile?: { text?: string; cached: boolean } };
  return { status: res.statusCode, ms: Math.round(performance.now() - started), reason: json.fallback?.reason ?? 'none', json };
}

async function metric(s: Service, pattern: RegExp): Promise<string[]> {
  const text = await (await request(`${s.origin}/metrics`)).body.text();
  return text.split('\n').filter((l) => pattern.test(l));
}

/** Runs `fn` while sampling the service's RSS; returns its result with the start and peak RSS in MB. */
async function withRss<T>(s: Service, fn: () => Promise<T>): Promise<{ value: T; rssStartMb: number; rssPeakMb: number }> {
  const start = (rssKb(s.child.pid) ?? 0);
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, (rssKb(s.child.pid) ?? 0))), 20);
  try {
    const value = await fn();
    return { value, rssStartMb: Math.round(start / 1024), rssPeakMb: Math.round(Math.max(peak, (rssKb(s.child.pid) ?? 0)) / 1024) };
  } finally {
    clearInterval(timer);
  }
}

const cases: Record<string, (llm: HostileLlm) => Promise<Record<string, unknown>>> = {
  /** Item 1: two 500s open the breaker; the half-open probe gets a lying 200; then 10 resets of honest LLM. */
  async breaker(llm) {
    const out: Record<string, unknown> = {};
    const probes: Record<string, HostileMode> = {
      'usage.prompt_tokens=-5': { kind: 'usage', usage: { prompt_tokens: -5 } },
      'usage.prompt_tokens="12"': { kind: 'usage', usage: { prompt_tokens: '12' } },
      'body=null': { kind: 'null-body' },
    };
    for (const [name, probe] of Object.entries(probes)) {
      const s = await startService(llm, { BREAKER_FAILURE_THRESHOLD: '2', BREAKER_RESET_MS: '500' });
      llm.failNext(2, { kind: 'status', status: 500 });
      await rerank(s, {});
      await rerank(s, {});
      await sleep(600);
      llm.setMode(probe);
      const probed = await rerank(s, {});
      llm.setMode({ kind: 'honest' });
      const reasons: string[] = [];
      for (let i = 0; i < 20; i++) {
        reasons.push((await rerank(s, {})).reason);
        await sleep(250);
      }
      out[name] = {
        probe: probed.reason,
        afterProbe: `${reasons.filter((r) => r === 'circuit_open').length}/${reasons.length} circuit_open over 10 × BREAKER_RESET_MS`,
      };
      await s.child.stop();
    }
    return out;
  },

  /** Item 2: usage 1e308. */
  async overflow(llm) {
    const s = await startService(llm);
    llm.setMode({ kind: 'usage', usage: { prompt_tokens: 1e308, completion_tokens: 1e308 } });
    const results = [await rerank(s, {}), await rerank(s, { method: 'agp' })];
    const tokens = await metric(s, /^agp_llm_tokens_total\{role="rerank",kind="prompt",model="m"\}/);
    llm.setMode({ kind: 'honest' });
    await s.child.stop();
    return { statuses: results.map((r) => `${r.status} ${r.reason}`), rerankPromptTokensCounter: tokens };
  },

  /** Item 4: an endless stream, 1 then 3 concurrent calls, deadline 8 s (the 8 s). */
  async endless(llm) {
    const s = await startService(llm);
    await rerank(s, {}); // warm up
    llm.setMode({ kind: 'endless-stream' });
    const one = await withRss(s, () => rerank(s, { deadlineMs: 8000 }));
    const three = await withRss(s, () => Promise.all([1, 2, 3].map(() => rerank(s, { deadlineMs: 8000 }))));
    await sleep(1000);
    const after = Math.round((rssKb(s.child.pid) ?? 0) / 1024);
    llm.setMode({ kind: 'honest' });
    await s.child.stop();
    return {
      one: { ms: one.value.ms, reason: one.value.reason, rssStartMb: one.rssStartMb, rssPeakMb: one.rssPeakMb },
      three: { ms: three.value.map((r) => r.ms), reasons: three.value.map((r) => r.reason), rssPeakMb: three.rssPeakMb },
      rssAfter1sMb: after,
    };
  },

  /** Item 5: a 2 MB profile (body cap raised so the profile cap is what acts), 40 users, then cache hits. */
  async profile2mb(llm) {
    const s = await startService(llm, { LLM_MAX_RESPONSE_BYTES: String(64 * 1_048_576) });
    await rerank(s, {});
    llm.setMode(hugeProfile(2 * 1_048_576));
    const users = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const first = await withRss(s, async () => {
      const out = [];
      for (const userId of users) out.push(await rerank(s, { userId, method: 'agp', includeProfile: true, deadlineMs: 10_000 }));
      return out;
    });
    const hits = [];
    for (const userId of users) hits.push(await rerank(s, { userId, method: 'agp', includeProfile: true }));
    llm.setMode({ kind: 'honest' });
    await s.child.stop();
    const hitMs = hits.map((h) => h.ms).sort((a, b) => a - b);
    return {
      profileChars: first.value[0]?.json.profile?.text?.length,
      hitCached: hits.every((h) => h.json.profile?.cached === true),
      hitMsMedian: hitMs[Math.floor(hitMs.length / 2)],
      rssStartMb: first.rssStartMb,
      rssPeakMb: first.rssPeakMb,
    };
  },

  /** Item 5 with the default body cap: a 20 MB profile against a 1 s deadline. */
  async profile20mb(llm) {
    const s = await startService(llm);
    await rerank(s, {});
    llm.setMode(hugeProfile(20 * 1_048_576));
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await rerank(s, { method: 'agp', deadlineMs: 1000 }));
    llm.setMode({ kind: 'honest' });
    await s.child.stop();
    return { ms: runs.map((r) => r.ms), reasons: runs.map((r) => r.reason) };
  },
};

const llm = await startHostileLlm();
try {
  for (const [name, run] of Object.entries(cases)) {
    if (only && !only.has(name)) continue;
    console.log(JSON.stringify({ case: name, ...(await run(llm)) }));
  }
} finally {
  await llm.close();
}
