/**
 * Splits a service's .cpuprofile by the measured blocks of bench/exposure-cpu.ts (its --cpu-prof-dir holds
 * the profile and blocks.json) and prints, per function, the main thread's self time per request in the
 * recorded blocks minus the unrecorded ones: where the CPU that recording adds goes, GC on the main thread
 * included (V8's helper threads are not sampled). Each function's delta carries sampling noise (one sample
 * per --cpu-prof-interval, 200 µs), so read the large ones.
 *
 *   npx tsx bench/lib/cpuprofile-blocks.ts <cpu-prof-dir> [--top 40]
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../testkit/processes.js';
import { moduleOf, type CpuProfile, type ProfileNode } from './cpuprofile.js';

interface Blocks {
  blockSize: number;
  blocks: Array<{ recorded: boolean; startUs: number; endUs: number }>;
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '40' } } });
const dir = positionals[0];
if (!dir) throw new Error('usage: cpuprofile-blocks.ts <cpu-prof-dir> [--top 40]');
const blocks = JSON.parse(await readFile(join(dir, 'blocks.json'), 'utf8')) as Blocks;
// The service's main thread wrote the largest profile (a loader thread may write a small one).
const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
const sized = await Promise.all(files.map(async (f) => ({ f, text: await readFile(join(dir, f), 'utf8') })));
const main = sized.sort((a, b) => b.text.length - a.text.length)[0];
if (!main) throw new Error(`no .cpuprofile in ${dir}`);
const profile = JSON.parse(main.text) as CpuProfile;

const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${moduleOf(n.callFrame.url, n.callFrame.functionName, REPO_ROOT.replace(/\/$/, ''))}:${n.callFrame.lineNumber + 1}`;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const ordered = [...blocks.blocks].sort((a, b) => a.startUs - b.startUs);
/** Which block kind a timestamp falls in (binary search over the sorted, disjoint intervals). */
const kindAt = (t: number): 'recorded' | 'notRecorded' | null => {
  let [lo, hi] = [0, ordered.length - 1];
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const b = ordered[mid] as (typeof ordered)[number];
    if (t < b.startUs) hi = mid - 1;
    else if (t >= b.endUs) lo = mid + 1;
    else return b.recorded ? 'recorded' : 'notRecorded';
  }
  return null;
};

const self = { recorded: new Map<string, number>(), notRecorded: new Map<string, number>() };
let t = profile.startTime;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  t += dt;
  const kind = kindAt(t);
  const node = byId.get(id);
  if (!kind || !node) return;
  const k = label(node);
  self[kind].set(k, (self[kind].get(k) ?? 0) + dt);
});
const requests = { recorded: 0, notRecorded: 0 };
for (const b of blocks.blocks) requests[b.recorded ? 'recorded' : 'notRecorded'] += blocks.blockSize;
const per = (kind: 'recorded' | 'notRecorded', k: string) => (self[kind].get(k) ?? 0) / Math.max(1, requests[kind]);
const keys = new Set([...self.recorded.keys(), ...self.notRecorded.keys()]);
const rows = [...keys].map((k) => ({ k, delta: per('recorded', k) - per('notRecorded', k) })).filter((r) => !r.k.startsWith('(idle)'));
const total = rows.reduce((a, r) => a + r.delta, 0);
process.stdout.write(`main thread, sampled self time per request: recorded − unrecorded = ${total.toFixed(1)} µs (${requests.recorded} / ${requests.notRecorded} requests)\n`);
for (const r of rows.sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta)).slice(0, Number(values.top))) {
  process.stdout.write(`${r.delta.toFixed(1).padStart(8)} µs  ${r.k}\n`);
}
