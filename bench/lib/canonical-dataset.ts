/**
 * Synthetic canonical JSONL datasets for the streaming bench: rows shaped like converted catalogue data
 * (a 20-item history and 20 candidates with titles and short descriptions, about 6 KB a row), written
 * through a stream so that a file of any size costs no memory to make.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

const WORDS = ['space', 'crime', 'drama', 'night', 'river', 'heist', 'dragon', 'garden', 'winter', 'signal', 'harbour', 'echo'];

function words(seed: number, n: number): string {
  const out: string[] = [];
  for (let k = 0; k < n; k++) out.push(WORDS[(seed * 31 + k * 7) % WORDS.length] ?? 'x');
  return out.join(' ');
}

function item(id: number): { id: string; title: string; text: string } {
  return { id: `i${id}`, title: `The ${words(id, 4)} (${1950 + (id % 70)})`, text: `Genres: ${words(id + 3, 3)}. ${words(id + 5, 12)}.` };
}

/** User `u`'s canonical row: history and candidates drawn from a 1 M item catalogue; the target is candidate u % 20. */
export function canonicalRow(u: number): string {
  const history = Array.from({ length: 20 }, (_, k) => item((u * 97 + k * 13) % 1_000_000));
  const candidates = Array.from({ length: 20 }, (_, k) => item((u * 89 + k * 17 + 500_000) % 1_000_000));
  return JSON.stringify({ userId: `u${u}`, history, candidates, target: candidates[u % 20]?.id });
}

/** Writes rows until the file holds at least `targetBytes`; returns the rows and bytes written. */
export async function writeCanonicalDataset(file: string, targetBytes: number): Promise<{ rows: number; bytes: number }> {
  const out = createWriteStream(file);
  let rows = 0;
  let bytes = 0;
  while (bytes < targetBytes) {
    const line = `${canonicalRow(rows)}\n`;
    rows += 1;
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { rows, bytes };
}
