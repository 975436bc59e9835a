/**
 * A sentence-level diff of two prompts for the training report: kept sentences, then each changed stretch
 * as its removed sentences followed by its added ones (the order of a unified diff).
 */

/**
 * Splits a prompt into sentences (and lines), the unit of the diff. A sentence ends at . ! or ? before
 * white space, but not after a list number ("1. ") and never at a colon or semicolon ("Step 1: …" stays whole).
 */
export function sentences(text: string): string[] {
  return text
    .split('\n')
    .flatMap((line) => line.split(/(?<=(?<!\b\d{1,3})[.!?])\s+/))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A unified-style diff of two prompts by sentence: `  kept`, `- removed`, `+ added` (LCS based). */
export function sentenceDiff(before: string, after: string): string {
  const a = sentences(before);
  const b = sentences(after);
  const n = a.length;
  const mm = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(mm + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = mm - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] = a[i] === b[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const out: string[] = [];
  let removed: string[] = [];
  let added: string[] = [];
  const flush = () => {
    out.push(...removed.map((s) => `- ${s}`), ...added.map((s) => `+ ${s}`));
    removed = [];
    added = [];
  };
  let i = 0;
  let j = 0;
  while (i < n || j < mm) {
    if (i < n && j < mm && a[i] === b[j]) {
      flush();
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (i < n && (j >= mm || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      removed.push(a[i] as string);
      i++;
    } else {
      added.push(b[j] as string);
      j++;
    }
  }
  flush();
  return out.join('\n');
}
