/**
 * Position bias and shuffles, end to end: `agp eval` (main() in-process, the real openai SDK) against the
 * LLM double with its position-biased reranker (testkit/position-bias.ts: with probability 0.5 a rerank call
 * puts the prompt's first 3 items first), on the synthetic world (testkit/synthetic-world.ts makeUsers).
 * NDCG@10 with --shuffles 3 must beat --shuffles 1 with a paired bootstrap 95% CI that excludes 0.
 * The figures are printed and recorded in docs/quality.md ("Position bias and shuffles").
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairedBootstrap } from '../../src/agp/metrics.js';
import { main } from '../../src/cli/agp.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { biasedRanking } from '../../testkit/position-bias.js';
import { makeUsers } from '../../testkit/synthetic-world.js';

const USERS = 200;
let double: LlmDouble;
let dir: string;
let data: string;

beforeAll(async () => {
  double = await startLlmDouble({ positionBias: { p: 0.5, top: 3 } });
  dir = await mkdtemp(join(tmpdir(), 'agp-bias-'));
  data = join(dir, 'users.jsonl');
  await writeFile(data, `${makeUsers(USERS).map((u) => JSON.stringify(u)).join('\n')}\n`);
});
afterAll(async () => {
  await double?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const env = () => ({ LOG_LEVEL: 'silent', LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-bias', LLM_MODEL: 'double-model' });

interface PerUser { userId: string; scores: Record<string, number> }
interface OutFile { result: { methods: Record<string, { perUser: PerUser[]; usage: { llmCalls: number }; aggregate: Record<string, { mean: number }> }> } }

/** Runs `agp eval` with stdout captured; returns the --out file. */
async function evalRun(shuffles: number): Promise<OutFile> {
  const out = join(dir, `eval-${shuffles}.json`);
  const write = process.stdout.write.bind(process.stdout);
  const captured: string[] = [];
  process.stdout.write = ((s: string | Uint8Array) => captured.push(String(s)) > 0) as typeof process.stdout.write;
  try {
    const code = await main(['eval', '--data', data, '--methods', 'base,direct', '--shuffles', String(shuffles), '--json', '--out', out, '--concurrency', '32'], env());
    expect(code).toBe(0);
  } finally {
    process.stdout.write = write;
  }
  expect(JSON.parse(captured.join('')).n).toBe(USERS);
  return JSON.parse(await readFile(out, 'utf8')) as OutFile;
}

describe('position-biased double', () => {
  it('puts the prompt head first with the given probability, else answers honestly', () => {
    const honest = [5, 1, 4, 2, 3];
    const prompt = [1, 2, 3, 4, 5];
    let biased = 0;
    for (let i = 0; i < 2000; i++) {
      const r = biasedRanking(prompt, honest, { p: 0.3, top: 2 }, `prompt ${i}`);
      if (r[0] === 1 && r[1] === 2) {
        biased += 1;
        expect(r).toEqual([1, 2, 5, 4, 3]);
      } else expect(r).toEqual(honest);
    }
    expect(biased / 2000).toBeGreaterThan(0.25);
    expect(biased / 2000).toBeLessThan(0.35);
    expect(biasedRanking(prompt, honest, { p: 0.3 }, 'same')).toEqual(biasedRanking(prompt, honest, { p: 0.3 }, 'same'));
  });
});

describe('agp eval --shuffles validation', () => {
  it.each(['0', '6', '2.5', 'x'])('refuses --shuffles %s with a usage error before any LLM call', async (k) => {
    const before = double.calls.length;
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string | Uint8Array) => err.push(String(s)) > 0) as typeof process.stderr.write;
    try {
      expect(await main(['eval', '--data', data, '--methods', 'direct', '--shuffles', k], env())).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(err.join('')).toMatch(/--shuffles/);
    expect(double.calls.length).toBe(before);
  });
});

describe('agp eval --shuffles on the synthetic world with a position-biased LLM', () => {
  it('NDCG@10 with 3 shuffles beats 1, paired 95% CI excluding 0', { timeout: 120_000 }, async () => {
    const one = await evalRun(1);
    const three = await evalRun(3);
    const d1 = one.result.methods.direct;
    const d3 = three.result.methods.direct;
    if (!d1 || !d3) throw new Error('direct missing from the eval output');
    expect(d1.usage.llmCalls).toBe(USERS);
    expect(d3.usage.llmCalls).toBe(3 * USERS);
    expect(d3.perUser.map((u) => u.userId)).toEqual(d1.perUser.map((u) => u.userId));
    const ndcg = (xs: PerUser[]) => xs.map((u) => u.scores['ndcg@10'] as number);
    const diff = pairedBootstrap(ndcg(d3.perUser), ndcg(d1.perUser), { seed: 0, iterations: 2000 });
    const base = one.result.methods.base?.aggregate['ndcg@10']?.mean ?? NaN;
    console.info(
      `[position-bias] n=${USERS} base=${base.toFixed(3)} shuffles=1: ${d1.aggregate['ndcg@10']?.mean.toFixed(3)} ` +
        `shuffles=3: ${d3.aggregate['ndcg@10']?.mean.toFixed(3)} diff=${diff.meanDiff.toFixed(3)} ` +
        `ci95=[${diff.ci95[0].toFixed(3)}, ${diff.ci95[1].toFixed(3)}] p=${diff.pValue.toFixed(4)}`,
    );
    expect(diff.meanDiff).toBeGreaterThan(0);
    expect(diff.ci95[0]).toBeGreaterThan(0);
  });
});
