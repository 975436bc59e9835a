// A line diff for prompt versions, written by hand on purpose: one longest-common-subsequence table over
// lines is all the console needs, and a diff library would be the bundle's only dependency (and a build step).

/**
 * Diffs two texts by line. Returns `[{ op, text }]` in unified-diff order, op ' ' kept, '-' only in `a`,
 * '+' only in `b`; within a changed stretch removals come before additions.
 */
export function lineDiff(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  // lcs[i][j] = length of the LCS of x[i..] and y[j..]; one flat typed array keeps 500×500 lines cheap.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  const removed = [];
  const added = [];
  const flush = () => {
    for (const t of removed) out.push({ op: '-', text: t });
    for (const t of added) out.push({ op: '+', text: t });
    removed.length = 0;
    added.length = 0;
  };
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      flush();
      out.push({ op: ' ', text: x[i] });
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i * w + j + 1] >= lcs[(i + 1) * w + j])) {
      added.push(y[j++]);
    } else {
      removed.push(x[i++]);
    }
  }
  flush();
  return out;
}
