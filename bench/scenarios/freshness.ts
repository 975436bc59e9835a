/**
 * Freshness comparison: a stream in which every user's history grows by one item per request.
 * 100 users get a profile (round 0, unmeasured), then each user sends 5 requests in sequence (the next as
 * soon as the last is answered), each with one more history item than the last (so the digest of the last
 * 10 items changes every time); the 100 users' streams run concurrently, their starts spread over one LLM latency. Run once per PROFILE_FRESHNESS policy, each against its own service
 * process, with the simulator at a fixed 200 ms. LLM calls include background refreshes: the count is
 * read once the simulator has seen no new call for a while after the last round.
 */
import { Pool } from 'undici';
import type { BenchContext, Target } from '../lib/context.js';
import { startService } from '../lib/context.js';
import type { LatencySummary } from '../lib/load.js';
import { measureLoad, summarize } from '../lib/load.js';
import { counterDelta, scrapeCounters, sumSeries } from '../lib/prom.js';
import { cpuMicros } from '../../testkit/processes.js';
import { sleep } from '../../testkit/wait.js';
import { HISTORY_LEN, hitBodies, missStream, mixStream, rerankBody, userCandidates, userHistory } from '../lib/workload.js';

export type Freshness = 'stale-while-revalidate' | 'strict';

export interface FreshnessResult {
  policy: Freshness;
  users: number;
  rounds: number;
  simLatencyMs: number;
  requests: number;
  latencyMs: LatencySummary;
  llmCalls: number;
  llmCallsPerRequest: number;
  llmByRole: Record<string, number>;
  staleResponses: number;
  cachedResponses: number;
  /** Answers whose profile was generated while the caller waited (profile.cached false). */
  syncProfileResponses: number;
  /** Mean of the service's own timingsMs.profile / timingsMs.rerank. */
  meanProfileMs: number;
  meanRerankMs: number;
  fallbacks: number;
  backgroundRefreshes: number;
  /**
   * Service CPU over the streams ÷ requests. Only 500 requests at a low rate (~200 req/s), where CPU per
   * request is higher than under load (less I/O batching): not comparable with the HTTP scenarios.
   */
  serviceUsPerReq: number;
  non200: number;
}

interface RerankReply {
  fallback: { reason: string } | null;
  profile: { cached: boolean; stale?: boolean } | null;
  timingsMs: { total: number; profile?: number; rerank?: number };
}

async function round(pool: Pool, bodies: string[]): Promise<Array<{ ms: number; status: number; reply?: RerankReply }>> {
  return Promise.all(
    bodies.map(async (body) => {
      const t = performance.now();
      const res = await pool.request({
        method: 'POST',
        path: '/v1/rerank',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const text = await res.body.text();
      const ms = performance.now() - t;
      if (res.statusCode !== 200) return { ms, status: res.statusCode };
      return { ms, status: 200, reply: JSON.parse(text) as RerankReply };
    }),
  );
}

const bodyFor = (u: number, len: number, tag: string) =>
  rerankBody(`fresh-${tag}-${u}`, userHistory(5_000 + u, len), userCandidates(5_000 + u));
const bodiesFor = (users: number, len: number, tag: string) => Array.from({ length: users }, (_, u) => bodyFor(u, len, tag));

/** Waits until the simulator has seen no new call for `quietMs` (bounded by `maxMs`). */
async function simQuiet(ctx: BenchContext, quietMs: number, maxMs: number): Promise<number> {
  const until = Date.now() + maxMs;
  let last = (await ctx.sim.stats()).calls;
  let stableSince = Date.now();
  while (Date.now() < until) {
    await sleep(100);
    const now = (await ctx.sim.stats()).calls;
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) break;
  }
  return last;
}

export async function runFreshness(ctx: BenchContext, policy: Freshness, users = 100, rounds = 5, latencyMs = 200): Promise<FreshnessResult> {
  ctx.log(`▶ freshness-${policy}: ${users} users × ${rounds} rounds, each request appends one history item, LLM ${latencyMs} ms`);
  const tag = policy === 'strict' ? 'strict' : 'swr';
  let target: Target | undefined;
  let pool: Pool | undefined;
  try {
    target = await startService(ctx, {
      label: `service-freshness-${tag}`,
      keyPrefix: `bench-fresh-${tag}-${process.pid}`,
      freshness: policy,
      nodeFlags: ctx.opts.serviceNodeFlags,
    });
    pool = new Pool(target.origin, { connections: users, pipelining: 1 });
    // JIT warm-up (unmeasured) of both the cache-hit and the generate-and-save paths, with unrelated users and
    // an instant LLM, so CPU/request is closer to steady state.
    await ctx.sim.setLatency(0);
    await measureLoad({
      url: target.origin,
      method: 'POST',
      path: '/v1/rerank',
      connections: 50,
      durationSec: ctx.opts.warmupSec,
      body: mixStream(hitBodies(200), missStream(`fresh-warm-${tag}-${process.pid}`, 20), 50),
      hardStopMs: ctx.opts.warmupSec * 3_000 + 5_000,
    });
    await sleep(300);
    await ctx.sim.setLatency(latencyMs);
    // Round 0: every user gets a profile (synchronously: nobody has one yet).
    await round(pool, bodiesFor(users, HISTORY_LEN, tag));
    await simQuiet(ctx, latencyMs + 300, 10_000);

    const before = await scrapeCounters(target.origin);
    const calls0 = await ctx.sim.stats();
    const cpu0 = cpuMicros(target.child.pid);
    const samples: number[] = [];
    let stale = 0;
    let cached = 0;
    let profileMs = 0;
    let rerankMs = 0;
    let fallbacks = 0;
    let non200 = 0;
    // Every user is a sequential stream: its next request (one more history item) follows its last answer.
    // Starts are spread over one LLM latency so the streams do not move in lockstep (with a constant-latency
    // LLM, simultaneous starts would make every round a burst of 100 arrivals and 100 completions).
    const streams = Array.from({ length: users }, async (_, u) => {
      await sleep((u * latencyMs) / users);
      for (let r = 1; r <= rounds; r++) {
        const [res] = await round(pool as Pool, [bodyFor(u, HISTORY_LEN + r, tag)]);
        if (!res) continue;
        samples.push(res.ms);
        if (res.status !== 200 || !res.reply) {
          non200++;
          continue;
        }
        if (res.reply.profile?.stale) stale++;
        if (res.reply.profile?.cached) cached++;
        if (res.reply.fallback) fallbacks++;
        profileMs += res.reply.timingsMs.profile ?? 0;
        rerankMs += res.reply.timingsMs.rerank ?? 0;
      }
    });
    await Promise.all(streams);
    const calls1Total = await simQuiet(ctx, latencyMs + 300, 15_000);
    const cpu1 = cpuMicros(target.child.pid);
    const calls1 = await ctx.sim.stats();
    const after = await scrapeCounters(target.origin);
    const d = counterDelta(before, after);
    const byRole: Record<string, number> = {};
    for (const [role, c] of Object.entries(calls1.byRole)) {
      const delta = c - (calls0.byRole[role] ?? 0);
      if (delta) byRole[role] = delta;
    }
    const requests = samples.length;
    const llmCalls = calls1Total - calls0.calls;
    const out: FreshnessResult = {
      policy,
      users,
      rounds,
      simLatencyMs: latencyMs,
      requests,
      latencyMs: summarize(samples),
      llmCalls,
      llmCallsPerRequest: llmCalls / requests,
      llmByRole: byRole,
      staleResponses: stale,
      cachedResponses: cached,
      syncProfileResponses: requests - non200 - cached,
      meanProfileMs: profileMs / Math.max(1, requests - non200),
      meanRerankMs: rerankMs / Math.max(1, requests - non200),
      fallbacks,
      backgroundRefreshes: sumSeries(d, 'agp_profile_refresh_total'),
      serviceUsPerReq: (cpu1 - cpu0) / requests,
      non200,
    };
    ctx.log(
      `  ${requests} req; p50 ${out.latencyMs.p50.toFixed(1)} p99 ${out.latencyMs.p99.toFixed(1)} ms; ` +
        `LLM calls/req ${out.llmCallsPerRequest.toFixed(2)} (${JSON.stringify(byRole)}); stale ${stale}, generated in-request ${out.syncProfileResponses}; ` +
        `service timings: profile ${out.meanProfileMs.toFixed(0)} ms, rerank ${out.meanRerankMs.toFixed(0)} ms; fallbacks ${fallbacks}`,
    );
    return out;
  } finally {
    await pool?.close();
    await target?.child.stop(15_000);
  }
}
