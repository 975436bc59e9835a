/**
 * The loop's cost-and-capacity groups of `npm run bench` (issue 11), each its own script in a child process
 * with its own redis-server or LLM double; neither needs the built service, the simulator or the bench's Redis:
 *
 * - `dataset-build`: bench/dataset-build.ts, dataset build rows/s and peak RSS over 1M exposures (--quick:
 *   100k), writes bench/results/dataset-build.json.
 * - `loop-run-cost`: bench/loop-run-cost.ts, the LLM calls of one scheduled run at the default settings for
 *   U = 100, 500, 1000 users (--quick: 100, 500), writes bench/results/loop-run-cost.json.
 *
 * Both take minutes, so they are not in the default group list: ask for them with --only.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TargetCheck } from '../lib/report.js';

const execFileP = promisify(execFile);

/** The groups this file runs. */
export const LOOP_CAPACITY_GROUPS = ['dataset-build', 'loop-run-cost'] as const;
export type LoopCapacityGroup = (typeof LOOP_CAPACITY_GROUPS)[number];

/** Upper bound of each group's wall time, for the runner's cap (2 shared cores, 1M exposures). */
export const LOOP_CAPACITY_CAP_MS: Record<LoopCapacityGroup, number> = { 'dataset-build': 3_600_000, 'loop-run-cost': 1_800_000 };

interface DatasetBuildJson {
  redis: {
    exposures: number;
    redis: { usedMemoryMiB: number; bytesPerExposure: number };
    build: { summary: { rows: number }; rowsPerSecond: number; exposuresPerSecond: number; peakRssMiB: number; buildRssGrowthMiB: number };
  };
  memory: { exposuresHeld: number; rowsPerSecond: number; buildRssGrowthMiB: number } | null;
}
interface LoopRunCostJson {
  formulas: Record<string, { a: number; b: number; fittedOn: number[] }>;
  runs: Array<{ users: number; start: string; total: number }>;
}

async function script(repoRoot: string, file: string, args: string[], timeout: number): Promise<void> {
  await execFileP(process.execPath, ['--expose-gc', '--import', 'tsx', join(repoRoot, 'bench', file), ...args], {
    cwd: repoRoot,
    timeout,
    maxBuffer: 16 * 1024 * 1024,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
  });
}

/** Runs the asked-for groups in order; their figures as report lines (reported, no pass/fail). */
export async function runLoopCapacityGroups(repoRoot: string, groups: readonly LoopCapacityGroup[], quick: boolean, log: (m: string) => void): Promise<TargetCheck[]> {
  const out: TargetCheck[] = [];
  const results = join(repoRoot, 'bench', 'results');
  if (groups.includes('dataset-build')) {
    log(`dataset-build: filling a private Redis with ${quick ? '100k' : '1M'} exposures and building the dataset in a child…`);
    await script(repoRoot, 'dataset-build.ts', quick ? ['--exposures', '100000', '--memory-exposures', '20000'] : [], LOOP_CAPACITY_CAP_MS['dataset-build']);
    const d = JSON.parse(await readFile(join(results, 'dataset-build.json'), 'utf8')) as DatasetBuildJson;
    const b = d.redis.build;
    out.push({
      target: `Dataset build over ${d.redis.exposures} exposures (Redis store, file sink, child process)`,
      goal: 'reported',
      measured: `${b.rowsPerSecond} rows/s, ${b.exposuresPerSecond} exposures/s, ${b.summary.rows} rows; peak RSS ${b.peakRssMiB} MiB (+${b.buildRssGrowthMiB} MiB during the build); Redis ${d.redis.redis.usedMemoryMiB} MiB`,
      met: null,
    });
    if (d.memory) {
      out.push({
        target: `Dataset build, in-memory store at its default bounds (${d.memory.exposuresHeld} exposures held)`,
        goal: 'reported',
        measured: `${d.memory.rowsPerSecond} rows/s; RSS +${d.memory.buildRssGrowthMiB} MiB during the build`,
        met: null,
      });
    }
  }
  if (groups.includes('loop-run-cost')) {
    log(`loop-run-cost: one scheduled run's LLM calls for U = ${quick ? '100, 500' : '100, 500, 1000'}…`);
    await script(repoRoot, 'loop-run-cost.ts', quick ? ['--users', '100,500'] : [], LOOP_CAPACITY_CAP_MS['loop-run-cost']);
    const c = JSON.parse(await readFile(join(results, 'loop-run-cost.json'), 'utf8')) as LoopRunCostJson;
    for (const [start, f] of Object.entries(c.formulas)) {
      const points = c.runs.filter((r) => r.start === start).map((r) => `U=${r.users}: ${r.total}`).join(', ');
      out.push({ target: `LLM calls of one scheduled run (${start} run; training + offline gate, canary excluded)`, goal: 'reported', measured: `≈ ${f.a}·U + ${f.b} (from U = ${f.fittedOn.join(', ')}; per run: ${points})`, met: null });
    }
  }
  return out;
}
