/**
 * `npx tsx bench/position-bias.ts [--users 200] [--bias 0,0.25,0.5] [--shuffles 1,2,3,5]`
 *
 * NDCG@10 of `agp eval --shuffles k` on the synthetic world (testkit/synthetic-world.ts makeUsers) against the
 * LLM double with its position-biased reranker (testkit/position-bias.ts: with probability p a rerank call
 * puts the prompt's first 3 items first), for direct and agp. Prints a markdown table: the mean, and for
 * k > 1 the paired difference with shuffles = 1 and its bootstrap 95% CI (docs/quality.md).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pairedBootstrap } from '../src/agp/metrics.js';
import { main } from '../src/cli/agp.js';
import { startLlmDouble } from '../testkit/llm-double.js';
import { makeUsers } from '../testkit/synthetic-world.js';

const { values: v } = parseArgs({ options: { users: { type: 'string' }, bias: { type: 'string' }, shuffles: { type: 'string' } } });
const n = Number(v.users ?? 200);
const biases = (v.bias ?? '0,0.25,0.5').split(',').map(Number);
const ks = (v.shuffles ?? '1,2,3,5').split(',').map(Number);
const METHODS = ['direct', 'agp'] as const;

const dir = await mkdtemp(join(tmpdir(), 'agp-position-bias-'));
const data = join(dir, 'users.jsonl');
await writeFile(data, `${makeUsers(n).map((u) => JSON.stringify(u)).join('\n')}\n`);

/** Per-user NDCG@10 of each method after `agp eval --shuffles k`. */
async function evalRun(url: string, k: number): Promise<Record<string, number[]>> {
  const out = join(dir, `eval-${k}.json`);
  const env = { LOG_LEVEL: 'silent', LLM_BASE_URL: url, LLM_API_KEY: 'sk-bench', LLM_MODEL: 'double-model' };
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    const code = await main(['eval', '--data', data, '--methods', METHODS.join(','), '--shuffles', String(k), '--json', '--out', out, '--concurrency', '32'], env);
    if (code !== 0) throw new Error(`agp eval exited ${code}`);
  } finally {
    process.stdout.write = write;
  }
  const r = JSON.parse(await readFile(out, 'utf8')) as { result: { methods: Record<string, { perUser: Array<{ scores: Record<string, number> }> }> } };
  return Object.fromEntries(METHODS.map((m) => [m, (r.result.methods[m]?.perUser ?? []).map((u) => u.scores['ndcg@10'] ?? 0)]));
}

const fmt = (x: number) => x.toFixed(3);
try {
  console.log(`| bias p | method | ${ks.map((k) => `shuffles=${k}`).join(' | ')} |`);
  console.log(`|---|---|${ks.map(() => '---').join('|')}|`);
  for (const p of biases) {
    const double = await startLlmDouble({ positionBias: { p, top: 3 } });
    try {
      const runs = new Map<number, Record<string, number[]>>();
      for (const k of ks) runs.set(k, await evalRun(double.url, k));
      for (const m of METHODS) {
        const first = runs.get(ks[0] as number)?.[m] ?? [];
        const cells = ks.map((k, i) => {
          const xs = runs.get(k)?.[m] ?? [];
          const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
          if (i === 0) return fmt(mean);
          const d = pairedBootstrap(xs, first, { seed: 0, iterations: 2000 });
          return `${fmt(mean)} (${d.meanDiff >= 0 ? '+' : ''}${fmt(d.meanDiff)} [${fmt(d.ci95[0])}, ${fmt(d.ci95[1])}])`;
        });
        console.log(`| ${p} | ${m} | ${cells.join(' | ')} |`);
      }
    } finally {
      await double.close();
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
