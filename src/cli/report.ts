/**
 * The plain-text evaluation table of `agp eval`. (The training report lives in src/report/.)
 */
import type { EvalMethod, EvaluationResult } from '../agp/evaluate.js';
import { METRIC_NAMES } from '../agp/evaluate.js';

const f3 = (n: number) => n.toFixed(3);
const ci = (c: [number, number]) => `[${f3(c[0])}, ${f3(c[1])}]`;

/** The plain-text evaluation table: metrics with CI95, and the paired NDCG@10 difference vs. base. */
export function renderEvalTable(r: EvaluationResult): string {
  const header = ['method', ...METRIC_NAMES.map((m) => `${m} [CI95]`), 'Δndcg@10 vs base [CI95] p', 'failed', 'unparseable'];
  const rows = (Object.entries(r.methods) as Array<[EvalMethod, NonNullable<EvaluationResult['methods'][EvalMethod]>]>).map(([name, ev]) => {
    const d = ev.vsBase?.['ndcg@10'];
    return [
      name,
      ...METRIC_NAMES.map((m) => `${f3(ev.aggregate[m].mean)} ${ci(ev.aggregate[m].ci95)}`),
      d ? `${d.meanDiff >= 0 ? '+' : ''}${f3(d.meanDiff)} ${ci(d.ci95)} p=${d.pValue.toFixed(3)}` : '',
      String(ev.failures),
      String(ev.unparseable),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [`n = ${r.n} users, protocol ${r.protocol}`, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
