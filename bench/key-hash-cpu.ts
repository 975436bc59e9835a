/**
 * `npx tsx bench/key-hash-cpu.ts [--ids 10000] [--rounds 20]`
 *
 * CPU per sha256 of a UUID, as key-schema.ts's idHash computes an exposure's tag on every recorded rerank:
 * the one-shot `crypto.hash` it uses now against the `createHash(...).update(Buffer).digest()` it used
 * before (same digest). Wall time of a tight loop on this thread, after one warm-up pass each.
 */
import { createHash, hash, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { idHash } from '../src/store/key-schema.js';

const { values: v } = parseArgs({ options: { ids: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '20' } }, strict: true });
const ids = Array.from({ length: Number(v.ids) }, () => randomUUID());
const rounds = Number(v.rounds);
const ways: Record<string, (s: string) => string> = {
  'createHash + Buffer (before)': (s) => createHash('sha256').update(Buffer.from(s, 'utf8')).digest('hex').slice(0, 32),
  'crypto.hash (now)': (s) => hash('sha256', s, 'hex').slice(0, 32),
  'idHash (key-schema.ts)': idHash,
};
const sample = ids[0] ?? '';
const digests = new Set(Object.values(ways).map((f) => f(sample)));
if (digests.size !== 1) throw new Error('the ways disagree on a digest');
for (const [name, f] of Object.entries(ways)) {
  for (const s of ids) f(s);
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const s of ids) sink += f(s).length;
  const ns = Number(process.hrtime.bigint() - t0) / (rounds * ids.length);
  process.stdout.write(`${name}: ${(ns / 1000).toFixed(2)} µs per id (${sink > 0 ? 'ok' : ''})\n`);
}
