/**
 * The LLM answer fuzz of issue 9: 10,000 generated answers (testkit/answer-fuzz.ts: every shape the parser
 * accepts, wrapped in reasoning and prose, with dropped, repeated and unknown labels, truncation, duplicated
 * spans, huge repeats, unicode, tag soup, whitespace runs and the parser baits, up to a million characters),
 * each one the LLM's answer to a real rerank. Fixed seed: a failure names its case, and the same seed
 * rebuilds it.
 *
 * The service runs as a child process (startServerProcess, `npm start`'s command) so its RSS is its own:
 * VmRSS of that process, sampled every 50 ms. The LLM is the hostile-LLM server in `content` mode, answering
 * each call with the answer its request's case makes for that call's window (candidate titles carry the
 * case number). The configuration is the default one but for the LLM address: answers over the default
 * LLM_MAX_RESPONSE_BYTES (76,800 bytes) end as llm_error before any parsing, as in production; the parser's own
 * bound on megabyte answers is test/security/answer-adversarial.test.ts's business.
 *
 * For every rerank: 200; the ranking is a permutation of exactly the candidates; the answer arrives within
 * deadline + 100 ms on the client's clock. Well-formed answers must also be read exactly. Throughout: the
 * service's RSS stays under RSS_LIMIT_MB.
 *
 * Timing on a shared 2-core machine: the work an answer causes is deterministic, so an answer that arrives
 * late is replayed alone, up to REPLAYS times, with a fresh user; it fails when even its fastest replay is
 * late. A parser that blocks on some answer is late every time; a process that was not scheduled is not.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerRecipe, describeRecipe, intendedRanking, isWellFormed, realizeAnswer, type AnswerRecipe } from '../../testkit/answer-fuzz.js';
import { startHostileLlm, type HostileLlm } from '../../testkit/hostile-llm.js';
import { parseCandidates, type RecordedCall } from '../../testkit/llm-double.js';
import { percentile, rerankProblem, runLoad, sendOne, type LoadSample, type RerankBody } from '../../testkit/load.js';
import { cpuMicros, rssKb, startServerProcess, type ServerProcess } from '../../testkit/processes.js';

/** LLM_FUZZ_RUNS / LLM_FUZZ_SEED override the defaults, to try other seeds or a quick subset. */
const RUNS = Number(process.env.LLM_FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.LLM_FUZZ_SEED ?? 20_261_204);
const DEADLINE_MS = 500;
const BOUND_MS = DEADLINE_MS + 100;
const CONCURRENCY = 8;
/**
 * Peak service RSS: issue 9's 300 MB. The service runs with `npm start`'s heap ceiling (SERVICE_NODE_OPTIONS,
 * --max-old-space-size=384). Without one, V8 sizes the heap from the host's RAM (about 4 GB here) and defers
 * major GCs: the peak then ranged 282–369 MB from run to run on the same seed and build (~93 MB live after the
 * last mark-compact), and the bound had been raised to 360 MB and still failed. With the ceiling, five runs
 * peaked at 263–266 MB. The bound still catches a leak or an unbounded answer: those reach GBs.
 */
const RSS_LIMIT_MB = 300;
const REPLAYS = 3;

type Method = 'direct' | 'cot' | 'agp';
interface FuzzCase {
  recipe: AnswerRecipe;
  /** Candidates: one (no LLM call), one window (≤ 20), or two and three windows. */
  n: number;
  method: Method;
}

const fuzzCase: fc.Arbitrary<FuzzCase> = fc.record({
  recipe: answerRecipe,
  n: fc.oneof(
    { weight: 1, arbitrary: fc.constant(1) },
    { weight: 12, arbitrary: fc.integer({ min: 2, max: 20 }) },
    { weight: 3, arbitrary: fc.integer({ min: 21, max: 45 }) },
  ),
  // agp asks for a profile first, and that answer is fuzzed too (profile cleaning and capping).
  method: fc.constantFrom<Method>('direct', 'direct', 'direct', 'direct', 'cot', 'agp'),
});
const cases = fc.sample(fuzzCase, { numRuns: RUNS, seed: SEED });

const candidatesOf = (i: number, n: number) => Array.from({ length: n }, (_, j) => ({ id: `f${i}-${j + 1}`, title: `case-${i} film ${j + 1}` }));
const bodyOf = (i: number, c: FuzzCase) => ({
  userId: `fuzz-${i}`, // a profile cache miss for every agp case
  method: c.method,
  deadlineMs: DEADLINE_MS,
  history: [1, 2, 3].map((j) => ({ id: `h${j}`, title: `case-${i} seen ${j}` })),
  candidates: candidatesOf(i, c.n),
});

const CASE = /\bcase-(\d+)\b/;
let answered = 0;
/** The LLM's answer to one call: its case's recipe, for as many labels as the call's window has. */
function fuzzAnswer(call: RecordedCall<string>): string {
  const lastUser = call.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  const c = cases[Number(CASE.exec(lastUser)?.[1] ?? -1)];
  if (!c) return 'no such case';
  answered++;
  return realizeAnswer(c.recipe, parseCandidates(lastUser).length || 5);
}

let llm: HostileLlm;
let server: ServerProcess;
beforeAll(async () => {
  llm = await startHostileLlm();
  server = await startServerProcess({
    env: {
      LLM_BASE_URL: llm.url,
      LLM_API_KEY: 'k',
      LLM_MODEL: 'hostile-model',
      LLM_MAX_RETRIES: '0',
      WORKER_ENABLED: 'false',
      // Extra service settings for a one-off comparison (e.g. '{"EXPOSURE_SAMPLE_RATE":"0"}').
      ...(process.env.LLM_FUZZ_EXTRA_ENV ? (JSON.parse(process.env.LLM_FUZZ_EXTRA_ENV) as Record<string, string>) : {}),
    },
  });
});
afterAll(async () => {
  await server?.stop();
  await llm?.close();
});

/** A case as a failure names it: enough to rebuild it (the seed and index) and to see what it was. */
function caseLabel(i: number): string {
  const c = cases[i]!;
  return `case ${i} (seed ${SEED}; n ${c.n}, ${c.method}; ${describeRecipe(c.recipe)})`;
}

/** What is wrong with one rerank, or null. */
function problemOf(s: LoadSample, c: FuzzCase): string | null {
  const candidates = candidatesOf(s.index, c.n);
  const invalid = rerankProblem(s, candidates);
  if (invalid) return invalid;
  if (c.n < 2 || c.n > 20 || !isWellFormed(c.recipe, c.n)) return null;
  const body = s.body as RerankBody;
  const want = intendedRanking(c.recipe, c.n).map((label) => `f${s.index}-${label}`);
  const got = body.ranking.map((r) => r.id);
  if (body.fallback || body.repaired || got.join() !== want.join()) {
    return `well-formed answer read as ${got.join(',')} (fallback ${JSON.stringify(body.fallback)}, repaired ${body.repaired}); meant ${want.join(',')}`;
  }
  return null;
}

/** Null when a late case answers within the bound at least once in REPLAYS runs alone; else what is wrong. */
async function replayLate(index: number, firstMs: number): Promise<string | null> {
  const c = cases[index]!;
  let best = Infinity;
  for (let r = 0; r < REPLAYS && best > BOUND_MS; r++) {
    const body = { ...bodyOf(index, c), userId: `fuzz-${index}-replay-${r}` };
    const s = await sendOne(server.origin, { path: '/v1/rerank', body }, { index, timeoutMs: 10_000 });
    const problem = problemOf(s, c);
    if (problem) return `on replay: ${problem}`;
    best = Math.min(best, s.elapsedMs);
  }
  return best > BOUND_MS ? `answered in ${firstMs.toFixed(0)} ms, and in ${best.toFixed(0)} ms at best over ${REPLAYS} replays alone` : null;
}

describe('LLM answer fuzz', () => {
  it(`${RUNS} generated answers: 200, a permutation of the candidates, within deadline + 100 ms, service RSS under ${RSS_LIMIT_MB} MB`, async () => {
    // Warm-up on honest answers: tsx compiles each code path on first use, which is start-up, not a rerank.
    await runLoad({ origin: server.origin, concurrency: CONCURRENCY, requests: 200, next: (i) => ({ path: '/v1/rerank', body: { ...bodyOf(i, cases[i]!), userId: `warm-${i}`, deadlineMs: 5_000 } }) });
    llm.setMode({ kind: 'content', content: fuzzAnswer });

    const startRssKb = rssKb(server.pid) ?? 0;
    let maxRssKb = startRssKb;
    const sampler = setInterval(() => (maxRssKb = Math.max(maxRssKb, rssKb(server.pid) ?? 0)), 50);
    const latencies = new Float64Array(RUNS);
    const reasons: Record<string, number> = {};
    const problems: string[] = [];
    const late: number[] = [];
    let repaired = 0;
    let checkedExactly = 0;
    const started = performance.now();
    const cpuBefore = cpuMicros(server.pid);
    try {
      await runLoad({
        origin: server.origin,
        concurrency: CONCURRENCY,
        requests: RUNS,
        timeoutMs: 10_000,
        keepSamples: false,
        next: (i) => ({ path: '/v1/rerank', body: bodyOf(i, cases[i]!) }),
        onSample: (s) => {
          const c = cases[s.index]!;
          latencies[s.index] = s.elapsedMs;
          llm.calls.length = 0; // the server records every call; 10,000 prompts are not worth keeping
          const problem = problemOf(s, c);
          if (problem) problems.push(`${caseLabel(s.index)}: ${problem}`);
          else if (s.elapsedMs > BOUND_MS) late.push(s.index);
          if (s.status !== 200) return;
          const body = s.body as RerankBody;
          const reason = body.fallback?.reason ?? 'none';
          reasons[reason] = (reasons[reason] ?? 0) + 1;
          if (body.repaired) repaired++;
          if (c.n >= 2 && c.n <= 20 && isWellFormed(c.recipe, c.n)) checkedExactly++;
        },
      });
    } finally {
      clearInterval(sampler);
    }
    maxRssKb = Math.max(maxRssKb, rssKb(server.pid) ?? 0);
    const cpuPerRerank = (cpuMicros(server.pid) - cpuBefore) / RUNS;
    const wallS = (performance.now() - started) / 1000;
    for (const i of late) {
      const problem = await replayLate(i, latencies[i]!);
      if (problem) problems.push(`${caseLabel(i)}: ${problem}`);
    }
    const maxRssMb = maxRssKb / 1024;
    console.log(
      `llm-answer-fuzz: ${RUNS} reranks (seed ${SEED}, concurrency ${CONCURRENCY}, deadline ${DEADLINE_MS} ms) in ${wallS.toFixed(1)} s; ` +
        `fallback ${JSON.stringify(reasons)}; repaired ${repaired}; well-formed read exactly ${checkedExactly}; ` +
        `LLM answers ${answered}, ${(llm.bytesSent / 1_048_576).toFixed(0)} MB; latency p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${percentile(latencies, 100).toFixed(1)} ms, over ${BOUND_MS} ms ${late.length} (replayed); ` +
        `service RSS ${(startRssKb / 1024).toFixed(0)} MB after warm-up, max ${maxRssMb.toFixed(0)} MB (child process VmRSS), CPU ${cpuPerRerank.toFixed(0)} µs per rerank; problems ${problems.length}`,
    );

    expect(problems.slice(0, 10), `${problems.length} problems`).toEqual([]);
    expect(maxRssMb).toBeLessThan(RSS_LIMIT_MB);
    // The fuzz reached what it claims to: the parser read good answers, repaired some and gave up on others.
    expect(answered).toBeGreaterThanOrEqual(cases.filter((c) => c.n >= 2).length);
    expect(checkedExactly).toBeGreaterThan(RUNS / 10);
    expect(repaired).toBeGreaterThan(RUNS / 20);
    expect(reasons.unparseable ?? 0).toBeGreaterThan(RUNS / 20);
  }, 300_000);
});
