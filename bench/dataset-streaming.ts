/**
 * Streaming-dataset bench: `agp eval --methods base` on a ~1 GB canonical JSONL file, in a child process,
 * reporting its peak RSS and rows/s. The target is a peak under 300 MiB (issue 8): the reader streams
 * lines, validates each one and keeps only 8-byte metric values per user.
 *
 *   npm run bench:dataset-streaming -- [--size-mb 1024] [--out bench/results/dataset-streaming.json]
 *
 * The file is generated in a temp directory (bench/lib/canonical-dataset.ts, ~7 KB rows) and deleted at
 * the end. The CLI runs the way `npm run agp` runs it (node --import tsx src/cli/agp.ts), under
 * `/usr/bin/time -f "%M %e"`: the peak RSS is the kernel's maximum resident set size of that process.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { writeCanonicalDataset } from './lib/canonical-dataset.js';
import { machineInfo, sourceInfo } from './lib/machine.js';
import { CLK_TCK } from '../testkit/processes.js';

const execFileP = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET_MIB = 300;

const { values: v } = parseArgs({
  options: { 'size-mb': { type: 'string', default: '1024' }, out: { type: 'string', default: join(repoRoot, 'bench', 'results', 'dataset-streaming.json') } },
  strict: true,
});
const sizeMb = Number(v['size-mb']);
if (!(sizeMb > 0)) throw new Error(`--size-mb must be a positive number, got ${v['size-mb']}`);

const dir = await mkdtemp(join(tmpdir(), 'agp-dataset-streaming-'));
try {
  const file = join(dir, 'users.jsonl');
  const machine = machineInfo(CLK_TCK);
  const g0 = performance.now();
  const { rows, bytes } = await writeCanonicalDataset(file, sizeMb * 1024 * 1024);
  const generateSeconds = (performance.now() - g0) / 1000;
  process.stderr.write(`generated ${rows} rows, ${(bytes / 1048576).toFixed(0)} MiB in ${generateSeconds.toFixed(1)} s\n`);

  const timeFile = join(dir, 'time.txt');
  const cli = ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'agp.ts'), 'eval', '--data', file, '--methods', 'base', '--json'];
  // A clean environment: no LLM, no Redis; base needs neither.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), NODE_ENV: 'production' };
  const { stdout } = await execFileP('/usr/bin/time', ['-o', timeFile, '-f', '%M %e', process.execPath, ...cli], {
    cwd: repoRoot,
    env,
    maxBuffer: 1024 * 1024,
  });
  const [maxRssKb, elapsed] = (await readFile(timeFile, 'utf8')).trim().split(/\s+/).map(Number);
  const summary = JSON.parse(stdout) as { n: number; methods: { base?: Record<string, unknown> } };
  if (summary.n !== rows) throw new Error(`agp eval saw ${summary.n} users, the file has ${rows}`);
  const peakRssMiB = Math.round(((maxRssKb ?? 0) / 1024) * 10) / 10;
  const wallSeconds = elapsed ?? 0;
  const result = {
    command: `node --import tsx src/cli/agp.ts eval --data <${(bytes / 1048576).toFixed(0)} MiB file> --methods base --json`,
    fileBytes: bytes,
    rows,
    wallSeconds,
    rowsPerSecond: Math.round(rows / wallSeconds),
    mibPerSecond: Math.round((bytes / 1048576 / wallSeconds) * 10) / 10,
    peakRssMiB,
    targetPeakRssMiB: TARGET_MIB,
    pass: peakRssMiB < TARGET_MIB,
    baseNdcgAt10: summary.methods.base?.['ndcg@10'],
    generateSeconds: Math.round(generateSeconds * 10) / 10,
    measuredAt: new Date().toISOString(),
    machine,
    source: sourceInfo(repoRoot),
  };
  await mkdir(dirname(v.out), { recursive: true });
  await writeFile(v.out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify({ rows, wallSeconds, rowsPerSecond: result.rowsPerSecond, peakRssMiB, pass: result.pass })}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
