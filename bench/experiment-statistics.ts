/**
 * `npx tsx bench/experiment-statistics.ts` — the simulations behind docs/experiments.md (issue 10):
 *
 * 1. A/A on NDCG@10 (ab): the share of experiments in which the always-valid test EVER decides, when it
 *    is read after every 100 exposures up to `--per-arm` exposures per arm; next to it, the same for a
 *    fixed-horizon z-test read at every look (the mistake the method exists to prevent).
 * 2. A/B with a true NDCG@10 lift of `--lift` (default 0.02): exposures needed to decide "treatment".
 * 3. The same two for interleaving of the same two policies (A/A: identical rankings; power: the same
 *    0.02 NDCG@10 lift), so the designs are compared on one effect.
 *
 * 4. A/A with repeat users (1,000 users of 20 exposures each, heterogeneous click propensity): how often
 *    the exposure-level and the user-level variance ever decide.
 *
 * Flags: --runs <n> (A/A ab runs, default 500), --per-arm <n> (default 20000), --power-runs <n> (default
 * 200), --power-cap <n> (total exposures per power run, default 100000), --il-runs <n> (default 200),
 * --seed <s>. Writes bench/results/experiment-statistics.json and prints a summary.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BETTER_ORDER, CONTROL_ORDER, expectedNdcg, runAbSequential, runInterleavingSequential, runUserClusteredAa } from '../testkit/experiment-simulation.js';
import type { SequentialRunResult } from '../testkit/experiment-simulation.js';
import { percentile } from '../testkit/load.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const runs = flag('runs', 500);
const perArm = flag('per-arm', 20_000);
const powerRuns = flag('power-runs', 200);
const powerCap = flag('power-cap', 100_000);
const ilRuns = flag('il-runs', 200);
const lift = flag('lift', 0.02);
const seed = args.includes('--seed') ? String(args[args.indexOf('--seed') + 1]) : 'bench';

/** Wilson score interval (95%) of a binomial proportion. */
function wilson(k: number, n: number): [number, number] {
  const z = 1.959964;
  const p = k / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

function falsePositives(results: SequentialRunResult[]) {
  const k = results.filter((r) => r.firstDecision !== null).length;
  const naive = results.filter((r) => r.naiveEverRejected).length;
  return { runs: results.length, rate: k / results.length, ci95: wilson(k, results.length), naiveRate: naive / results.length, naiveCi95: wilson(naive, results.length) };
}

function power(results: SequentialRunResult[], cap: number) {
  const times = results.map((r) => (r.firstDecision?.decision === 'treatment' ? r.firstDecision.exposures : Infinity));
  const detected = times.filter(Number.isFinite).length;
  const wrong = results.filter((r) => r.firstDecision?.decision === 'control').length;
  return { runs: results.length, cap, detected, wrongDirection: wrong, medianExposures: percentile(times, 50), p90Exposures: percentile(times, 90) };
}

function timed<T>(label: string, f: () => T): T {
  const t0 = performance.now();
  const out = f();
  process.stdout.write(`${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const aaAb = timed('A/A ab', () => range(runs).map((i) => runAbSequential({ seed: `${seed}:aa:${i}`, totalExposures: 2 * perArm, lift: 0 })));
const powerAb = timed('A/B power', () => range(powerRuns).map((i) => runAbSequential({ seed: `${seed}:ab:${i}`, totalExposures: powerCap, lift, stopAtDecision: true })));
const aaIl = timed('A/A interleave', () =>
  range(ilRuns).map((i) => runInterleavingSequential({ seed: `${seed}:ilaa:${i}`, totalExposures: 2 * perArm, lift: 0 })),
);
const powerIl = timed('interleave power', () =>
  range(ilRuns).map((i) => runInterleavingSequential({ seed: `${seed}:ilp:${i}`, totalExposures: powerCap, lift, stopAtDecision: true })),
);
const usersAa = timed('A/A repeat users', () => range(runs).map((i) => runUserClusteredAa({ seed: `${seed}:users:${i}`, users: 1000, exposuresPerUser: 20 })));
const everDecided = (pick: (r: (typeof usersAa)[number]) => boolean) => {
  const k = usersAa.filter(pick).length;
  return { rate: k / usersAa.length, ci95: wilson(k, usersAa.length) };
};

const report = {
  command: `npx tsx bench/experiment-statistics.ts ${args.join(' ')}`.trim(),
  settings: { runs, perArm, peekEvery: 100, powerRuns, powerCap, ilRuns, lift, seed, alpha: 0.05, tauAb: 0.02, tauInterleave: 0.05 },
  clickModel: { controlNdcg: expectedNdcg(CONTROL_ORDER), betterNdcg: expectedNdcg(BETTER_ORDER) },
  ab: { aa: falsePositives(aaAb), power: power(powerAb, powerCap) },
  interleave: { aa: falsePositives(aaIl), power: power(powerIl, powerCap) },
  repeatUsersAa: {
    runs: usersAa.length,
    users: 1000,
    exposuresPerUser: 20,
    exposureLevel: everDecided((r) => r.exposureLevelEverDecided),
    userLevel: everDecided((r) => r.userLevelEverDecided),
  },
};
const out = join(resolve(dirname(fileURLToPath(import.meta.url))), 'results', 'experiment-statistics.json');
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(report, null, 2)}\nwrote ${out}\n`);
